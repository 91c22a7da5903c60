package dev.fencelab.node.lockdep;

import java.util.Locale;

/**
 * The allocation flags that matter to lockdep (kernel-semantics §1.18, mm/page_alloc.c {@code fs_reclaim_acquire}):
 * whether the allocation may enter direct reclaim, and whether it may recurse into filesystems.
 */
public enum Gfp {
  KERNEL(true, true),
  NOFS(true, false),
  NOIO(true, false),
  ATOMIC(false, false),
  NOWAIT(false, false);

  private final boolean directReclaim;
  private final boolean fs;

  Gfp(boolean directReclaim, boolean fs) {
    this.directReclaim = directReclaim;
    this.fs = fs;
  }

  /** {@code __GFP_DIRECT_RECLAIM}: the allocation may sleep in reclaim (and so reach mmu notifiers). */
  public boolean directReclaim() {
    return directReclaim;
  }

  /** {@code __GFP_FS}: reclaim may recurse into filesystems ({@code fs_reclaim} is acquired). */
  public boolean fs() {
    return fs;
  }

  /** The kernel's spelling: {@code GFP_KERNEL}. */
  public String kernelName() {
    return "GFP_" + name();
  }

  /** {@code kernel}, {@code nofs}, {@code noio}, {@code atomic}, {@code nowait} (or the kernel spelling); null if none. */
  public static Gfp parse(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    if (t.startsWith("GFP_")) {
      t = t.substring(4);
    }
    for (Gfp g : values()) {
      if (g.name().equals(t)) {
        return g;
      }
    }
    return null;
  }
}
