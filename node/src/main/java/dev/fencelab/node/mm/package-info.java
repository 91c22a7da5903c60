/**
 * Emulated address spaces ({@code mm}), kernel-semantics §1.14 (mmu_interval_notifier) and §1.15 (userptr), and the
 * cross-node contract "Invalidation round" of DESIGN.md.
 *
 * <ul>
 *   <li>{@link dev.fencelab.node.mm.AddressSpace}: mmap, munmap, mprotect, madvise(DONTNEED), fork's copy-on-write, CPU
 *       access, hmm_range_fault, exit, reclaim — each call that changes what a device may have translated is a plan (the
 *       ranges to invalidate, with their {@link dev.fencelab.node.mm.MmuEvent}) and an apply, with the kernel's return
 *       values — over its two parts: the VMAs and page content ({@link dev.fencelab.node.mm.Mappings}), and the pages
 *       ({@link dev.fencelab.node.mm.PageStates}: a run-length page table of frame identities,
 *       {@link dev.fencelab.node.mm.PageTable}, {@link dev.fencelab.node.mm.Frames}, and long-term pins).
 *   <li>{@link dev.fencelab.node.mm.IntervalNotifiers}: the interval tree and {@code invalidate_seq} (2 at start, odd while
 *       an invalidation that hits the tree runs), read_begin/read_retry/set_seq, deferred insert and remove, blockable
 *       and non-blockable callbacks — a pure state machine.
 *   <li>{@link dev.fencelab.node.mm.MmActor}: one process's mm, dispatching to its parts
 *       ({@link dev.fencelab.node.mm.ProcessCalls}, {@link dev.fencelab.node.mm.InvalidationRounds},
 *       {@link dev.fencelab.node.mm.DriverFaults}, {@link dev.fencelab.node.mm.MemoryPressure} and those below). Its
 *       {@link dev.fencelab.node.mm.MmapLock} queues callers (never a sleeping thread); an
 *       {@link dev.fencelab.node.mm.InvalidationRound} calls the overlapping subscribers' callbacks one after the other
 *       (protobuf {@code Invalidate}/{@code InvalidateDone} to drivers on any member), applies the change, ends. A
 *       subscriber that dies is dropped and the round goes on; a callback that never answers is bounded by the wait cap
 *       (WAIT_CAP_EXCEEDED: the kernel would hang). DMA through a translation whose frames the mm took back is
 *       STALE_TRANSLATION (a long-term pin excepted).
 *   <li>{@link dev.fencelab.node.mm.DevicePrivateCalls}: HMM (kernel-semantics §1.17) — device-private pages per pgmap
 *       owner, migrate_vma to a device and back (a MIGRATE invalidation carrying the owner), migrate_to_ram before any
 *       CPU or other-device access, hmm_range_fault's owner rule (and the 2025 RFC's P2P pfns behind a setting),
 *       make_device_exclusive and its revocation, eviction before a device's soft unplug, pages lost with its member.
 *   <li>{@link dev.fencelab.node.mm.MmSteps}: the scenario steps.
 * </ul>
 *
 * <p>Every wait the mm makes is an edge of the member's wait-for graph (a caller queued on mmap_lock → the lock → its
 * holder; a call → the callback its round waits for; a parked read_begin → the round), so the run's deadlock detector
 * sees cycles that pass through an invalidation. Nothing here blocks a thread.
 *
 * <p>Simplifications: pages are 4 KiB with no THP; fork copies into a child process of the run when the step names one
 * ({@code fork {into}}: the child's mm adopts a copy-on-write copy), else it only marks the parent's pages COW; the mm's set_seq happens when the callback is sent (the driver's callback sets it first under
 * its lock, so the difference is only which of two legal orders a racing read_begin sees).
 */
package dev.fencelab.node.mm;
