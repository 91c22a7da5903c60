package dev.fencelab.protocol.lockdep;

/**
 * The lock classes of the emulated kernel (lockdep keys classes, not instances: every dma_resv shares one ww class,
 * every mm one {@code mmap_lock} class). A scenario's own lock names are classes of their own.
 */
public final class LockClass {
  /** {@code dma_fence_lockdep_map}: read-held in a signalling section, write-acquired by every fence wait. */
  public static final String DMA_FENCE_MAP = "dma_fence_map";
  /** {@code __fs_reclaim_map}: acquired by an allocation that may reclaim with {@code __GFP_FS}. */
  public static final String FS_RECLAIM = "fs_reclaim";
  /** {@code __mmu_notifier_invalidate_range_start_map}: held while invalidate callbacks run; touched by any reclaim. */
  public static final String MMU_NOTIFIER = "mmu_notifier_invalidate_range_start";
  /** {@code reservation_ww_class_mutex}: every {@code dma_resv_lock}. */
  public static final String RESV = "reservation_ww_class_mutex";
  /** {@code &mm->mmap_lock}: mmap/munmap, faults, GUP, {@code copy_*_user}, hmm_range_fault. */
  public static final String MMAP_LOCK = "&mm->mmap_lock";
  /** {@code &mapping->i_mmap_rwsem}: taught by the priming chain. */
  public static final String I_MMAP = "&mapping->i_mmap_rwsem";
  /** The emulated GPU driver's userptr notifier lock (amdgpu {@code adev->notifier_lock}), held across its fence wait. */
  public static final String NOTIFIER_LOCK = "&adev->notifier_lock";

  private LockClass() {}

  /**
   * The class a scenario's lock name stands for: {@code dma_resv}, {@code mmap_lock} and {@code notifier_lock} are the
   * kernel's; any other name is a lock class of that name.
   */
  public static String of(String name) {
    return switch (name) {
      case "dma_resv", "resv", RESV -> RESV;
      case "mmap_lock", MMAP_LOCK -> MMAP_LOCK;
      case "notifier_lock", NOTIFIER_LOCK -> NOTIFIER_LOCK;
      case "fs_reclaim" -> FS_RECLAIM;
      case "dma_fence_map" -> DMA_FENCE_MAP;
      default -> name;
    };
  }
}
