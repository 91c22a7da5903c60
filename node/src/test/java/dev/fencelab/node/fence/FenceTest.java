package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The leaf fence (kernel-semantics §1.1-§1.4), driven through its owner as a driver would. */
class FenceTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> timeline;

  @BeforeEach
  void start() {
    fx = new FenceFixture("fence-test");
    timeline = fx.timeline();
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  @Test
  void shouldRunEveryCallbackExactlyOnceWhenSignalled() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<FenceProtocol.Callback> a = fx.testKit.createTestProbe();
    TestProbe<FenceProtocol.Callback> b = fx.testKit.createTestProbe();
    fence.actor().tell(new FenceProtocol.AddCallback(a.ref(), true));
    fence.actor().tell(new FenceProtocol.AddCallback(b.ref(), true));
    a.expectMessageClass(FenceProtocol.CallbackAdded.class);
    b.expectMessageClass(FenceProtocol.CallbackAdded.class);

    assertEquals(0, fx.signal(timeline, fence, 0).result());

    assertEquals(1, a.expectMessageClass(FenceProtocol.Signalled.class).status().value());
    assertEquals(1, b.expectMessageClass(FenceProtocol.Signalled.class).status().value());
    a.expectNoMessage(Duration.ofMillis(200));
    b.expectNoMessage(Duration.ZERO);
  }

  @Test
  void shouldRefuseSecondSignalWithEinvalAndRecordViolation() {
    FenceRef fence = fx.createFence(timeline);
    assertEquals(0, fx.signal(timeline, fence, 0).result());

    FenceProtocol.SignalResult second = fx.signal(timeline, fence, 0);

    assertEquals(Errno.EINVAL.negative(), second.result());
    assertEquals(fence.id().toString(), fx.expectViolation(Violation.Kind.DOUBLE_SIGNAL).subject());
  }

  @Test
  void shouldApplyErrorSentWithTheSignalItself() {
    FenceRef fence = fx.createFence(timeline);

    assertEquals(0, fx.signal(timeline, fence, Errno.ECANCELED.negative()).result());

    assertEquals(Errno.ECANCELED.negative(), fx.await(fence, Duration.ofSeconds(1)).status().value());
  }

  @Test
  void shouldHideErrorSetBeforeSignalUntilTheFenceSignals() {
    FenceRef fence = fx.createFence(timeline);
    timeline.tell(new FenceTimeline.SetFenceError(fence.id().seqno(), Errno.ETIME.negative()));

    assertEquals(0, fx.status(fence).status().value(), "error hidden while pending (st-dma-fence test_error)");
    fx.signal(timeline, fence, 0);

    assertEquals(Errno.ETIME.negative(), fx.await(fence, Duration.ofSeconds(1)).status().value());
  }

  @Test
  void shouldRecordViolationAndStoreErrorSetAfterSignal() {
    FenceRef fence = fx.createFence(timeline);
    fx.signal(timeline, fence, 0);

    timeline.tell(new FenceTimeline.SetFenceError(fence.id().seqno(), Errno.EIO.negative()));

    fx.expectViolation(Violation.Kind.ERROR_AFTER_SIGNAL);
    assertEquals(Errno.EIO.negative(), fx.await(fence, Duration.ZERO).status().value(), "the kernel stores it anyway");
  }

  @Test
  void shouldRecordViolationForErrorOutsideErrnoRange() {
    FenceRef fence = fx.createFence(timeline);

    timeline.tell(new FenceTimeline.SetFenceError(fence.id().seqno(), 5));

    fx.expectViolation(Violation.Kind.INVALID_ERROR);
  }

  @Test
  void shouldForceSignalEdeadlkWhenReleasedWithPendingCallbacks() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<FenceProtocol.Callback> cb = fx.testKit.createTestProbe();
    fence.actor().tell(new FenceProtocol.AddCallback(cb.ref(), true));
    cb.expectMessageClass(FenceProtocol.CallbackAdded.class);

    timeline.tell(new FenceTimeline.ReleaseFence(fence.id().seqno()));

    assertEquals(Errno.EDEADLK.negative(), cb.expectMessageClass(FenceProtocol.Signalled.class).status().value());
    fx.expectViolation(Violation.Kind.RELEASED_WITH_PENDING_CALLBACKS);
  }

  @Test
  void shouldRemovePendingCallbackAndSayWhetherItWasPending() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<FenceProtocol.Callback> cb = fx.testKit.createTestProbe();
    TestProbe<FenceProtocol.CallbackRemoved> removed = fx.testKit.createTestProbe();
    fence.actor().tell(new FenceProtocol.AddCallback(cb.ref(), true));
    cb.expectMessageClass(FenceProtocol.CallbackAdded.class);

    fence.actor().tell(new FenceProtocol.RemoveCallback(cb.ref(), removed.ref()));
    fence.actor().tell(new FenceProtocol.RemoveCallback(cb.ref(), removed.ref()));

    assertTrue(removed.receiveMessage().wasPending());
    assertFalse(removed.receiveMessage().wasPending());
    fx.signal(timeline, fence, 0);
    cb.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldEnableSignalingWhenFirstCallbackIsAdded() {
    FenceRef fence = fx.createFence(timeline);
    assertFalse(fx.status(fence).signalingEnabled());
    TestProbe<FenceProtocol.Callback> cb = fx.testKit.createTestProbe();

    fence.actor().tell(new FenceProtocol.AddCallback(cb.ref(), true));

    cb.expectMessageClass(FenceProtocol.CallbackAdded.class);
    assertTrue(fx.status(fence).signalingEnabled());
  }

  @Test
  void shouldKeepEarliestDeadlineHint() {
    FenceRef fence = fx.createFence(timeline);

    fence.actor().tell(new FenceProtocol.SetDeadline(5_000));
    fence.actor().tell(new FenceProtocol.SetDeadline(3_000));
    fence.actor().tell(new FenceProtocol.SetDeadline(9_000));

    assertEquals(3_000, fx.status(fence).deadlineNanos());
  }

  @Test
  void shouldStampSignalWithWallAndModelTime() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<FenceProtocol.SignalResult> probe = fx.testKit.createTestProbe();
    long before = Clocks.wallNanos();

    timeline.tell(new FenceTimeline.SignalFence(fence.id().seqno(), 0, 777_000, probe.ref()));

    probe.receiveMessage();
    FenceStatus status = fx.await(fence, Duration.ZERO).status();
    assertTrue(status.wallNanos() >= before, "wall timestamp " + status.wallNanos() + " >= " + before);
    assertEquals(777_000, status.modelNanos());
  }

  @Test
  void shouldRecordViolationWhenContextSignalsOutOfSeqnoOrder() {
    FenceRef first = fx.createFence(timeline);
    FenceRef second = fx.createFence(timeline);

    fx.signal(timeline, second, 0);

    assertEquals(second.id().toString(), fx.expectViolation(Violation.Kind.OUT_OF_ORDER_SIGNAL).subject());
    fx.signal(timeline, first, 0);
  }

  @Test
  void shouldNotLetRacingCallbackRegistrationsMissTheSignal() {
    // Race: callbacks are registered while the signal is in flight; each ends signalled exactly once,
    // either as a callback (added before) or as the -ENOENT outcome (added after) — never lost.
    for (int round = 0; round < 20; round++) {
      FenceRef fence = fx.createFence(timeline);
      TestProbe<WaitResult> results = fx.testKit.createTestProbe();
      for (int i = 0; i < 10; i++) {
        fx.testKit.spawn(FenceWait.create(fence, Duration.ofSeconds(5), "racer" + i, "race", results.ref(), fx.services));
        if (i == 5) {
          timeline.tell(new FenceTimeline.SignalFence(fence.id().seqno(), 0, 0, null));
        }
      }
      for (int i = 0; i < 10; i++) {
        WaitResult r = results.receiveMessage(Duration.ofSeconds(5));
        assertTrue(r.signalled(), "round " + round + ": " + r);
        assertEquals(1, r.status().value());
      }
      results.expectNoMessage(Duration.ZERO);
    }
  }
}
