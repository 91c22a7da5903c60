package dev.fencelab.node.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.step.StepFailure;
import dev.fencelab.protocol.Errno;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The hand-written kernel threads' locks: they exclude, in order, and keep lockdep's view of what each thread holds. */
class KernelThreadsTest {
  private final KernelThreads threads = new KernelThreads(new Lockdep(null, false), "n1");

  @Test
  void aLockHeldByAnotherThreadIsGrantedOnlyAtItsUnlock() {
    assertTrue(threads.lock("A", "L", false, false, "").isDone());
    CompletableFuture<Boolean> b = threads.lock("B", "L", false, false, "");
    assertFalse(b.isDone());
    threads.unlock("A", "L");
    assertTrue(b.join());
  }

  @Test
  void aTrylockOfAHeldLockAnswersFalseAtOnceAndHoldsNothing() {
    threads.lock("A", "L", false, false, "");
    CompletableFuture<Boolean> b = threads.lock("B", "L", false, true, "");
    assertEquals(false, b.getNow(null));
    assertFalse(threads.thread("B").task().holds("L"));
  }

  @Test
  void readersShareTheLockAndAWriterWaitsForTheLastOfThem() {
    assertTrue(threads.lock("R1", "L", true, false, "").isDone());
    assertTrue(threads.lock("R2", "L", true, false, "").isDone());
    CompletableFuture<Boolean> w = threads.lock("W", "L", false, false, "");
    threads.unlock("R1", "L");
    assertFalse(w.isDone());
    threads.unlock("R2", "L");
    assertTrue(w.isDone());
  }

  @Test
  void unlockingALockTheThreadDoesNotHoldIsEinval() {
    threads.lock("A", "L", false, false, "");
    StepFailure f = assertThrows(StepFailure.class, () -> threads.unlock("B", "L"));
    assertEquals(Errno.EINVAL, f.errno());
  }

  @Test
  void aWaiterThatGaveUpIsPassedOverAndNoLongerHoldsTheLockInLockdepsView() {
    threads.lock("A", "L", false, false, "");
    CompletableFuture<Boolean> b = threads.lock("B", "L", false, false, "");
    CompletableFuture<Boolean> c = threads.lock("C", "L", false, false, "");
    b.completeExceptionally(new java.util.concurrent.TimeoutException()); // B's step bound
    threads.unlock("A", "L");
    assertTrue(c.join());
    assertFalse(threads.thread("B").task().holds("L"));
  }

  @Test
  void endSignallingWithoutBeginIsEinval() {
    StepFailure f = assertThrows(StepFailure.class, () -> threads.endSignalling("A"));
    assertEquals(Errno.EINVAL, f.errno());
  }

  @Test
  void aThreadThatTakesALockItHoldsWouldWaitForItself() {
    threads.lock("A", "L", false, false, "");
    StepFailure f = assertThrows(StepFailure.class, () -> threads.lock("A", "L", false, false, ""));
    assertEquals(Errno.EDEADLK, f.errno());
  }
}
