package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The member's fence link, both of its ends in one actor system: the link of this system's address is itself, so a
 * {@link FenceLinks.Watch} goes the whole way (subscription to the fence's link, its callback on the fence, the signal
 * back, the fan-out) that a cross-node wait goes between two members.
 */
class FenceLinksTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> timeline;
  private ActorRef<FenceLinks.Command> links;

  @BeforeEach
  void start() {
    fx = new FenceFixture("fence-links-test", Duration.ofSeconds(5));
    timeline = fx.timeline();
    links = FenceLinks.get(fx.testKit.system());
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  @Test
  void everyWaiterOfAFenceGetsItsSignalThroughOneSubscription() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<FenceProtocol.Callback> a = fx.testKit.createTestProbe();
    TestProbe<FenceProtocol.Callback> b = fx.testKit.createTestProbe();
    links.tell(new FenceLinks.Watch(fence, a.ref()));
    links.tell(new FenceLinks.Watch(fence, b.ref()));

    fx.signal(timeline, fence, Errno.EIO.negative());

    for (TestProbe<FenceProtocol.Callback> waiter : java.util.List.of(a, b)) {
      FenceProtocol.Signalled s = (FenceProtocol.Signalled) waiter.receiveMessage();
      assertEquals(fence.id(), s.id());
      assertEquals(Errno.EIO.negative(), s.status().value());
    }
  }

  @Test
  void aFenceThatHadSignalledAndGoneIsAnsweredByItsContextOwner() {
    FenceRef fence = fx.createFence(timeline);
    fx.signal(timeline, fence, 0);
    TestProbe<FenceProtocol.Callback> waiter = fx.testKit.createTestProbe();
    links.tell(new FenceLinks.Watch(fence, waiter.ref()));

    FenceProtocol.Signalled s = (FenceProtocol.Signalled) waiter.receiveMessage();
    assertEquals(1, s.status().value(), "signalled without an error, as the owner recorded it");
  }

  @Test
  void anUnwatchedWaiterGetsNothingWhileTheOthersStillDo() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<FenceProtocol.Callback> gone = fx.testKit.createTestProbe();
    TestProbe<FenceProtocol.Callback> stays = fx.testKit.createTestProbe();
    links.tell(new FenceLinks.Watch(fence, gone.ref()));
    links.tell(new FenceLinks.Watch(fence, stays.ref()));
    links.tell(new FenceLinks.Unwatch(fence.id(), gone.ref()));

    fx.signal(timeline, fence, 0);

    stays.expectMessageClass(FenceProtocol.Signalled.class);
    gone.expectNoMessage(Duration.ofMillis(200));
  }

  private FenceLinks.Wait waitOn(FenceRef fence, Duration timeout, TestProbe<WaitResult> replyTo, ActorRef<?> owner) {
    return new FenceLinks.Wait(fx.services.nextWaitId(), fence, timeout, "test", "link wait", 4, replyTo.ref(), owner, fx.services);
  }

  private java.util.List<WaitGraph.Edge> edges() {
    TestProbe<WaitGraph.Pending> probe = fx.testKit.createTestProbe();
    fx.waits.tell(new WaitGraph.ListPending(probe.ref()));
    return probe.receiveMessage().edges();
  }

  @Test
  void aHeldWaitEndsSignalledWithTheFencesErrorAndItsIndex() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    links.tell(waitOn(fence, Duration.ofSeconds(20), waiter, waiter.ref()));

    fx.signal(timeline, fence, Errno.EIO.negative());

    WaitResult r = waiter.receiveMessage();
    assertTrue(r.result() > 0 && r.result() <= Duration.ofSeconds(20).toNanos(), "the remaining timeout: " + r.result());
    assertEquals(Errno.EIO.negative(), r.status().value());
    assertEquals(4, r.index());
  }

  @Test
  void aHeldWaitOnAPendingFenceTimesOutWithZero() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    links.tell(waitOn(fence, Duration.ofMillis(100), waiter, waiter.ref()));

    WaitResult r = waiter.receiveMessage();
    assertEquals(0, r.result());
    assertEquals(FenceStatus.PENDING, r.status());
  }

  @Test
  void theWaitsEndedByOneBatchOfSignalsAllLeaveTheWaitForGraph() {
    java.util.List<FenceRef> fences = new java.util.ArrayList<>();
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    for (int i = 0; i < 20; i++) {
      FenceRef fence = fx.createFence(timeline);
      fences.add(fence);
      links.tell(waitOn(fence, Duration.ofSeconds(20), waiter, waiter.ref()));
      links.tell(waitOn(fence, Duration.ofSeconds(20), waiter, waiter.ref())); // two waiters of one fence
    }
    fx.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(40, edges().size());
      return null;
    });

    fences.forEach(f -> f.actor().tell(new FenceProtocol.Signal(0, 0, null))); // back to back: their signals batch up
    for (int i = 0; i < 40; i++) {
      assertTrue(waiter.receiveMessage().signalled());
    }

    fx.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(edges().isEmpty(), "no edge left: " + edges());
      return null;
    });
  }

  @Test
  void aHeldWaitIsAnEdgeOfTheWaitForGraphUntilItEnds() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    links.tell(waitOn(fence, Duration.ofSeconds(20), waiter, waiter.ref()));
    fx.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1, edges().stream().filter(e -> e.reason().equals("link wait")).count());
      return null;
    });

    fx.signal(timeline, fence, 0);
    waiter.receiveMessage();

    fx.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(edges().isEmpty(), "no edge left: " + edges());
      return null;
    });
  }

  @Test
  void anUnboundedHeldWaitEndsAtTheWaitCapAsAViolation() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    links.tell(waitOn(fence, null, waiter, waiter.ref()));

    assertEquals(0, waiter.receiveMessage(Duration.ofSeconds(15)).result());
    fx.expectViolation(Violation.Kind.WAIT_CAP_EXCEEDED);
  }

  @Test
  void aCancelledHeldWaitAnswersNothing() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    FenceLinks.Wait w = waitOn(fence, Duration.ofSeconds(20), waiter, waiter.ref());
    links.tell(w);
    links.tell(new FenceLinks.CancelWait(w.waitId()));

    fx.signal(timeline, fence, 0);

    waiter.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aWaiterThatStopsEndsItsHeldWaitsWithoutAnAnswer() {
    FenceRef fence = fx.createFence(timeline);
    TestProbe<WaitResult> waiter = fx.testKit.createTestProbe();
    TestProbe<Object> owner = fx.testKit.createTestProbe();
    links.tell(waitOn(fence, Duration.ofSeconds(20), waiter, owner.ref()));
    fx.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1, edges().size());
      return null;
    });

    owner.stop();

    fx.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(edges().isEmpty(), "the wait ended with its waiter: " + edges());
      return null;
    });
    fx.signal(timeline, fence, 0);
    waiter.expectNoMessage(Duration.ofMillis(300));
  }
}
