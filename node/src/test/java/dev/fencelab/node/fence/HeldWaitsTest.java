package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A member's wait registry: its waits by id, by owner and by deadline. */
class HeldWaitsTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final ActorRef<WaitResult> OWNER_A = KIT.<WaitResult>createTestProbe().ref();
  private static final ActorRef<WaitResult> OWNER_B = KIT.<WaitResult>createTestProbe().ref();
  private static final FenceRef FENCE = new FenceRef(new FenceId(new FenceContext(3, 1), 1), FenceRef.Kind.HARDWARE, false,
      KIT.<FenceProtocol.Command>createTestProbe().ref(), KIT.<ContextOwner.Command>createTestProbe().ref(), 0);

  private final HeldWaits held = new HeldWaits();

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static HeldWaits.Held wait(long id, ActorRef<WaitResult> owner, long deadline) {
    return new HeldWaits.Held(new FenceLinks.Wait(id, FENCE, Duration.ofSeconds(1), "w" + id, "test", 0, owner, owner, null), 0, deadline);
  }

  @Test
  void onlyTheFirstWaitOfAnOwnerAsksForItToBeWatched() {
    assertTrue(held.add(wait(1, OWNER_A, 10)));
    assertFalse(held.add(wait(2, OWNER_A, 10)));
    assertTrue(held.add(wait(3, OWNER_B, 10)));
  }

  @Test
  void aGoneOwnerTakesExactlyItsWaitsThatHaveNotEnded() {
    for (long id = 1; id <= 5; id++) {
      held.add(wait(id, id % 2 == 0 ? OWNER_B : OWNER_A, 10));
    }
    held.remove(3);
    assertEquals(Set.of(1L, 5L), new HashSet<>(held.removeOwner(OWNER_A)));
    assertEquals(List.of(), held.removeOwner(OWNER_A));
    assertEquals(Set.of(2L, 4L), new HashSet<>(held.removeOwner(OWNER_B)));
  }

  @Test
  void endingTheWaitsOfAGoneOwnerStillReturnsEachOnce() {
    HeldWaits.Held first = wait(1, OWNER_A, 10);
    held.add(first);
    held.add(wait(2, OWNER_A, 10));
    for (long id : held.removeOwner(OWNER_A)) {
      assertTrue(held.remove(id) != null);
    }
    assertNull(held.remove(1));
    assertEquals(0, held.size());
  }

  @Test
  void theEarliestDeadlineOfAWaitStillHeldComesFirst() {
    held.add(wait(1, OWNER_A, 30));
    HeldWaits.Held soon = wait(2, OWNER_A, 10);
    held.add(soon);
    held.add(wait(3, OWNER_B, 20));
    held.remove(2);
    assertEquals(20, held.nextDeadline());
    assertNull(held.pollDue(19));
    assertEquals(3, held.pollDue(25).request.waitId());
    assertSame(held.get(1), held.pollDue(Long.MAX_VALUE - 1));
  }

  @Test
  void theDeadlineQueueIsRebuiltWhenMostOfItHasEnded() {
    for (long id = 1; id <= 5000; id++) {
      held.add(wait(id, OWNER_A, id));
    }
    for (long id = 1; id < 5000; id++) {
      held.remove(id);
    }
    assertEquals(1, held.size());
    assertEquals(5000, held.nextDeadline());
    assertEquals(List.of(5000L), held.removeOwner(OWNER_A));
  }
}
