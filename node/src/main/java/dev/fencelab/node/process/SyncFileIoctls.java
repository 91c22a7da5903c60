package dev.fencelab.node.process;

import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.UnwrapMerge;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.OpenFile.SyncFile;
import dev.fencelab.node.process.ProcessProtocol.FdReply;
import dev.fencelab.node.process.ProcessProtocol.FenceInfo;
import dev.fencelab.node.process.ProcessProtocol.FenceReply;
import dev.fencelab.node.process.ProcessProtocol.FileInfo;
import dev.fencelab.node.process.ProcessProtocol.PollResult;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The sync_file calls of a process (kernel-semantics §1.10): {@code sync_file_create}, {@code SYNC_IOC_MERGE}
 * (through {@code dma_fence_unwrap_merge}, §1.8), {@code SYNC_IOC_FILE_INFO}, {@code poll},
 * {@code SYNC_IOC_SET_DEADLINE} and {@code sync_file_get_fence}, with the kernel's errnos for a bad fd and for an fd
 * that is not a sync_file.
 */
final class SyncFileIoctls {
  private final ProcessContext p;

  SyncFileIoctls(ProcessContext p) {
    this.p = p;
  }

  void create(ProcessProtocol.SyncFileCreate c) {
    c.replyTo().tell(new FdReply(p.files.install(new SyncFile(c.fence(), c.name()))));
  }

  void merge(ProcessProtocol.SyncMerge merge) {
    if (merge.flags() != 0 || merge.pad() != 0) {
      merge.replyTo().tell(new FdReply(Errno.EINVAL.negative()));
      return;
    }
    OpenFile fa = p.files.get(merge.fd());
    if (!(fa instanceof SyncFile a)) {
      merge.replyTo().tell(new FdReply(fa == null ? Errno.EBADF.negative() : Errno.ENOTTY.negative()));
      return;
    }
    if (!(p.files.get(merge.fd2()) instanceof SyncFile b)) {
      merge.replyTo().tell(new FdReply(Errno.ENOENT.negative()));
      return;
    }
    p.containers.tell(new Containers.Merge(List.of(a.fence(), b.fence()), p.then(FenceRef.class,
        merged -> merge.replyTo().tell(new FdReply(p.files.install(new SyncFile(merged, merge.name())))))));
  }

  void fileInfo(ProcessProtocol.SyncFileInfo info) {
    if (info.flags() != 0 || info.pad() != 0) {
      info.replyTo().tell(new FileInfo(Errno.EINVAL.negative(), "", 0, 0, List.of()));
      return;
    }
    OpenFile open = p.files.get(info.fd());
    if (!(open instanceof SyncFile file)) {
      info.replyTo().tell(new FileInfo(open == null ? Errno.EBADF.negative() : Errno.ENOTTY.negative(), "", 0, 0, List.of()));
      return;
    }
    p.spawn(UnwrapMerge.unwrap(List.of(file.fence()), p.then(UnwrapMerge.Unwrapped.class, u -> info.replyTo().tell(info(info, file, u))),
        p.services));
  }

  /** The answer to FILE_INFO from the file's leaves. */
  private static FileInfo info(ProcessProtocol.SyncFileInfo info, SyncFile file, UnwrapMerge.Unwrapped unwrapped) {
    List<UnwrapMerge.Leaf> leaves = unwrapped.leaves();
    int n = leaves.size();
    if (info.numFences() == 0) {
      return new FileInfo(0, file.name(), fileStatus(leaves), n, List.of());
    }
    if (info.numFences() < n) {
      return new FileInfo(Errno.EINVAL.negative(), file.name(), 0, n, List.of());
    }
    int status = 1;
    List<FenceInfo> out = new ArrayList<>(n);
    for (UnwrapMerge.Leaf leaf : leaves) {
      int s = leaf.status().value();
      if (status == 1 && s <= 0) {
        status = s; // starts at 1, becomes the first leaf status <= 0, and keeps it
      }
      out.add(new FenceInfo(leaf.fence().id().context().toString(), "fencelab-" + leaf.fence().kind().name().toLowerCase(Locale.ROOT),
          s, s != 0 ? leaf.status().wallNanos() : 0));
    }
    return new FileInfo(0, file.name(), status, n, out);
  }

  /** {@code dma_fence_get_status} of the file's fence, from its leaves (an array: first error, else all). */
  private static int fileStatus(List<UnwrapMerge.Leaf> leaves) {
    int firstError = 0;
    for (UnwrapMerge.Leaf l : leaves) {
      if (l.status().value() == 0) {
        return 0;
      }
      if (firstError == 0 && l.status().value() < 0) {
        firstError = l.status().value();
      }
    }
    return firstError != 0 ? firstError : 1;
  }

  /** {@code poll} on a sync_file: a {@code FenceWait} child, which always ends. */
  void poll(ProcessProtocol.SyncFileWait wait, SyncFile file) {
    Duration timeout = wait.timeoutMillis() < 0 ? null : Duration.ofMillis(wait.timeoutMillis());
    p.spawn(FenceWait.create(file.fence(), timeout, p.name, "sync_file poll fd " + wait.fd(),
        p.then(WaitResult.class, r -> wait.replyTo().tell(pollResult(r))), p.services));
  }

  /** What {@code poll} returns for a wait's result: 1 ready, 0 timed out, or a negative errno. */
  static PollResult pollResult(WaitResult r) {
    return new PollResult(r.signalled() ? 1 : (int) Math.min(0, r.result()), r.status());
  }

  void setDeadline(ProcessProtocol.SyncSetDeadline set) {
    OpenFile open = p.files.get(set.fd());
    SyncFile file = open instanceof SyncFile s ? s : null;
    int result = open == null ? Errno.EBADF.negative() : file == null ? Errno.ENOTTY.negative() : set.pad() != 0 ? Errno.EINVAL.negative() : 0;
    if (result == 0 && !file.fence().isStub()) {
      file.fence().actor().tell(new FenceProtocol.SetDeadline(set.deadlineNanos()));
    }
    if (set.replyTo() != null) {
      set.replyTo().tell(new FdReply(result));
    }
  }

  void getFence(ProcessProtocol.GetFence g) {
    OpenFile f = p.files.get(g.fd());
    g.replyTo().tell(f instanceof SyncFile s ? new FenceReply(0, s.fence())
        : new FenceReply(f == null ? Errno.EBADF.negative() : Errno.EINVAL.negative(), null));
  }

  /** A poll of an fd that is not open. */
  static PollResult badFd() {
    return new PollResult(Errno.EBADF.negative(), FenceStatus.PENDING);
  }
}
