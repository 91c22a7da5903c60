package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.util.Objects;

/**
 * How a wait ended, with the kernel's return value (kernel-semantics §1.5):
 *
 * <ul>
 *   <li>{@code result > 0}: the fence signalled; the remaining timeout in nanoseconds (at least 1; for a
 *       poll of a signalled fence, 1; for an unbounded wait, {@link Long#MAX_VALUE});
 *   <li>{@code result == 0}: timed out (or, for a poll, not signalled);
 *   <li>{@code result < 0}: a negative errno — {@code -EINVAL} for a negative timeout or an empty wait-any.
 * </ul>
 *
 * <p>Like the kernel's wait, the result does not carry the fence's error; {@code status} does (the status
 * at the end of the wait, {@code dma_fence_get_status}). A fence whose member died before it signalled is
 * seen as signalled with {@code -ENODEV}. {@code index} is the wait-any index of the fence that ended the wait ({@code -1} for single
 * waits and when a wait-any timed out).
 */
public record WaitResult(FenceId id, long result, FenceStatus status, int index) implements NodeWireMessage {
  public WaitResult {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(status, "status");
  }

  /**
   * The kernel's return for a wait that succeeded: the remaining timeout, at least 1 (§1.5: {@code ret = timeout ?
   * timeout : 1}); {@link Long#MAX_VALUE} for an unbounded ({@code null}) timeout.
   */
  public static long remaining(java.time.Duration timeout, long startNanos) {
    if (timeout == null) {
      return Long.MAX_VALUE;
    }
    return Math.max(1, timeout.toNanos() - (System.nanoTime() - startNanos));
  }

  public boolean signalled() {
    return result > 0;
  }

  public boolean timedOut() {
    return result == 0;
  }

  public Errno error() {
    return result < 0 ? Errno.of((int) result) : Errno.OK;
  }
}
