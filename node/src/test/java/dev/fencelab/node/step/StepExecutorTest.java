package dev.fencelab.node.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Pause;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.Stub;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The executor's contract: one reply per request, whatever the handler does. */
class StepExecutorTest {
  private static final ActorTestKit testKit = ActorTestKit.create("StepExecutorTest", ConfigFactory.load("application-test"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private StepResult run(Map<Step.ActionCase, StepHandler> handlers, Step step, Duration timeout) {
    var executor = testKit.spawn(StepExecutor.create(handlers));
    TestProbe<StepReply> probe = testKit.createTestProbe();
    executor.tell(new StepExecutor.Run(new ExecuteStep(StepRequest.newBuilder().setRun("r").setStepId("s").setStep(step)
        .setTimeoutNanos(timeout.toNanos()).build(), probe.ref())));
    return probe.receiveMessage(Duration.ofSeconds(10)).result();
  }

  @Test
  void anActionWithoutAHandlerIsEopnotsuppAndNotExecuted() {
    StepResult r = run(Map.of(), Step.newBuilder().setPause(Pause.getDefaultInstance()).build(), Duration.ofSeconds(1));
    assertEquals(Errno.EOPNOTSUPP.negative(), r.getRet());
    assertFalse(r.getExecuted());
  }

  @Test
  void aHandlerThatThrowsAStepFailureAnswersItsErrno() {
    StepResult r = run(Map.of(Step.ActionCase.STUB, call -> {
      throw new StepFailure(Errno.EBADF, "no such fd");
    }), Step.newBuilder().setStub(Stub.getDefaultInstance()).build(), Duration.ofSeconds(1));
    assertEquals(Errno.EBADF.negative(), r.getRet());
    assertEquals("no such fd", r.getDetail());
  }

  @Test
  void aCallThatNeverAnswersEndsWithEtimedout() {
    TestProbe<String> silent = testKit.createTestProbe(); // takes the question, never answers
    StepResult r = run(Map.of(Step.ActionCase.STUB, call -> call.<String, StepResult>ask(silent.ref(), reply -> "anyone?")),
        Step.newBuilder().setStub(Stub.getDefaultInstance()).build(), Duration.ofMillis(200));
    assertEquals(Errno.ETIMEDOUT.negative(), r.getRet());
  }

  @Test
  void aHandlerResultIsAnsweredAsItIs() {
    StepResult r = run(Map.of(Step.ActionCase.STUB, call -> CompletableFuture.completedFuture(StepCall.ret(7).build())),
        Step.newBuilder().setStub(Stub.getDefaultInstance()).build(), Duration.ofSeconds(1));
    assertEquals(7, r.getRet());
    assertTrue(r.getExecuted());
  }

  @Test
  void theActorsOfAForgottenRunAreStopped() {
    java.util.List<org.apache.pekko.actor.typed.ActorRef<Object>> spawned = new java.util.concurrent.CopyOnWriteArrayList<>();
    StepHandler handler = call -> {
      spawned.add(call.spawn(org.apache.pekko.actor.typed.javadsl.Behaviors.<Object>ignore()));
      return CompletableFuture.completedFuture(StepCall.ret(0).build());
    };
    var executor = testKit.spawn(StepExecutor.create(Map.of(Step.ActionCase.STUB, handler)));
    TestProbe<StepReply> replies = testKit.createTestProbe();
    for (int run = 0; run <= 64; run++) { // the executor keeps 64 runs: the 65th forgets the first
      executor.tell(new StepExecutor.Run(new ExecuteStep(StepRequest.newBuilder().setRun("run-" + run).setStepId("s")
          .setStep(Step.newBuilder().setStub(Stub.getDefaultInstance())).build(), replies.ref())));
      replies.receiveMessage(Duration.ofSeconds(5));
    }
    TestProbe<Object> watcher = testKit.createTestProbe();
    watcher.expectTerminated(spawned.get(0), Duration.ofSeconds(5));
  }
}
