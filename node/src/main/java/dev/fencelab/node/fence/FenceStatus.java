package dev.fencelab.node.fence;

import dev.fencelab.protocol.Errno;

/**
 * A fence's status as {@code dma_fence_get_status} reports it (kernel-semantics §1.3): {@code 0} pending,
 * {@code 1} signalled without error, {@code < 0} signalled with that negative errno. An error set on a
 * pending fence is hidden (the status stays 0) until the fence signals.
 *
 * @param wallNanos signal time, epoch nanoseconds on the signalling member's clock (0 while pending)
 * @param modelNanos signal time in model time (0 while pending)
 */
public record FenceStatus(int value, long wallNanos, long modelNanos) {
  public static final FenceStatus PENDING = new FenceStatus(0, 0, 0);

  public FenceStatus {
    if (value > 1) {
      // Below -MAX_ERRNO is allowed: the kernel WARNs on such an error but stores and reports it.
      throw new IllegalArgumentException("status must be 1, 0 or negative, was " + value);
    }
  }

  public static FenceStatus signalled(int error, long wallNanos, long modelNanos) {
    return new FenceStatus(error < 0 ? error : 1, wallNanos, modelNanos);
  }

  public boolean isSignalled() {
    return value != 0;
  }

  /** The error the fence signalled with, or {@link Errno#OK}. */
  public Errno error() {
    return value < 0 ? Errno.of(value) : Errno.OK;
  }

  @Override
  public String toString() {
    return value == 0 ? "pending" : value == 1 ? "signalled" : "signalled(" + Errno.describe(value) + ")";
  }
}
