package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The fence side's books of a member's fence link: one callback per fence, and the grace before a fence is watched. */
class LinkSubscriptionsTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final long GRACE = 20_000_000L;
  private final LinkSubscriptions subs = new LinkSubscriptions();
  private final ActorRef<FenceLinks.Command> linkA = KIT.<FenceLinks.Command>createTestProbe().ref();
  private final ActorRef<FenceLinks.Command> linkB = KIT.<FenceLinks.Command>createTestProbe().ref();
  private long seqno;

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private FenceRef fence() {
    return new FenceRef(new FenceId(new FenceContext(7, 1), ++seqno), FenceRef.Kind.HARDWARE, false,
        KIT.<FenceProtocol.Command>createTestProbe().ref(), KIT.<ContextOwner.Command>createTestProbe().ref(), 0);
  }

  @Test
  void onlyTheFirstSubscriptionToAFenceAsksForItsCallbackAndEachLinkIsKeptOnce() {
    FenceRef f = fence();
    assertTrue(subs.subscribe(f, linkA));
    assertFalse(subs.subscribe(f, linkB));
    assertFalse(subs.subscribe(f, linkA));
    assertEquals(List.of(linkA, linkB), subs.get(f.id()).links);
  }

  @Test
  void aFenceThatAcknowledgesWithinTheGraceIsNeverWatched() {
    FenceRef f = fence();
    subs.subscribe(f, linkA);
    subs.acked(f.id());
    List<LinkSubscriptions.Subscribed> toWatch = new ArrayList<>();
    assertEquals(-1, subs.overdue(System.nanoTime() + 2 * GRACE, GRACE, toWatch));
    assertTrue(toWatch.isEmpty());
  }

  @Test
  void aFenceSilentPastTheGraceIsWatchedOnceAndTheNextOneSaysWhenItsGraceEnds() {
    FenceRef silent = fence();
    subs.subscribe(silent, linkA);
    long sent = subs.get(silent.id()).sentNanos;
    List<LinkSubscriptions.Subscribed> toWatch = new ArrayList<>();

    assertEquals(GRACE, subs.overdue(sent, GRACE, toWatch), "not yet: the whole grace is left");
    assertEquals(-1, subs.overdue(sent + GRACE, GRACE, toWatch));
    assertEquals(1, toWatch.size());
    assertSame(silent, toWatch.get(0).fence);
    assertTrue(toWatch.get(0).watched);
    toWatch.clear();
    assertEquals(-1, subs.overdue(sent + 3 * GRACE, GRACE, toWatch));
    assertTrue(toWatch.isEmpty(), "watched once");
  }

  @Test
  void anAnsweredFenceIsNeitherHeldNorWatched() {
    FenceRef f = fence();
    subs.subscribe(f, linkA);
    assertSame(f, subs.answered(f.id()).fence);
    assertNull(subs.answered(f.id()), "answered once");
    List<LinkSubscriptions.Subscribed> toWatch = new ArrayList<>();
    assertEquals(-1, subs.overdue(System.nanoTime() + 2 * GRACE, GRACE, toWatch));
    assertTrue(toWatch.isEmpty());
  }

  @Test
  void theLinksOfAMemberThatIsGoneAreSubscribedToNothing() {
    FenceRef f = fence();
    subs.subscribe(f, linkA);
    subs.forget(linkA.path().address());
    assertTrue(subs.get(f.id()).links.isEmpty());
  }
}
