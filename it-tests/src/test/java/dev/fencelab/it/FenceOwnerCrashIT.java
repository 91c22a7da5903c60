package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.Errno;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestClient;
import dev.fencelab.testkit.TestCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hot unplug by SIGKILL: waiters on the survivors see the dead member's pending fences as signalled with ENODEV. */
class FenceOwnerCrashIT {
  /** Local profile: unreachable after ~2-3 s, downed by SBR 2 s later, removed ~1 s after: well inside this. */
  private static final Duration FAILURE_DETECTION_BOUND = Duration.ofSeconds(30);

  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void shouldSignalEveryRemoteWaiterWithEnodevWhenOwnerNodeIsKilled() {
    TestCluster cluster = logs.track(TestCluster.builder("fence-owner-crash").nodes(3).start());
    try (TestClient client = TestClient.join(cluster)) {
      TestProbe<FenceControl.TimelineSpawned> spawned = client.testKit().createTestProbe();
      client.agent("n3").tell(new FenceControl.SpawnTimeline(FenceControl.TimelineKind.DRIVER, "doomed", spawned.ref()));
      var ring = spawned.receiveMessage(Duration.ofSeconds(10)).owner();
      TestProbe<FenceRef> created = client.testKit().createTestProbe();
      ring.tell(new FenceTimeline.CreateFence(created.ref()));
      FenceRef fence = created.receiveMessage(Duration.ofSeconds(10));
      TestProbe<WaitResult> onN1 = client.testKit().createTestProbe();
      TestProbe<WaitResult> onN2 = client.testKit().createTestProbe();
      client.agent("n1").tell(new FenceControl.WaitFence(fence, -1, "proc1", "unbounded wait", onN1.ref()));
      client.agent("n2").tell(new FenceControl.WaitFence(fence, Duration.ofMinutes(2).toNanos(), "proc2", "bounded wait", onN2.ref()));
      onN1.expectNoMessage(Duration.ofMillis(500));

      long killedAt = System.nanoTime();
      cluster.kill("n3");

      for (TestProbe<WaitResult> waiter : java.util.List.of(onN1, onN2)) {
        WaitResult r = waiter.receiveMessage(FAILURE_DETECTION_BOUND);
        assertTrue(r.signalled(), r.toString());
        assertEquals(Errno.ENODEV, r.status().error(), r.toString());
      }
      System.out.printf("ENODEV reached both waiters %d ms after SIGKILL%n", (System.nanoTime() - killedAt) / 1_000_000);
    }
  }

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void shouldStillReportFenceSignalledBeforeItsNodeDiedAsSignalledWithoutError() {
    TestCluster cluster = logs.track(TestCluster.builder("fence-owner-crash-after").nodes(2).start());
    try (TestClient client = TestClient.join(cluster)) {
      TestProbe<FenceControl.TimelineSpawned> spawned = client.testKit().createTestProbe();
      client.agent("n2").tell(new FenceControl.SpawnTimeline(FenceControl.TimelineKind.DRIVER, "done", spawned.ref()));
      ContextOwnerRef ring = new ContextOwnerRef(spawned.receiveMessage(Duration.ofSeconds(10)).owner());
      TestProbe<FenceRef> created = client.testKit().createTestProbe();
      ring.owner().tell(new FenceTimeline.CreateFence(created.ref()));
      FenceRef fence = created.receiveMessage(Duration.ofSeconds(10));
      TestProbe<WaitResult> first = client.testKit().createTestProbe();
      client.agent("n1").tell(new FenceControl.WaitFence(fence, Duration.ofMinutes(1).toNanos(), "proc1", "wait", first.ref()));
      ring.owner().tell(new FenceTimeline.SignalFence(fence.id().seqno(), 0, 0, null));
      assertEquals(1, first.receiveMessage(Duration.ofSeconds(10)).status().value());

      cluster.kill("n2");

      // The waiter already has its answer; the death afterwards does not turn it into an error.
      first.expectNoMessage(Duration.ofSeconds(1));
    }
  }

  private record ContextOwnerRef(org.apache.pekko.actor.typed.ActorRef<ContextOwner.Command> owner) {}
}
