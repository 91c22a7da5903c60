/**
 * Emulated user processes (DESIGN.md "The emulated world": {@code ProcessActor}).
 *
 * <p>A process is its file-descriptor table ({@code FdTable}) and the system calls it makes
 * ({@link dev.fencelab.node.process.ProcessProtocol}): the sync_file calls (kernel-semantics §1.10, in
 * {@code SyncFileIoctls}), the dma-buf and driver calls (§1.12, in {@code DriverIoctls}), close and SCM_RIGHTS (the
 * actor itself). Its address space ({@code mm}) and VMAs come with the memory work. Contract:
 * <ul>
 *   <li>Every call is an ioctl-like request answered with the kernel's return: an fd (≥ 3), 0 or a negative errno.
 *       A bad fd is {@code -EBADF}; an fd of the wrong kind is the kernel's code for that call ({@code -ENOTTY} for
 *       a sync_file ioctl on another file, {@code -ENOENT} for merge's second fd, {@code -EINVAL} elsewhere).
 *   <li>Fds are allocated lowest-first, as POSIX requires.
 *   <li>Passing an fd to another process ({@link dev.fencelab.node.process.ProcessProtocol.SendFd}, the emulated
 *       SCM_RIGHTS) installs the same open file — the same fence, or the same dma-buf — in the receiver, which may be
 *       on another member. The sender keeps its fd.
 *   <li>A wait on a sync_file or a dma-buf never blocks the process actor (a {@code FenceWait} child, an ask of the
 *       reservation object), and it always ends.
 *   <li>The fd table is touched on the process actor's thread only: a call's answer comes back as a continuation.
 * </ul>
 */
package dev.fencelab.node.process;
