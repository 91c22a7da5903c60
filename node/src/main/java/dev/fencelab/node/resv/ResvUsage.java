package dev.fencelab.node.resv;

/** {@code enum dma_resv_usage} (§1.9), in the kernel's order: a query for U returns every usage ≤ U. */
public enum ResvUsage {
  KERNEL,
  WRITE,
  READ,
  BOOKKEEP;

  /** {@code dma_resv_usage_rw(write)}: a writer waits for readers and writers; a reader for writers. */
  public static ResvUsage forAccess(boolean write) {
    return write ? READ : WRITE;
  }

  public boolean includes(ResvUsage other) {
    return other.ordinal() <= ordinal();
  }
}
