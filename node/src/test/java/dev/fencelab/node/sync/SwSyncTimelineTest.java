package dev.fencelab.node.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** sw_sync timelines, kernel-semantics §1.11. */
class SwSyncTimelineTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> timeline;

  @BeforeEach
  void start() {
    fx = new FenceFixture("sw-sync-test");
    timeline = fx.testKit.spawn(SwSyncTimeline.create(fx.services));
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  private SwSyncTimeline.PointCreated point(long value) {
    TestProbe<SwSyncTimeline.PointCreated> probe = fx.testKit.createTestProbe();
    timeline.tell(new SwSyncTimeline.CreatePoint(value, "pt" + value, probe.ref()));
    return probe.receiveMessage();
  }

  /** A poll: meaningful only once whatever could have signalled the fence has been processed. */
  private int statusOf(FenceRef fence) {
    return fx.await(fence, Duration.ZERO).status().value();
  }

  /** Waits (bounded) for the fence to signal and returns its status. */
  private int awaitSignalled(FenceRef fence) {
    WaitResult r = fx.await(fence, Duration.ofSeconds(5));
    assertTrue(r.signalled(), fence + " signalled: " + r);
    return r.status().value();
  }

  @Test
  void shouldCreatePointNotLaterThanTimelineAlreadySignalled() {
    timeline.tell(new SwSyncTimeline.Inc(5));

    FenceRef f = point(3).fence();

    assertEquals(1, statusOf(f));
  }

  @Test
  void shouldReturnSameFenceForSamePendingValue() {
    FenceRef first = point(10).fence();
    FenceRef second = point(10).fence();

    assertEquals(first, second);
    assertEquals(first.actor(), second.actor());
  }

  @Test
  void shouldSignalPointsInSeqnoOrderUpToTheNewValueOnInc() {
    FenceRef p1 = point(1).fence();
    FenceRef p2 = point(2).fence();
    FenceRef p5 = point(5).fence();

    timeline.tell(new SwSyncTimeline.Inc(2));

    assertEquals(1, awaitSignalled(p1));
    assertEquals(1, awaitSignalled(p2));
    assertEquals(0, statusOf(p5), "the inc has been processed (points 1 and 2 signalled); point 5 is not due");
  }

  @Test
  void shouldSignalPendingPointsWithEnoentWhenClosed() {
    FenceRef p = point(7).fence();
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    fx.testKit.spawn(dev.fencelab.node.fence.FenceWait.create(p, Duration.ofSeconds(5), "w", "test", waiter.ref(), fx.services));

    timeline.tell(SwSyncTimeline.Close.INSTANCE);

    WaitResult r = waiter.receiveMessage();
    assertTrue(r.signalled());
    assertEquals(Errno.ENOENT, r.status().error());
  }

  @Test
  void shouldRefuseNewPointsAfterCloseWithEbadf() {
    timeline.tell(SwSyncTimeline.Close.INSTANCE);

    assertEquals(Errno.EBADF.negative(), point(1).error());
  }

  @Test
  void shouldCompareValuesWithWrapAroundWhenIncrementingPastU32Max() {
    timeline.tell(new SwSyncTimeline.Inc(0xFFFFFFFEL));
    FenceRef afterWrap = point(1).fence(); // later than 0xFFFFFFFE in 32-bit wrap-around order

    assertEquals(0, statusOf(afterWrap), "created after the first inc was processed, so the poll is meaningful");
    timeline.tell(new SwSyncTimeline.Inc(3)); // value wraps to 1

    assertEquals(1, awaitSignalled(afterWrap));
  }

  @Test
  void shouldReportEarliestDeadlineOfItsFence() {
    FenceRef p = point(4).fence();
    p.actor().tell(new FenceProtocol.SetDeadline(900));
    p.actor().tell(new FenceProtocol.SetDeadline(400));
    TestProbe<SwSyncTimeline.DeadlineReply> probe = fx.testKit.createTestProbe();

    probe.awaitAssert(() -> {
      timeline.tell(new SwSyncTimeline.GetDeadline(p, probe.ref()));
      SwSyncTimeline.DeadlineReply reply = probe.receiveMessage();
      assertEquals(0, reply.error());
      assertEquals(400, reply.deadlineNanos());
      return null;
    });
  }

  @Test
  void shouldAnswerGetDeadlineWithEnoentWhenNoneSetAndEinvalForForeignFence() {
    FenceRef p = point(4).fence();
    TestProbe<SwSyncTimeline.DeadlineReply> probe = fx.testKit.createTestProbe();

    timeline.tell(new SwSyncTimeline.GetDeadline(p, probe.ref()));
    timeline.tell(new SwSyncTimeline.GetDeadline(FenceRef.stub(), probe.ref()));

    assertEquals(Errno.ENOENT.negative(), probe.receiveMessage().error());
    assertEquals(Errno.EINVAL.negative(), probe.receiveMessage().error());
  }

  @Test
  void shouldWakeEveryWaiterOncePerPointWhenIncRacesWaiterRegistration() {
    // Race: waiters on many points register while the timeline is being incremented one step at a time.
    TestProbe<WaitResult> results = fx.testKit.createTestProbe();
    int points = 50;
    for (int v = 1; v <= points; v++) {
      FenceRef p = point(v).fence();
      fx.testKit.spawn(dev.fencelab.node.fence.FenceWait.create(p, Duration.ofSeconds(10), "w" + v, "race", results.ref(), fx.services));
      timeline.tell(new SwSyncTimeline.Inc(1));
    }
    for (int i = 0; i < points; i++) {
      WaitResult r = results.receiveMessage(Duration.ofSeconds(10));
      assertTrue(r.signalled(), r.toString());
      assertEquals(1, r.status().value(), r.toString());
    }
    results.expectNoMessage(Duration.ofMillis(100));
  }
}
