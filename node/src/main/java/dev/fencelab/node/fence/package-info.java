/**
 * The {@code dma_fence} layer (kernel-semantics §1.1–§1.8): one kernel primitive per file.
 *
 * <p>Contract, as the kernel's "cross-driver contract" states it and as every actor here keeps it:
 * <ul>
 *   <li><b>Who signals.</b> A fence is signalled by its context's owner (a driver timeline, an engine, a sw_sync
 *       timeline) or, for containers, by its members; the first signal wins, a second answers {@code -EINVAL} and is a
 *       {@code DOUBLE_SIGNAL} violation; an error is set before the signal ({@code set_error} after it is a violation,
 *       stored anyway, as the kernel stores it). Fences of one context signal in seqno order
 *       ({@code OUT_OF_ORDER_SIGNAL} otherwise).
 *   <li><b>Callbacks</b> run once each, in registration order; {@code add_callback} on a signalled fence is
 *       {@code -ENOENT}; {@code remove_callback} answers whether it was still pending. {@code enable_signaling} runs the
 *       fence's op at most once per lifetime ({@link dev.fencelab.node.fence.FenceOps}).
 *   <li><b>No waiter hangs.</b> Every wait ({@link dev.fencelab.node.fence.FenceWait}, {@link dev.fencelab.node.fence.FenceWaitAny};
 *       on a fence of another member, an entry of the member's {@link dev.fencelab.node.fence.FenceLinks}, which keeps
 *       the same results, events and bounds — {@link dev.fencelab.node.fence.FenceWaits#start} picks)
 *       ends signalled, with the fence's error, or timed out, and is an edge of the member's wait-for graph while it
 *       lasts; a fence whose member died reads as signalled with {@code -ENODEV}; an unbounded wait is capped and
 *       reported. A fence actor stops once it has signalled and told its callbacks; its owner answers for it after.
 *   <li><b>Teardown never leaves a fence pending with waiters:</b> the last {@code put} of a pending fence with callbacks
 *       signals it {@code -EDEADLK} with a violation (§1.1 F4); without callbacks it is freed, not leaked.
 *   <li><b>Containers</b> ({@link dev.fencelab.node.fence.FenceArray}, {@link dev.fencelab.node.fence.FenceChain}) are
 *       fences: a waiter never needs to know which kind it holds. Arrays propagate the first error; chains do not;
 *       neither nests (a container member is a violation). {@link dev.fencelab.node.fence.UnwrapMerge} never nests either.
 * </ul>
 * {@link dev.fencelab.node.fence.FenceSteps} exposes the API as scenario steps (the selftests' mock fences included).
 */
package dev.fencelab.node.fence;
