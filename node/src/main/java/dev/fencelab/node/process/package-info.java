/**
 * Emulated user processes (DESIGN.md "The emulated world": {@code ProcessActor}).
 *
 * <p>So far a process is its file-descriptor table of sync_files (kernel-semantics §1.10); its address space
 * ({@code mm}), VMAs and dma-buf fds come with the memory and device work. Contract:
 * <ul>
 *   <li>Every call is an ioctl-like request answered with the kernel's return: an fd (≥ 3) or a negative errno.
 *       A bad fd is {@code -EBADF}; an fd that is not a sync_file where one is needed is the kernel's code for that
 *       call ({@code -ENOENT} for merge's second fd, {@code -EINVAL} elsewhere).
 *   <li>Fds are allocated lowest-first, as POSIX requires.
 *   <li>Passing an fd to another process ({@link dev.fencelab.node.process.ProcessActor.SendFd}, the emulated
 *       SCM_RIGHTS) installs the same open file — the same fence — in the receiver, which may be on another
 *       member. The sender keeps its fd.
 *   <li>A wait on a sync_file never blocks the process actor: it is a {@code FenceWait} child, and it always ends.
 * </ul>
 */
package dev.fencelab.node.process;
