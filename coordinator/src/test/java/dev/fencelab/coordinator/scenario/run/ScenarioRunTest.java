package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.control.CollectTrace;
import dev.fencelab.protocol.control.ListWaits;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.control.ReleaseRun;
import dev.fencelab.protocol.control.TracePage;
import dev.fencelab.protocol.control.WaitsListed;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Node;
import dev.fencelab.protocol.scenario.v1.Process;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.TimelineCreate;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceChunk;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The run's actor against a node agent that answers the protocol but refuses to place devices. */
class ScenarioRunTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("scenario-run-test", ConfigFactory.load("application-test"));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A node agent whose every placement fails with -ENOMEM; it answers pings, wait lists and trace pages. */
  private static Behavior<NodeControl> refusingAgent(ActorRef<ReleaseRun> released) {
    return Behaviors.receive(NodeControl.class)
        .onMessage(Ping.class, p -> {
          p.replyTo().tell(new Pong("n1", p.seq(), p.sentMonoNanos(), 0, System.nanoTime()));
          return Behaviors.same();
        })
        .onMessage(ExecuteStep.class, e -> {
          if (e.request().getPlace().getPcieFabric()) { // the fabric is placed; the device then fails
            e.replyTo().tell(new StepReply(StepResult.newBuilder().setRet(0).setExecuted(true).build()));
            return Behaviors.same();
          }
          e.replyTo().tell(new StepReply(StepResult.newBuilder().setRet(-12).setExecuted(true).setDetail("device gpu on n1: -ENOMEM").build()));
          return Behaviors.same();
        })
        .onMessage(ListWaits.class, l -> {
          l.replyTo().tell(new WaitsListed("n1", List.of()));
          return Behaviors.same();
        })
        .onMessage(CollectTrace.class, c -> {
          c.replyTo().tell(new TracePage(TraceChunk.newBuilder().setNode("n1").setDone(true).build()));
          return Behaviors.same();
        })
        .onMessage(ReleaseRun.class, r -> {
          released.tell(r);
          return Behaviors.same();
        })
        .build();
  }

  @Test
  void aRunWhosePlacementFailsEndsWithARecordThatSaysItWasAbortedAndReleasesItsNodes() throws Exception {
    TestProbe<ReleaseRun> released = testKit.createTestProbe();
    ActorRef<NodeControl> agent = testKit.spawn(refusingAgent(released.ref()));
    Scenario s = Scenario.newBuilder().setName("t").addNodes(Node.newBuilder().setName("n1"))
        .addDevices(Device.newBuilder().setName("gpu").setNode("n1")).addProcesses(Process.newBuilder().setName("p").setNode("n1"))
        .addSteps(Step.newBuilder().setId("tl").setProcess("p").setTimeline(TimelineCreate.newBuilder().setName("t"))).build();
    CompletableFuture<RunRecord> result = new CompletableFuture<>();
    testKit.spawn(ScenarioRun.create(new ScenarioRun.Params(s, List.of(), 1, "asap", "tag1", Map.of("n1", agent),
        (node, a) -> "not killed", line -> {}, Duration.ofSeconds(5), result)));

    RunRecord record = result.get(20, TimeUnit.SECONDS);

    assertTrue(record.getAborted().startsWith("placement failed: device gpu on n1: -ENOMEM"), record.getAborted());
    assertEquals(1, record.getStepsCount());
    assertTrue(record.getSteps(0).getSkipped() && record.getSteps(0).getDetail().startsWith("not run: the run was aborted"),
        record.getSteps(0).toString());
    assertEquals("tag1", released.receiveMessage(Duration.ofSeconds(5)).tag());
  }

  @Test
  void aPauseStepIsTheRunnersOwnAndNoNodeIsAskedToMakeIt() throws Exception {
    TestProbe<ReleaseRun> released = testKit.createTestProbe();
    ActorRef<NodeControl> agent = testKit.spawn(refusingAgent(released.ref()));
    Scenario s = Scenario.newBuilder().setName("t").addNodes(Node.newBuilder().setName("n1"))
        .addSteps(Step.newBuilder().setId("hold").setPause(dev.fencelab.protocol.scenario.v1.Pause.newBuilder().setDuration("20ms"))).build();
    CompletableFuture<RunRecord> result = new CompletableFuture<>();
    testKit.spawn(ScenarioRun.create(new ScenarioRun.Params(s, List.of(), 1, "asap", "tag2", Map.of("n1", agent),
        (node, a) -> "not killed", line -> {}, Duration.ofSeconds(5), result)));

    RunRecord record = result.get(20, TimeUnit.SECONDS);

    assertEquals(0, record.getSteps(0).getStatus(), record.getSteps(0).toString()); // the refusing agent would have failed it
    assertTrue(record.getSteps(0).getDetail().startsWith("paused 20"), record.getSteps(0).toString());
  }
}
