package dev.fencelab.node.mm;

/**
 * {@code enum mmu_notifier_event} (include/linux/mmu_notifier.h, kernel-semantics §1.14): why a range is invalidated.
 * A subscriber may act on it (lib/test_hmm.c skips MIGRATE events whose owner is itself).
 */
public enum MmuEvent {
  /** munmap, mremap, exit: the range is going away. */
  UNMAP,
  /** The pages are cleared (madvise DONTNEED, reclaim's try_to_unmap, a COW break) but the range stays mapped. */
  CLEAR,
  /** mprotect: the VMA's protection changes. */
  PROTECTION_VMA,
  /** A page's protection changes (fork's copy-on-write write-protect). */
  PROTECTION_PAGE,
  /** Soft-dirty tracking is reset. */
  SOFT_DIRTY,
  /** The mm is being torn down (exit_mmap). */
  RELEASE,
  /** Pages migrate (migrate_vma, compaction); carries the migrating pgmap owner. */
  MIGRATE,
  /** make_device_exclusive: the CPU's mapping is replaced by a device-exclusive entry. */
  EXCLUSIVE;

  /** The event named in a scenario ({@code unmap}, {@code protection_page}…), or null. */
  public static MmuEvent named(String name) {
    for (MmuEvent e : values()) {
      if (e.name().equalsIgnoreCase(name.trim())) {
        return e;
      }
    }
    return null;
  }
}
