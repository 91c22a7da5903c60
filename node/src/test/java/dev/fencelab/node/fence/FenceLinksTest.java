package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
