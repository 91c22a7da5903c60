package dev.fencelab.node.fence;

/**
 * The {@code enable_signaling} op a fence was created with (kernel-semantics §1.4), as the selftests' mock fences
 * choose it: the op runs at most once per fence lifetime, when signalling is first enabled.
 */
public enum FenceOps {
  /** No {@code enable_signaling} op (the selftests' {@code mock_ops}; every fencelab hardware fence). */
  NONE,
  /** An op that returns true and counts its calls (a test checks it ran exactly once). */
  COUNTING,
  /** An op that returns false: the core signals the fence at once ({@code dma_fence_signal_locked}). */
  REFUSING
}
