package dev.fencelab.node.mm;

/**
 * A run of {@code pages} present pages from virtual {@code address}, backed by frames {@code [pfn, pfn + pages)}: what
 * {@code hmm_range_fault} hands a driver, and what the driver's DMA later names. A device that still uses a run after
 * the invalidation that covered it was acknowledged has a stale translation.
 */
public record Frames(long address, long pages, long pfn) {
  public Frames {
    if (pages <= 0) {
      throw new IllegalArgumentException("a run of frames has at least one page: " + pages);
    }
  }

  /** The first address past the run. */
  public long end() {
    return address + pages * AddressSpace.PAGE;
  }

  /** The frame behind {@code addr} (inside the run). */
  public long pfnAt(long addr) {
    return pfn + (addr - address) / AddressSpace.PAGE;
  }

  @Override
  public String toString() {
    return String.format("0x%x+%d pages @pfn 0x%x", address, pages, pfn);
  }
}
