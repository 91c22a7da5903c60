package dev.fencelab.it;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.sync.SwSyncTimeline;
import dev.fencelab.protocol.Errno;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestClient;
import dev.fencelab.testkit.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Fences signalled on one member, waited on from another: real JVMs, Artery TCP, protobuf. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CrossNodeFenceIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs(false);

  private TestCluster cluster;
  private TestClient client;

  @BeforeAll
  void start() {
    cluster = TestCluster.builder("cross-node-fence").nodes(3).start();
    logs.track(cluster.dir());
    client = TestClient.join(cluster);
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private ActorRef<ContextOwner.Command> timeline(String node, FenceControl.TimelineKind kind, String name) {
    TestProbe<FenceControl.TimelineSpawned> probe = client.testKit().createTestProbe();
    client.agent(node).tell(new FenceControl.SpawnTimeline(kind, name, probe.ref()));
    FenceControl.TimelineSpawned spawned = probe.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, spawned.error());
    return spawned.owner();
  }

  private FenceRef createFence(ActorRef<ContextOwner.Command> owner) {
    TestProbe<FenceRef> probe = client.testKit().createTestProbe();
    owner.tell(new FenceTimeline.CreateFence(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  @Test
  void shouldWakeWaiterOnNode2WithStatusOfFenceSignalledOnNode3() {
    ActorRef<ContextOwner.Command> ring = timeline("n3", FenceControl.TimelineKind.DRIVER, "gfx-ring");
    FenceRef fence = createFence(ring);
    TestProbe<WaitResult> waiter = client.testKit().createTestProbe();
    client.agent("n2").tell(new FenceControl.WaitFence(fence, Duration.ofSeconds(60).toNanos(), "proc1", "wait ioctl", waiter.ref()));
    waiter.expectNoMessage(Duration.ofMillis(300));

    TestProbe<FenceProtocol.SignalResult> signalled = client.testKit().createTestProbe();
    ring.tell(new FenceTimeline.SignalFence(fence.id().seqno(), Errno.ETIME.negative(), 0, signalled.ref()));

    assertEquals(0, signalled.receiveMessage(Duration.ofSeconds(10)).result());
    WaitResult r = waiter.receiveMessage(Duration.ofSeconds(10));
    assertTrue(r.signalled(), r.toString());
    assertEquals(Errno.ETIME, r.status().error(), "the fence's error crosses the wire with the signal");
    assertEquals(fence.id(), r.id());
  }

  @Test
  void shouldWakeWaiterOnNode1WhenSwSyncTimelineOnNode2IsIncremented() {
    ActorRef<ContextOwner.Command> tl = timeline("n2", FenceControl.TimelineKind.SW_SYNC, "sw-sync-0");
    TestProbe<SwSyncTimeline.PointCreated> created = client.testKit().createTestProbe();
    tl.tell(new SwSyncTimeline.CreatePoint(3, "pt3", created.ref()));
    FenceRef point = created.receiveMessage(Duration.ofSeconds(10)).fence();
    TestProbe<WaitResult> waiter = client.testKit().createTestProbe();
    client.agent("n1").tell(new FenceControl.WaitFence(point, Duration.ofSeconds(60).toNanos(), "proc2", "sync_file poll", waiter.ref()));

    tl.tell(new SwSyncTimeline.Inc(2));
    waiter.expectNoMessage(Duration.ofMillis(300));
    tl.tell(new SwSyncTimeline.Inc(1));

    WaitResult r = waiter.receiveMessage(Duration.ofSeconds(10));
    assertTrue(r.signalled(), r.toString());
    assertEquals(1, r.status().value());
  }

  @Test
  void shouldListRemoteWaitAsPendingEdgeOnTheWaitersNode() {
    ActorRef<ContextOwner.Command> ring = timeline("n1", FenceControl.TimelineKind.DRIVER, "copy-ring");
    FenceRef fence = createFence(ring);
    TestProbe<WaitResult> waiter = client.testKit().createTestProbe();
    client.agent("n3").tell(new FenceControl.WaitFence(fence, Duration.ofSeconds(60).toNanos(), "proc3", "job in-fence", waiter.ref()));
    TestProbe<dev.fencelab.protocol.control.WaitsListed> listed = client.testKit().createTestProbe();

    dev.fencelab.protocol.control.WaitsListed waits = listed.awaitAssert(Duration.ofSeconds(10), () -> {
      client.agent("n3").tell(new dev.fencelab.protocol.control.ListWaits(listed.ref()));
      dev.fencelab.protocol.control.WaitsListed l = listed.receiveMessage(Duration.ofSeconds(5));
      assertTrue(l.edges().stream().anyMatch(e -> e.getFence().equals(fence.id().toString())), l.toString());
      return l;
    });

    assertEquals("n3", waits.nodeName());
    var edge = waits.edges().stream().filter(e -> e.getFence().equals(fence.id().toString())).findFirst().orElseThrow();
    assertEquals("n3/proc3", edge.getWaiter());
    assertEquals("job in-fence", edge.getReason());
    assertEquals(cluster.member("n1").address(), edge.getFenceAddress());
    ring.tell(new FenceTimeline.SignalFence(fence.id().seqno(), 0, 0, null));
    assertTrue(waiter.receiveMessage(Duration.ofSeconds(10)).signalled());
  }

  @Test
  void shouldSignalArrayWhoseMembersLiveOnThreeNodesWithFirstMemberError() {
    ActorRef<ContextOwner.Command> r1 = timeline("n1", FenceControl.TimelineKind.DRIVER, "arr-1");
    ActorRef<ContextOwner.Command> r2 = timeline("n2", FenceControl.TimelineKind.DRIVER, "arr-2");
    ActorRef<ContextOwner.Command> r3 = timeline("n3", FenceControl.TimelineKind.DRIVER, "arr-3");
    FenceRef f1 = createFence(r1);
    FenceRef f2 = createFence(r2);
    FenceRef f3 = createFence(r3);
    ActorRef<ContextOwner.Command> containers = timeline("n1", FenceControl.TimelineKind.CONTAINERS, "arrays");
    TestProbe<FenceRef> created = client.testKit().createTestProbe();
    containers.tell(new Containers.CreateArray(List.of(f1, f2, f3), false, null, 1, created.ref()));
    FenceRef array = created.receiveMessage(Duration.ofSeconds(10));
    TestProbe<WaitResult> waiter = client.testKit().createTestProbe();
    client.agent("n2").tell(new FenceControl.WaitFence(array, Duration.ofSeconds(60).toNanos(), "proc5", "array wait", waiter.ref()));

    r3.tell(new FenceTimeline.SignalFence(f3.id().seqno(), Errno.ECANCELED.negative(), 0, null));
    r1.tell(new FenceTimeline.SignalFence(f1.id().seqno(), 0, 0, null));
    waiter.expectNoMessage(Duration.ofMillis(300));
    r2.tell(new FenceTimeline.SignalFence(f2.id().seqno(), Errno.EIO.negative(), 0, null));

    WaitResult r = waiter.receiveMessage(Duration.ofSeconds(10));
    assertTrue(r.signalled(), r.toString());
    assertEquals(Errno.ECANCELED, r.status().error(), "the first error in completion order");
  }

  @Test
  void shouldPassSyncFileFromProcessOnNode1ToProcessOnNode2AndMergeItThere() {
    ActorRef<ContextOwner.Command> ringN3 = timeline("n3", FenceControl.TimelineKind.DRIVER, "sf-3");
    ActorRef<ContextOwner.Command> ringN2 = timeline("n2", FenceControl.TimelineKind.DRIVER, "sf-2");
    FenceRef fenceA = createFence(ringN3);
    FenceRef fenceB = createFence(ringN2);
    ActorRef<ProcessProtocol.Command> p1 = process("n1", "producer");
    ActorRef<ProcessProtocol.Command> p2 = process("n2", "consumer");
    TestProbe<ProcessProtocol.FdReply> fds = client.testKit().createTestProbe();
    p1.tell(new ProcessProtocol.SyncFileCreate(fenceA, "fence_A", fds.ref()));
    int fdA = fds.receiveMessage(Duration.ofSeconds(10)).fd();
    p2.tell(new ProcessProtocol.SyncFileCreate(fenceB, "fence_B", fds.ref()));
    int fdB = fds.receiveMessage(Duration.ofSeconds(10)).fd();

    p1.tell(new ProcessProtocol.SendFd(fdA, p2, fds.ref()));
    int passed = fds.receiveMessage(Duration.ofSeconds(10)).fd();
    p2.tell(new ProcessProtocol.SyncMerge(passed, fdB, "A+B", 0, 0, fds.ref()));
    int merged = fds.receiveMessage(Duration.ofSeconds(10)).fd();
    TestProbe<ProcessProtocol.FileInfo> info = client.testKit().createTestProbe();
    p2.tell(new ProcessProtocol.SyncFileInfo(merged, 0, 0, 0, info.ref()));
    assertEquals(2, info.receiveMessage(Duration.ofSeconds(10)).numFences(), "one leaf from each node");
    TestProbe<ProcessProtocol.PollResult> poll = client.testKit().createTestProbe();
    p2.tell(new ProcessProtocol.SyncFileWait(merged, 30_000, poll.ref()));

    ringN3.tell(new FenceTimeline.SignalFence(fenceA.id().seqno(), 0, 0, null));
    poll.expectNoMessage(Duration.ofMillis(300));
    ringN2.tell(new FenceTimeline.SignalFence(fenceB.id().seqno(), 0, 0, null));

    ProcessProtocol.PollResult ready = poll.receiveMessage(Duration.ofSeconds(10));
    assertEquals(1, ready.result());
    assertEquals(1, ready.status().value());
  }

  private ActorRef<ProcessProtocol.Command> process(String node, String name) {
    TestProbe<FenceControl.ProcessSpawned> probe = client.testKit().createTestProbe();
    client.agent(node).tell(new FenceControl.SpawnProcess(name, probe.ref()));
    FenceControl.ProcessSpawned spawned = probe.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, spawned.error());
    return spawned.process();
  }

  @Test
  void shouldReturnIndexOfFenceThatSignalledFirstInWaitAnyAcrossNodes() {
    FenceRef onN1 = createFence(timeline("n1", FenceControl.TimelineKind.DRIVER, "any-1"));
    ActorRef<ContextOwner.Command> ringN3 = timeline("n3", FenceControl.TimelineKind.DRIVER, "any-3");
    FenceRef onN3 = createFence(ringN3);
    TestProbe<WaitResult> waiter = client.testKit().createTestProbe();
    client.agent("n2").tell(new FenceControl.WaitAnyFence(List.of(onN1, onN3), Duration.ofSeconds(60).toNanos(), "proc4", "wait any", waiter.ref()));

    ringN3.tell(new FenceTimeline.SignalFence(onN3.id().seqno(), 0, 0, null));

    WaitResult r = waiter.receiveMessage(Duration.ofSeconds(10));
    assertTrue(r.signalled(), r.toString());
    assertEquals(1, r.index());
  }
}
