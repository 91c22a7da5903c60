/**
 * Emulated address spaces ({@code mm}): so far the interval notifiers of one address space
 * ({@link dev.fencelab.node.mm.IntervalNotifiers}, mm/mmu_notifier.c, kernel-semantics §1.14) as a pure state
 * machine — the sequence parity, read_begin/read_retry/set_seq, deferred insert and remove, blockable and
 * non-blockable callbacks — with the kernel's exact values. The {@code mm} actor that drives it (VMAs, mmap/munmap,
 * invalidation rounds across nodes, userptr subscribers) builds on it.
 *
 * <p>Contract: nothing here blocks; a reader or remover that the kernel would put to sleep is a parked waiter,
 * returned by {@code end()} when the sequence it waits for is released.
 */
package dev.fencelab.node.mm;
