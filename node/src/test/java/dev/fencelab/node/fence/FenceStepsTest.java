package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.check.Violations;
import dev.fencelab.node.step.StepExecutor;
import dev.fencelab.node.wire.NodeSerializer;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.AddCallback;
import dev.fencelab.protocol.scenario.v1.CallbackSeen;
import dev.fencelab.protocol.scenario.v1.EnableSignaling;
import dev.fencelab.protocol.scenario.v1.FenceSignal;
import dev.fencelab.protocol.scenario.v1.FindSeqno;
import dev.fencelab.protocol.scenario.v1.GetStatus;
import dev.fencelab.protocol.scenario.v1.IsLater;
import dev.fencelab.protocol.scenario.v1.MockFence;
import dev.fencelab.protocol.scenario.v1.Put;
import dev.fencelab.protocol.scenario.v1.RemoveCallback;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.WaitAny;
import dev.fencelab.protocol.scenario.v1.WaitTimeout;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fence-API steps (kernel-semantics §1.1–§1.8) through a real step executor, with serialize-messages on: each test
 * is one selftest assertion, made the way a scenario makes it.
 */
class FenceStepsTest {
  private static FenceFixture fx;
  private static FenceSteps handler;
  private final dev.fencelab.node.step.StepHarness steps = new dev.fencelab.node.step.StepHarness(fx.testKit, handler, FenceSteps.actions());

  @BeforeAll
  static void start() {
    fx = new FenceFixture("FenceStepsTest");
    handler = new FenceSteps(fx.services, fx.containers(), new FenceNames(NodeSerializer.of(fx.testKit.system())));
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  private StepResult call(Step.Builder step) {
    return steps.call(step);
  }

  private StepResult fence(String name, String ops) {
    return call(Step.newBuilder().setFence(MockFence.newBuilder().setAs(name).setEnableSignaling(ops)));
  }

  private StepResult signal(String name) {
    return call(Step.newBuilder().setSignal(FenceSignal.newBuilder().setFence(name)));
  }

  private long status(String name) {
    return call(Step.newBuilder().setGetStatus(GetStatus.newBuilder().setFence(name))).getRet();
  }

  private Violation nextViolation() {
    return ((Violations.Report) fx.violations.receiveMessage(Duration.ofSeconds(10))).violation();
  }

  @Test
  void signalReturnsZeroThenEinvalForTheSecondSignal() {
    fence("f", "");
    assertEquals(0, signal("f").getRet());
    assertEquals(Errno.EINVAL.negative(), signal("f").getRet());
    assertEquals(Violation.Kind.DOUBLE_SIGNAL, nextViolation().kind());
  }

  @Test
  void anErrorIsHiddenUntilTheFenceSignals() {
    fence("f", "");
    call(Step.newBuilder().setSetError(dev.fencelab.protocol.scenario.v1.FenceSetError.newBuilder().setFence("f").setError("EIO")));
    assertEquals(0, status("f"));
    signal("f");
    assertEquals(Errno.EIO.negative(), status("f"));
  }

  @Test
  void addCallbackAfterSignalIsEnoentAndTheCallbackNeverRuns() {
    fence("f", "");
    signal("f");
    StepResult added = call(Step.newBuilder().setAddCallback(AddCallback.newBuilder().setFence("f").setAs("cb")));
    assertEquals(Errno.ENOENT.negative(), added.getRet());
    assertFalse(call(Step.newBuilder().setCallbackSeen(CallbackSeen.newBuilder().setCallback("cb"))).getValue().getFlag());
  }

  @Test
  void removeCallbackBeforeSignalIsTrueAndTheCallbackDoesNotRun() {
    fence("f", "");
    assertEquals(0, call(Step.newBuilder().setAddCallback(AddCallback.newBuilder().setFence("f").setAs("cb"))).getRet());
    assertTrue(call(Step.newBuilder().setRemoveCallback(RemoveCallback.newBuilder().setCallback("cb"))).getValue().getFlag());
    signal("f");
    assertFalse(call(Step.newBuilder().setCallbackSeen(CallbackSeen.newBuilder().setCallback("cb"))).getValue().getFlag());
  }

  @Test
  void removeCallbackAfterItRanIsFalse() {
    fence("f", "");
    call(Step.newBuilder().setAddCallback(AddCallback.newBuilder().setFence("f").setAs("cb")));
    signal("f");
    assertTrue(call(Step.newBuilder().setCallbackSeen(CallbackSeen.newBuilder().setCallback("cb"))).getValue().getFlag());
    assertFalse(call(Step.newBuilder().setRemoveCallback(RemoveCallback.newBuilder().setCallback("cb"))).getValue().getFlag());
  }

  @Test
  void aRefusingEnableSignalingOpSignalsTheFenceAtOnce() {
    fence("f", "refusing");
    assertEquals(0, status("f"));
    call(Step.newBuilder().setEnableSignaling(EnableSignaling.newBuilder().setFence("f")));
    assertEquals(1, status("f"));
  }

  @Test
  void theEnableSignalingOpRunsOncePerLifetime() {
    fence("f", "counting");
    call(Step.newBuilder().setEnableSignaling(EnableSignaling.newBuilder().setFence("f")));
    StepResult second = call(Step.newBuilder().setEnableSignaling(EnableSignaling.newBuilder().setFence("f")));
    assertEquals(1, second.getValue().getNumber());
    signal("f");
  }

  @Test
  void aNegativeWaitTimeoutIsEinval() {
    fence("f", "");
    assertEquals(Errno.EINVAL.negative(), call(Step.newBuilder().setWaitTimeout(WaitTimeout.newBuilder().setFence("f").setTimeout("-1ms"))).getRet());
    signal("f");
  }

  @Test
  void aZeroWaitOnAPendingFenceTimesOutAndOnASignalledOneIsPositive() {
    fence("f", "");
    StepResult pending = call(Step.newBuilder().setWaitTimeout(WaitTimeout.newBuilder().setFence("f").setTimeout("0ms")));
    assertEquals(0, pending.getRet());
    assertEquals("timeout", pending.getResult());
    signal("f");
    StepResult done = call(Step.newBuilder().setWaitTimeout(WaitTimeout.newBuilder().setFence("f").setTimeout("0ms")));
    assertTrue(done.getRet() > 0, done.toString());
  }

  @Test
  void waitAnyOfNoFencesIsEinval() {
    assertEquals(Errno.EINVAL.negative(), call(Step.newBuilder().setWaitAny(WaitAny.newBuilder().setTimeout("1ms"))).getRet());
  }

  @Test
  void waitAnyReportsTheIndexOfTheSignalledFence() {
    fence("a", "");
    fence("b", "");
    signal("b");
    StepResult r = call(Step.newBuilder().setWaitAny(WaitAny.newBuilder().addFences("a").addFences("b").setTimeout("1s")));
    assertTrue(r.getRet() > 0, r.toString());
    assertEquals(1, r.getValue().getNumber());
    signal("a");
  }

  @Test
  void puttingAPendingFenceWithACallbackSignalsItWithEdeadlkAndWarns() {
    fence("f", "");
    call(Step.newBuilder().setAddCallback(AddCallback.newBuilder().setFence("f").setAs("cb")));
    call(Step.newBuilder().setPut(Put.newBuilder().setFence("f")));
    assertEquals(Violation.Kind.RELEASED_WITH_PENDING_CALLBACKS, nextViolation().kind());
    assertEquals(Errno.EDEADLK.negative(), status("f"));
  }

  @Test
  void isLaterOfTwoContextsIsFalseWithAWarning() {
    fence("a", "");
    fence("b", "");
    StepResult r = call(Step.newBuilder().setIsLater(IsLater.newBuilder().setA("a").setB("b")));
    assertFalse(r.getValue().getFlag());
    assertEquals(Violation.Kind.CONTEXT_MISMATCH, nextViolation().kind());
    signal("a");
    signal("b");
  }

  @Test
  void findSeqnoOnALeafIsEinval() {
    fence("f", "");
    assertEquals(Errno.EINVAL.negative(), call(Step.newBuilder().setFindSeqno(FindSeqno.newBuilder().setFence("f").setSeqno(1))).getRet());
    signal("f");
  }

  @Test
  void anUnknownFenceNameIsEnoentAndTheCallIsNotMade() {
    StepResult r = signal("nobody");
    assertEquals(Errno.ENOENT.negative(), r.getRet());
    assertFalse(r.getExecuted());
  }

  @Test
  void aPutChainStillSignalsWhenItsFenceDoes() {
    fence("f", "");
    call(Step.newBuilder().setChain(dev.fencelab.protocol.scenario.v1.FenceChain.newBuilder().setFence("f").setSeqno(1).setAs("c")));
    call(Step.newBuilder().setPut(Put.newBuilder().setFence("c")));
    signal("f");
    fx.testKit.createTestProbe().awaitAssert(() -> {
      assertEquals(1, status("c"));
      return null;
    });
  }
}
