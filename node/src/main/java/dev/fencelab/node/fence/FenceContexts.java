package dev.fencelab.node.fence;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Allocates fence contexts for one member (§1.2 {@code dma_fence_context_alloc}): the member's incarnation
 * UID plus a counter starting at 1, so contexts are unique across the cluster without asking anyone.
 * Thread-safe and non-blocking.
 */
public final class FenceContexts {
  private final long origin;
  private final AtomicLong next = new AtomicLong(1);

  public FenceContexts(long origin) {
    if (origin == 0) {
      throw new IllegalArgumentException("origin 0 is reserved for the stub context");
    }
    this.origin = origin;
  }

  /** Returns the first of {@code num} consecutive contexts; {@code num} must be positive (the kernel WARNs on 0). */
  public FenceContext allocate(int num) {
    if (num <= 0) {
      throw new IllegalArgumentException("dma_fence_context_alloc(0)");
    }
    return new FenceContext(origin, next.getAndAdd(num));
  }

  /** The member incarnation this allocator stands for (also the low bits of its acquire-context stamps). */
  public long origin() {
    return origin;
  }

  public FenceContext allocate() {
    return allocate(1);
  }
}
