package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Waits: kernel-semantics §1.5 outcomes, and "no waiter ever hangs". */
class FenceWaitTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> timeline;

  @BeforeEach
  void start() {
    fx = new FenceFixture("fence-wait-test", Duration.ofMillis(500));
    timeline = fx.timeline();
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  @Test
  void shouldReturnRemainingTimeoutWhenFenceSignalsDuringWait() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();
    fx.testKit.spawn(FenceWait.create(fence, Duration.ofSeconds(10), "w", "test", probe.ref(), fx.services));

    fx.signal(timeline, fence, 0);

    WaitResult r = probe.receiveMessage();
    assertTrue(r.result() > 0 && r.result() <= Duration.ofSeconds(10).toNanos(), "remaining " + r.result());
    assertEquals(1, r.status().value());
  }

  @Test
  void shouldReturnZeroWhenWaitTimesOut() {
    FenceRef fence = fx.createFence(timeline);

    WaitResult r = fx.await(fence, Duration.ofMillis(100));

    assertEquals(0, r.result());
    assertEquals(0, r.status().value());
  }

  @Test
  void shouldReturnZeroWhenPollingPendingFence() {
    FenceRef fence = fx.createFence(timeline);

    assertEquals(0, fx.await(fence, Duration.ZERO).result());
  }

  @Test
  void shouldReturnOneWhenPollingSignalledFence() {
    FenceRef fence = fx.createFence(timeline);
    fx.signal(timeline, fence, 0);

    assertEquals(1, fx.await(fence, Duration.ZERO).result(), "ret = timeout ? timeout : 1");
  }

  @Test
  void shouldRejectNegativeTimeoutWithEinval() {
    FenceRef fence = fx.createFence(timeline);

    assertEquals(Errno.EINVAL.negative(), fx.await(fence, Duration.ofMillis(-1)).result());
  }

  @Test
  void shouldNotReturnFenceErrorAsWaitResult() {
    FenceRef fence = fx.createFence(timeline);
    fx.signal(timeline, fence, Errno.EIO.negative());

    WaitResult r = fx.await(fence, Duration.ofSeconds(1));

    assertTrue(r.result() > 0, "the wait succeeded: " + r);
    assertEquals(Errno.EIO, r.status().error(), "the error is in the status, read separately");
  }

  @Test
  void shouldSignalStubAtOnce() {
    WaitResult r = fx.await(FenceRef.stub(), Duration.ZERO);

    assertEquals(1, r.result());
    assertEquals(1, r.status().value());
  }

  @Test
  void shouldEndUnboundedWaitAtWaitCapAndReportIt() {
    FenceRef fence = fx.createFence(timeline);

    WaitResult r = fx.await(fence, null);

    assertEquals(0, r.result());
    fx.expectViolation(Violation.Kind.WAIT_CAP_EXCEEDED);
  }

  @Test
  void shouldListPendingWaitAsEdgeUntilItEnds() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();
    fx.testKit.spawn(FenceWait.create(fence, Duration.ofSeconds(10), "n2/proc1", "sync_file poll", probe.ref(), fx.services));

    probe.awaitAssert(() -> {
      List<WaitGraph.Edge> edges = fx.pendingWaits();
      assertEquals(1, edges.size());
      assertEquals("n2/proc1", edges.get(0).waiter());
      assertEquals(fence.id().toString(), edges.get(0).fence());
      assertEquals("sync_file poll", edges.get(0).reason());
      return null;
    });
    fx.signal(timeline, fence, 0);
    probe.receiveMessage();

    probe.awaitAssert(() -> {
      assertEquals(List.of(), fx.pendingWaits());
      return null;
    });
  }

  @Test
  void shouldSeeFenceAsSignalledWithEnodevWhenFenceAndOwnerVanish() {
    // Stand-ins for a fence and owner on a member that died: both go away without a word.
    TestProbe<FenceProtocol.Command> fenceActor = fx.testKit.createTestProbe();
    TestProbe<ContextOwner.Command> owner = fx.testKit.createTestProbe();
    FenceRef fence = new FenceRef(new FenceId(new FenceContext(9, 9), 1), FenceRef.Kind.HARDWARE, false,
        fenceActor.ref(), owner.ref(), 0);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();
    fx.testKit.spawn(FenceWait.create(fence, Duration.ofSeconds(30), "w", "test", probe.ref(), fx.services));
    fenceActor.expectMessageClass(FenceProtocol.AddCallback.class);

    fenceActor.stop();
    owner.expectMessageClass(ContextOwner.QueryCompletion.class);
    owner.stop();

    WaitResult r = probe.receiveMessage();
    assertTrue(r.signalled());
    assertEquals(Errno.ENODEV, r.status().error());
  }

  @Test
  void shouldAskOwnerForStatusWhenFenceActorIsAlreadyGone() {
    FenceRef fence = fx.createFence(timeline);
    fx.signal(timeline, fence, Errno.ECANCELED.negative());
    fx.await(fence, Duration.ofSeconds(1)); // the fence actor has stopped by now or soon

    WaitResult late = fx.await(fence, Duration.ofSeconds(1));

    assertTrue(late.signalled());
    assertEquals(Errno.ECANCELED, late.status().error());
  }

  @Test
  void shouldRejectEmptyWaitAnyWithEinval() {
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();

    fx.testKit.spawn(FenceWaitAny.create(List.of(), Duration.ofSeconds(1), "w", "test", probe.ref(), fx.services));

    assertEquals(Errno.EINVAL.negative(), probe.receiveMessage().result());
  }

  @Test
  void shouldReturnIndexOfFirstFenceToSignalInWaitAny() {
    FenceRef a = fx.createFence(timeline);
    ActorRef<ContextOwner.Command> other = fx.timeline();
    FenceRef b = fx.createFence(other);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();
    fx.testKit.spawn(FenceWaitAny.create(List.of(a, b), Duration.ofSeconds(5), "w", "test", probe.ref(), fx.services));

    fx.signal(other, b, 0);

    WaitResult r = probe.receiveMessage();
    assertTrue(r.result() > 0);
    assertEquals(1, r.index());
    assertEquals(b.id(), r.id());
  }

  @Test
  void shouldReturnLowestSignalledIndexWhenPollingWaitAny() {
    FenceRef a = fx.createFence(timeline);
    ActorRef<ContextOwner.Command> t2 = fx.timeline();
    FenceRef b = fx.createFence(t2);
    ActorRef<ContextOwner.Command> t3 = fx.timeline();
    FenceRef c = fx.createFence(t3);
    fx.signal(t3, c, 0);
    fx.signal(t2, b, 0);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();

    fx.testKit.spawn(FenceWaitAny.create(List.of(a, b, c), Duration.ZERO, "w", "test", probe.ref(), fx.services));

    WaitResult r = probe.receiveMessage();
    assertEquals(1, r.result());
    assertEquals(1, r.index());
  }

  @Test
  void shouldReturnZeroWhenWaitAnyTimesOut() {
    FenceRef a = fx.createFence(timeline);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();

    fx.testKit.spawn(FenceWaitAny.create(List.of(a), Duration.ofMillis(100), "w", "test", probe.ref(), fx.services));

    WaitResult r = probe.receiveMessage();
    assertEquals(0, r.result());
    assertEquals(-1, r.index());
  }
}
