/**
 * The dma-fence signalling annotations and the lock classes lockdep sees (kernel-semantics §1.18; DESIGN.md "Checks").
 *
 * <p>The kernel's lockdep learns a dependency {@code A → B} the first time B is acquired while A is held, and reports a
 * possible deadlock the moment a new dependency closes a cycle — no hang and no memory pressure needed. The
 * dma-fence annotations (commit 5b91575f3093) make fences part of that graph with one pseudo lock,
 * {@code dma_fence_map}: {@code dma_fence_begin_signalling()} read-acquires it (a read-trylock: it adds no dependency
 * of its own), every {@code dma_fence_wait*} and resv wait write-acquires and releases it
 * ({@code __dma_fence_might_wait()}, the read hold dropped around it), and an allocation that may reclaim touches
 * {@code fs_reclaim} (with {@code __GFP_FS}) and the mmu-notifier map ({@code fs_reclaim_acquire}: GFP_KERNEL, NOFS and
 * NOIO all do, ATOMIC and NOWAIT do not).
 *
 * <ul>
 *   <li>{@link dev.fencelab.node.lockdep.KernelTask}: one kernel code path's held locks (a thread in lockdep's sense):
 *       acquire and release with lockdep's rule for new dependencies (from the nearest held lock that is not a
 *       trylock, and from the trylocks above it; a trylock itself adds none), begin/end signalling with the nesting and
 *       atomic-context cookie, might_wait, might_alloc.
 *   <li>{@link dev.fencelab.node.lockdep.Lockdep}: one per member — records each dependency the first time the member
 *       sees it as a {@code LOCK_DEP} trace event (the class pair, the code path, what it was doing, the locks held,
 *       whether it was inside a signalling section), so the cost after the first sighting is one set lookup. The
 *       cycle search runs over the collected events of every member of an emulated host (the coordinator's lock-order
 *       check): one machine's lockdep, even when the machine spans several cluster members.
 *   <li>{@link dev.fencelab.node.lockdep.KernelThreads}: the scenario's hand-written kernel threads and their named
 *       mutexes (the lock/unlock/begin_signalling/end_signalling steps).
 * </ul>
 *
 * <p>Where the emulated drivers are annotated: run_job (a signalling section; the knobs of §3.2–§3.5 and §3.8 make it
 * allocate, take a resv, take the userptr notifier lock, fault userptr pages), the reset handler (a section), the
 * submit ioctl (resv locks and a GFP_KERNEL reservation: allowed), and the userptr invalidate callback of the wait
 * policy (the notifier map, the driver's notifier lock, a fence wait while holding it — amdgpu's shape).
 */
package dev.fencelab.node.lockdep;
