package dev.fencelab.node.resv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The wait-die decisions of a reservation's ww_mutex (kernel-semantics §1.9). */
class WwMutexTest {
  private final AcquireCtx older = new AcquireCtx(1, "older");
  private final AcquireCtx younger = new AcquireCtx(2, "younger");
  private final AcquireCtx youngest = new AcquireCtx(3, "youngest");
  private final WwMutex<String> mutex = new WwMutex<>();

  @Test
  void aFreeLockIsGranted() {
    assertEquals(WwMutex.Outcome.GRANTED, mutex.lock(younger, false, "y"));
    assertTrue(mutex.heldBy(younger));
  }

  @Test
  void theHolderLockingAgainGetsEALREADY() {
    mutex.lock(younger, false, "y");
    WwMutex.Outcome again = mutex.lock(younger, false, "y");
    assertEquals(WwMutex.Outcome.ALREADY_HELD, again);
    assertEquals(-114, WwMutex.errno(again));
  }

  @Test
  void aYoungerContextDiesWithEDEADLK() {
    mutex.lock(older, false, "o");
    WwMutex.Outcome died = mutex.lock(younger, false, "y");
    assertEquals(WwMutex.Outcome.DIE, died);
    assertEquals(-35, WwMutex.errno(died));
  }

  @Test
  void anOlderContextWaitsForTheHolder() {
    mutex.lock(younger, false, "y");
    assertEquals(WwMutex.Outcome.QUEUED, mutex.lock(older, false, "o"));
  }

  @Test
  void aYoungerContextInItsSlowPathWaits() {
    mutex.lock(older, false, "o");
    assertEquals(WwMutex.Outcome.QUEUED, mutex.lock(younger, true, "y"));
  }

  @Test
  void releaseHandsTheLockToTheOldestWaiter() {
    mutex.lock(older, false, "o");
    mutex.lock(youngest, true, "z");
    mutex.lock(younger, true, "y");
    WwMutex.Waiter<String> next = mutex.release();
    assertEquals("y", next.replyTo());
    assertTrue(mutex.heldBy(younger));
  }

  @Test
  void trylockOfAHeldLockFailsWithoutWaiting() {
    mutex.lock(older, false, "o");
    assertFalse(mutex.tryLock(younger, "y"));
    assertNull(mutex.release());
  }

  @Test
  void anAbandonedWaiterIsNotGrantedLater() {
    mutex.lock(younger, false, "y");
    mutex.lock(older, false, "o");
    assertEquals("o", mutex.abandon(older.stamp()).replyTo());
    assertNull(mutex.release());
    assertNull(mutex.holder());
  }
}
