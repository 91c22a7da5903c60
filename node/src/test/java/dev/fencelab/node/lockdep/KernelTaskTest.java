package dev.fencelab.node.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.lockdep.LockClass;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** lockdep's rules for one task's held locks and the dma-fence annotations (kernel-semantics §1.18). */
class KernelTaskTest {
  private final List<KernelTask.Dependency> deps = new ArrayList<>();
  private final KernelTask task = new KernelTask("t", deps::add);

  private List<String> edges() {
    return deps.stream().map(d -> d.from() + " -> " + d.to()).toList();
  }

  @Test
  void beginSignallingReadHoldsTheMapAndAddsNoDependencyOfItsOwn() {
    task.acquire("L", false, false, "lock L");
    assertFalse(task.beginSignalling(false));
    assertTrue(task.inSection());
    assertEquals(List.of(), edges()); // a read-trylock: lockdep adds nothing to what it acquires
  }

  @Test
  void aNestedBeginReturnsTheTrueCookieAndItsEndLeavesTheOuterSection() {
    boolean outer = task.beginSignalling(false);
    boolean inner = task.beginSignalling(false);
    assertFalse(outer);
    assertTrue(inner);
    task.endSignalling(inner);
    assertTrue(task.inSection());
    task.endSignalling(outer);
    assertFalse(task.inSection());
  }

  @Test
  void beginInAtomicContextReturnsTrueAndEntersNoSection() {
    assertTrue(task.beginSignalling(true));
    assertFalse(task.inSection());
  }

  @Test
  void anAcquisitionDependsOnTheNearestHeldLockOnly() {
    task.acquire("A", false, false, "");
    task.acquire("B", false, false, "");
    task.acquire("C", false, false, "");
    assertEquals(List.of("A -> B", "B -> C"), edges());
  }

  @Test
  void anAcquisitionAlsoDependsOnTheTrylocksHeldAboveTheNearestLock() {
    task.acquire("A", false, false, "");
    task.acquire("T", false, true, "");
    task.acquire("C", false, false, "");
    assertEquals(List.of("T -> C", "A -> C"), edges());
  }

  @Test
  void aTrylockAddsNoDependency() {
    task.acquire("A", false, false, "");
    task.acquire("T", false, true, "");
    assertEquals(List.of(), edges());
  }

  @Test
  void aLockTakenInASectionDependsOnTheMapAndIsMarkedAsTakenThere() {
    task.beginSignalling(false);
    task.acquire("L", false, false, "lock L");
    KernelTask.Dependency d = deps.get(0);
    assertEquals(LockClass.DMA_FENCE_MAP + " -> L", d.from() + " -> " + d.to());
    assertTrue(d.inSection());
    assertTrue(task.held().get(1).inSection());
  }

  @Test
  void aWaitInASectionWithNothingElseHeldAddsNoDependency() {
    task.beginSignalling(false);
    task.mightWait("wait");
    assertEquals(List.of(), edges());
    assertTrue(task.inSection()); // the read hold comes back
  }

  @Test
  void aWaitHoldingALockTakenInTheSectionDependsFromThatLockTakenInTheSection() {
    task.beginSignalling(false);
    task.acquire("L", false, false, "");
    deps.clear();
    task.mightWait("wait");
    KernelTask.Dependency d = deps.get(0);
    assertEquals("L -> " + LockClass.DMA_FENCE_MAP, d.from() + " -> " + d.to());
    assertTrue(d.fromInSection());
    assertTrue(d.inSection());
  }

  @Test
  void aWaitHoldingALockTakenBeforeTheSectionIsNotMarkedAsTakenInIt() {
    task.acquire("L", false, false, "");
    task.beginSignalling(false);
    task.mightWait("wait");
    assertEquals(List.of("L -> " + LockClass.DMA_FENCE_MAP), edges());
    assertFalse(deps.get(0).fromInSection());
  }

  @Test
  void gfpKernelAcquiresFsReclaimAndTheNotifierMapUnderIt() {
    task.beginSignalling(false);
    task.mightAlloc(Gfp.KERNEL, "kmalloc");
    assertEquals(List.of(LockClass.DMA_FENCE_MAP + " -> " + LockClass.FS_RECLAIM, LockClass.FS_RECLAIM + " -> " + LockClass.MMU_NOTIFIER),
        edges());
    assertEquals(1, task.held().size()); // both released again
  }

  @Test
  void gfpNofsAndNoioTouchOnlyTheNotifierMap() {
    for (Gfp gfp : List.of(Gfp.NOFS, Gfp.NOIO)) {
      deps.clear();
      KernelTask t = new KernelTask("t", deps::add);
      t.beginSignalling(false);
      t.mightAlloc(gfp, "kmalloc");
      assertEquals(List.of(LockClass.DMA_FENCE_MAP + " -> " + LockClass.MMU_NOTIFIER), edges(), gfp.name());
    }
  }

  @Test
  void gfpAtomicAndNowaitTouchNothing() {
    task.beginSignalling(false);
    task.mightAlloc(Gfp.ATOMIC, "kmalloc");
    task.mightAlloc(Gfp.NOWAIT, "kmalloc");
    assertEquals(List.of(), edges());
  }

  @Test
  void releasingALockNotHeldReportsIt() {
    assertFalse(task.release("L"));
  }

  @Test
  void gfpNamesParseInBothSpellings() {
    assertEquals(Gfp.KERNEL, Gfp.parse("kernel"));
    assertEquals(Gfp.NOIO, Gfp.parse("GFP_NOIO"));
    assertEquals(null, Gfp.parse("highuser"));
  }

  @Test
  void aSectionIsTracedFromTheBeginThatAcquiredToItsEndAndNotForANestedCookie() {
    List<String> sections = new ArrayList<>();
    KernelTask t = new KernelTask("t", new KernelTask.Sink() {
      @Override
      public void dependency(KernelTask.Dependency d) {}

      @Override
      public long section(String task, long id, boolean begin, String what) {
        sections.add((begin ? "begin " : "end ") + what + id);
        return 7;
      }
    });
    boolean outer = t.beginSignalling(false, "run_job");
    t.endSignalling(t.beginSignalling(false, "nested"));
    t.endSignalling(outer);
    assertEquals(List.of("begin run_job0", "end 7"), sections);
  }
}
