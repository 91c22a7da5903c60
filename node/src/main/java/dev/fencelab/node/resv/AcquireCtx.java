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

  /** A fresh context: older contexts (smaller stamps) win. */
  public static AcquireCtx next(long originLow16, String name) {
    return new AcquireCtx((System.currentTimeMillis() << 16) | (originLow16 & 0xffff), name);
  }

  public boolean olderThan(AcquireCtx other) {
    return stamp < other.stamp;
  }
}
