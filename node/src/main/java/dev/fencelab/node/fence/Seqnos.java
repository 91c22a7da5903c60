package dev.fencelab.node.fence;

/**
 * Seqno ordering on one context (kernel-semantics §1.2, {@code __dma_fence_is_later}).
 *
 * <ul>
 *   <li>64-bit fences ({@code dma_fence_chain}, {@code dma_fence_init64}): {@code s1 > s2} as unsigned 64-bit.
 *   <li>32-bit fences (sw_sync and most drivers): {@code (int)(lower32(s1) - lower32(s2)) > 0}, a wrap-around
 *       comparison: 1 is later than 0xFFFFFFFF; 0x80000001 is not later than 1.
 * </ul>
 */
public final class Seqnos {
  private Seqnos() {}

  public static boolean isLater(long s1, long s2, boolean seqno64) {
    if (seqno64) {
      return Long.compareUnsigned(s1, s2) > 0;
    }
    return ((int) s1 - (int) s2) > 0;
  }

  public static boolean isLaterOrSame(long s1, long s2, boolean seqno64) {
    return s1 == s2 || isLater(s1, s2, seqno64);
  }
}
