package dev.fencelab.node.resv;

import java.util.Objects;

/**
 * A {@code ww_acquire_ctx}: its stamp orders contexts (lower = older = wins). Stamps must be unique in the
 * cluster: {@link #next(long, String)} builds one from the wall clock and a per-member origin.
 */
public record AcquireCtx(long stamp, String name) {
  public AcquireCtx {
    Objects.requireNonNull(name, "name");
  }

  private static final java.util.concurrent.atomic.AtomicLong LAST = new java.util.concurrent.atomic.AtomicLong();

  /**
   * A fresh context: older contexts (smaller stamps) win. The time part is strictly increasing on this member (two
   * contexts in one millisecond get different stamps); the low 16 bits are the member's origin.
   */
  public static AcquireCtx next(long originLow16, String name) {
    long now = System.currentTimeMillis() << 16;
    long time = LAST.updateAndGet(prev -> Math.max(prev + (1L << 16), now));
    return new AcquireCtx(time | (originLow16 & 0xffff), name);
  }

  public boolean olderThan(AcquireCtx other) {
    return stamp < other.stamp;
  }
}
