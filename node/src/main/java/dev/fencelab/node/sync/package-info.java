/**
 * sw_sync timelines and the sync_file ioctls as steps (kernel-semantics §1.10, §1.11).
 *
 * <p>{@link dev.fencelab.node.sync.SwSyncTimeline}: a timeline is a context with 32-bit seqno comparison; a point at or
 * below the timeline's value is signalled at creation; an unsignalled point of the same value is returned again;
 * {@code inc} signals the pending points in seqno order while they are not later than the value; closing the timeline
 * signals every remaining point with {@code -ENOENT}; {@code SW_SYNC_GET_DEADLINE} answers {@code -EINVAL} (non-zero
 * deadline or pad, not a sw_sync fence) or {@code -ENOENT} (no deadline set). sw_sync is test-only in the kernel for a
 * reason: its points are userspace-controlled fences (§1.1 F6), and a scenario that never advances a timeline shows
 * the wait-for chain of what hangs on it.
 *
 * <p>{@link dev.fencelab.node.sync.SyncFileSteps}: {@code FILE_INFO} with its {@code num_fences} protocol (0 asks for
 * the count and the file's status; fewer than the leaves is {@code -EINVAL}; flags or pad {@code -EINVAL}),
 * {@code SET_DEADLINE} (pad {@code -EINVAL}), {@code close} ({@code -EBADF}). The fd table itself is the process's
 * ({@link dev.fencelab.node.process.ProcessActor}).
 */
package dev.fencelab.node.sync;
