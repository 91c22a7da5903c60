package dev.fencelab.node.fence;

/**
 * A fence context (a timeline), unique across the whole cluster without coordination: {@code origin} is the
 * allocating member's incarnation UID (Pekko's 64-bit random {@code longUid}), {@code id} a counter local
 * to that member (kernel-semantics §1.2, {@code dma_fence_context_alloc}). Context {@link #STUB} (0/0) is
 * used only by stub fences.
 */
public record FenceContext(long origin, long id) {
  public static final FenceContext STUB = new FenceContext(0, 0);

  public boolean isStub() {
    return origin == 0 && id == 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FenceContext c && c.origin == origin && c.id == id;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(origin * 31 + id);
  }

  @Override
  public String toString() {
    return isStub() ? "ctx0" : "ctx" + id + "." + Long.toHexString(origin & 0xffffL);
  }
}
