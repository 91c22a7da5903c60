package dev.fencelab.node.process;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceStatus;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The system calls a process makes, as messages to its {@link ProcessActor}: the sync_file ioctls (kernel-semantics
 * §1.10; made by {@link SyncFileIoctls}), the dma-buf and driver ioctls (§1.12; {@link DriverIoctls}), and the fd
 * table's own calls (close, SCM_RIGHTS). Each is answered with the kernel's return: an fd (≥ 3), 0, or a negative
 * errno.
 */
public final class ProcessProtocol {
  private ProcessProtocol() {}

  /** What a process accepts. */
  public interface Command {}

  /** {@code sync_file_create(fence)} and an fd for it. */
  public record SyncFileCreate(FenceRef fence, String name, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {
    public SyncFileCreate {
      Objects.requireNonNull(fence, "fence");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** An fd (≥ 3), or a negative errno. */
  public record FdReply(int fd) implements NodeWireMessage {}

  /**
   * {@code SYNC_IOC_MERGE} on {@code fd} with {@code fd2}: {@code flags || pad} → -EINVAL; {@code fd} not open →
   * -EBADF; {@code fd} not a sync_file → -ENOTTY (the ioctl goes to another kind of file); {@code fd2} not a
   * sync_file → -ENOENT. The new file's fence is {@code dma_fence_unwrap_merge} of both (§1.8).
   */
  public record SyncMerge(int fd, int fd2, String name, int flags, int pad, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {
    public SyncMerge {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * {@code SYNC_IOC_FILE_INFO}: {@code flags || pad} → -EINVAL. With {@code numFences == 0}: the leaf count and
   * the file's status, no leaves. With fewer than the leaf count: -EINVAL. Otherwise every leaf's info, and a
   * status that starts at 1 and becomes the first leaf status ≤ 0.
   */
  public record SyncFileInfo(int fd, int numFences, int flags, int pad, ActorRef<FileInfo> replyTo) implements Command, NodeWireMessage {
    public SyncFileInfo {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code struct sync_fence_info}. {@code timestampNanos} is 0 unless the leaf signalled. */
  public record FenceInfo(String objName, String driverName, int status, long timestampNanos) {
    public FenceInfo {
      Objects.requireNonNull(objName, "objName");
      Objects.requireNonNull(driverName, "driverName");
    }
  }

  /** {@code struct sync_file_info}, or {@code result < 0} and nothing else. */
  public record FileInfo(int result, String name, int status, int numFences, List<FenceInfo> fences) implements NodeWireMessage {
    public FileInfo {
      Objects.requireNonNull(name, "name");
      fences = List.copyOf(fences);
    }
  }

  /**
   * {@code poll()} on a sync_file with a timeout in ms ({@code < 0}: forever, bounded by the wait cap):
   * {@code result} 1 when ready (signalled, with or without error), 0 on timeout, -EBADF/-EINVAL for a bad fd.
   */
  public record SyncFileWait(int fd, long timeoutMillis, ActorRef<PollResult> replyTo) implements Command, NodeWireMessage {
    public SyncFileWait {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  public record PollResult(int result, FenceStatus status) implements NodeWireMessage {
    public PollResult {
      Objects.requireNonNull(status, "status");
    }
  }

  /** {@code SYNC_IOC_SET_DEADLINE}: pad ≠ 0 → -EINVAL; replies 0 or a negative errno. */
  public record SyncSetDeadline(int fd, long deadlineNanos, long pad, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {}

  /** {@code close(fd)}: 0 or -EBADF. */
  public record CloseFd(int fd, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {}

  /** {@code sync_file_get_fence(fd)}: the fence, or null with -EINVAL (not a sync_file) / -EBADF. */
  public record GetFence(int fd, ActorRef<FenceReply> replyTo) implements Command, NodeWireMessage {}

  public record FenceReply(int result, FenceRef fence) implements NodeWireMessage {}

  /** SCM_RIGHTS: give {@code to} a copy of {@code fd}; {@code replyTo} gets the receiver's new fd (or -EBADF). */
  public record SendFd(int fd, ActorRef<Command> to, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {
    public SendFd {
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** From another process: install this open file — a sync_file ({@code fence}) or a dma-buf ({@code buf}) — and tell {@code replyTo} the new fd. */
  public record ReceiveFd(FenceRef fence, DmaBufRef buf, String name, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {
    public ReceiveFd {
      if ((fence == null) == (buf == null)) {
        throw new IllegalArgumentException("a received fd is a sync_file or a dma-buf");
      }
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_buf_fd(dma_buf_export(bo))}: export a buffer of {@code driver} and install a dma-buf fd. Errors from the driver. */
  public record ExportDmaBuf(ActorRef<DriverProtocol.Command> driver, int handle, int omitOps, ActorRef<FdReply> replyTo)
      implements Command, NodeWireMessage {
    public ExportDmaBuf {
      Objects.requireNonNull(driver, "driver");
      Objects.requireNonNull(replyTo, "replyTo");
    }

    public ExportDmaBuf(ActorRef<DriverProtocol.Command> driver, int handle, ActorRef<FdReply> replyTo) {
      this(driver, handle, 0, replyTo);
    }
  }

  /**
   * PRIME import of dma-buf {@code fd} into {@code driver} ({@code dma_buf_get}: -EBADF for a closed fd, -EINVAL
   * for one that is not a dma-buf), as a static or dynamic importer; the reply is the driver's buffer handle.
   */
  public record ImportDmaBuf(int fd, ActorRef<DriverProtocol.Command> driver, boolean dynamic, boolean noMoveNotify, boolean peer2peer,
      ActorRef<DriverProtocol.BoReply> replyTo) implements Command, NodeWireMessage {
    public ImportDmaBuf {
      Objects.requireNonNull(driver, "driver");
      Objects.requireNonNull(replyTo, "replyTo");
    }

    public ImportDmaBuf(int fd, ActorRef<DriverProtocol.Command> driver, boolean dynamic, ActorRef<DriverProtocol.BoReply> replyTo) {
      this(fd, driver, dynamic, false, false, replyTo);
    }
  }

  /**
   * Submit a job to {@code driver} with explicit in-fences given as sync_file fds (-EBADF closed, -EINVAL not a
   * sync_file); with {@code outSyncFile} the out-fence is also installed as a sync_file fd.
   */
  public record SubmitJob(ActorRef<DriverProtocol.Command> driver, JobSpec job, List<Integer> inFenceFds, boolean outSyncFile,
      ActorRef<Submitted> replyTo) implements Command, NodeWireMessage {
    public SubmitJob {
      Objects.requireNonNull(driver, "driver");
      Objects.requireNonNull(job, "job");
      inFenceFds = List.copyOf(inFenceFds);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code result} 0 or a negative errno; {@code outFd} -1 unless a sync_file was asked for. */
  public record Submitted(int result, int outFd, FenceRef outFence) implements NodeWireMessage {}

  /**
   * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE} (§1.12): {@code flags} a non-empty subset of READ|WRITE (else -EINVAL);
   * a snapshot of the fences of {@code dma_resv_usage_rw(flags & WRITE)} as one fence (the signalled stub if none).
   */
  public record ExportSyncFile(int dmaBufFd, int flags, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {}

  /**
   * {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE} (§1.12): add every leaf of sync_file {@code syncFd} (-EINVAL if not a
   * sync_file) to the buffer's reservation object as WRITE (flags & WRITE) or READ — it only adds. Replies 0.
   */
  public record ImportSyncFile(int dmaBufFd, int flags, int syncFd, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {}
}
