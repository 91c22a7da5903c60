package dev.fencelab.node.process;

import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.UnwrapMerge;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.wire.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * An emulated process: its sync_file fds (kernel-semantics §1.10) — create, merge, file info, poll/wait,
 * deadline, close, and passing fds to other processes anywhere in the cluster.
 *
 * <p>Owns: the fd table. Talks to: the fences its files hold (through {@code FenceWait} and unwrap children),
 * its member's {@link Containers} (merges), other processes (fd passing). Replies: {@link FdReply},
 * {@link FileInfo}, {@link PollResult}, {@link FenceReply}. Errors as listed on each request.
 */
public final class ProcessActor extends AbstractBehavior<ProcessActor.Command> {
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

  /** From another process: install this open sync_file and tell {@code replyTo} the new fd. */
  public record ReceiveFd(FenceRef fence, String name, ActorRef<FdReply> replyTo) implements Command, NodeWireMessage {
    public ReceiveFd {
      Objects.requireNonNull(fence, "fence");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  private record Merged(String name, ActorRef<FdReply> replyTo, FenceRef fence) implements Command, NoSerializationVerificationNeeded {}

  private record Unwrapped(SyncFileInfo request, SyncFile file, UnwrapMerge.Unwrapped leaves)
      implements Command, NoSerializationVerificationNeeded {}

  private record Waited(ActorRef<PollResult> replyTo, WaitResult result) implements Command, NoSerializationVerificationNeeded {}

  /** An open sync_file: a name and one fence (possibly an array). */
  private record SyncFile(FenceRef fence, String name) {}

  private static final int FIRST_FD = 3;

  private final String name;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final TreeMap<Integer, SyncFile> files = new TreeMap<>();

  /**
   * @param name for waits and violations ({@code proc1})
   * @param containers the member's container owner, which builds merge results
   */
  public static Behavior<Command> create(String name, ActorRef<ContextOwner.Command> containers, FenceServices services) {
    return Behaviors.setup(context -> new ProcessActor(context, name, containers, services));
  }

  private ProcessActor(ActorContext<Command> context, String name, ActorRef<ContextOwner.Command> containers, FenceServices services) {
    super(context);
    this.name = name;
    this.containers = containers;
    this.services = services;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SyncFileCreate.class, c -> {
          c.replyTo().tell(new FdReply(install(new SyncFile(c.fence(), c.name()))));
          return this;
        })
        .onMessage(SyncMerge.class, this::onMerge)
        .onMessage(Merged.class, m -> {
          m.replyTo().tell(new FdReply(install(new SyncFile(m.fence(), m.name()))));
          return this;
        })
        .onMessage(SyncFileInfo.class, this::onFileInfo)
        .onMessage(Unwrapped.class, this::onUnwrapped)
        .onMessage(SyncFileWait.class, this::onWait)
        .onMessage(Waited.class, w -> {
          w.replyTo().tell(new PollResult(w.result().signalled() ? 1 : (int) Math.min(0, w.result().result()), w.result().status()));
          return this;
        })
        .onMessage(SyncSetDeadline.class, this::onSetDeadline)
        .onMessage(CloseFd.class, c -> {
          c.replyTo().tell(new FdReply(files.remove(c.fd()) != null ? 0 : Errno.EBADF.negative()));
          return this;
        })
        .onMessage(GetFence.class, g -> {
          SyncFile f = files.get(g.fd());
          g.replyTo().tell(f != null ? new FenceReply(0, f.fence()) : new FenceReply(Errno.EBADF.negative(), null));
          return this;
        })
        .onMessage(SendFd.class, this::onSendFd)
        .onMessage(ReceiveFd.class, r -> {
          r.replyTo().tell(new FdReply(install(new SyncFile(r.fence(), r.name()))));
          return this;
        })
        .build();
  }

  /** The lowest free fd, as POSIX allocates. */
  private int install(SyncFile file) {
    int fd = FIRST_FD;
    for (int used : files.keySet()) {
      if (used != fd) {
        break;
      }
      fd++;
    }
    files.put(fd, file);
    return fd;
  }

  private Behavior<Command> onMerge(SyncMerge merge) {
    if (merge.flags() != 0 || merge.pad() != 0) {
      merge.replyTo().tell(new FdReply(Errno.EINVAL.negative()));
      return this;
    }
    SyncFile a = files.get(merge.fd());
    if (a == null) {
      merge.replyTo().tell(new FdReply(Errno.EBADF.negative()));
      return this;
    }
    SyncFile b = files.get(merge.fd2());
    if (b == null) {
      merge.replyTo().tell(new FdReply(Errno.ENOENT.negative()));
      return this;
    }
    ActorRef<FenceRef> adapter = getContext().messageAdapter(FenceRef.class, f -> new Merged(merge.name(), merge.replyTo(), f));
    containers.tell(new Containers.Merge(List.of(a.fence(), b.fence()), adapter));
    return this;
  }

  private Behavior<Command> onFileInfo(SyncFileInfo info) {
    if (info.flags() != 0 || info.pad() != 0) {
      info.replyTo().tell(new FileInfo(Errno.EINVAL.negative(), "", 0, 0, List.of()));
      return this;
    }
    SyncFile file = files.get(info.fd());
    if (file == null) {
      info.replyTo().tell(new FileInfo(Errno.EBADF.negative(), "", 0, 0, List.of()));
      return this;
    }
    getContext().spawnAnonymous(UnwrapMerge.unwrap(List.of(file.fence()),
        getContext().messageAdapter(UnwrapMerge.Unwrapped.class, u -> new Unwrapped(info, file, u)), services));
    return this;
  }

  private Behavior<Command> onUnwrapped(Unwrapped u) {
    SyncFileInfo info = u.request();
    List<UnwrapMerge.Leaf> leaves = u.leaves().leaves();
    int n = leaves.size();
    if (info.numFences() == 0) {
      info.replyTo().tell(new FileInfo(0, u.file().name(), fileStatus(leaves), n, List.of()));
      return this;
    }
    if (info.numFences() < n) {
      info.replyTo().tell(new FileInfo(Errno.EINVAL.negative(), u.file().name(), 0, n, List.of()));
      return this;
    }
    int status = 1;
    List<FenceInfo> out = new ArrayList<>(n);
    for (UnwrapMerge.Leaf leaf : leaves) {
      int s = leaf.status().value();
      if (status == 1 && s <= 0) {
        status = s; // starts at 1, becomes the first leaf status <= 0, and keeps it
      }
      out.add(new FenceInfo(leaf.fence().id().context().toString(), "fencelab-" + leaf.fence().kind().name().toLowerCase(java.util.Locale.ROOT),
          s, s != 0 ? leaf.status().wallNanos() : 0));
    }
    info.replyTo().tell(new FileInfo(0, u.file().name(), status, n, out));
    return this;
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

  private Behavior<Command> onWait(SyncFileWait wait) {
    SyncFile file = files.get(wait.fd());
    if (file == null) {
      wait.replyTo().tell(new PollResult(Errno.EBADF.negative(), FenceStatus.PENDING));
      return this;
    }
    Duration timeout = wait.timeoutMillis() < 0 ? null : Duration.ofMillis(wait.timeoutMillis());
    ActorRef<WaitResult> adapter = getContext().messageAdapter(WaitResult.class, r -> new Waited(wait.replyTo(), r));
    getContext().spawnAnonymous(FenceWait.create(file.fence(), timeout, name, "sync_file poll fd " + wait.fd(), adapter, services));
    return this;
  }

  private Behavior<Command> onSetDeadline(SyncSetDeadline set) {
    SyncFile file = files.get(set.fd());
    int result = file == null ? Errno.EBADF.negative() : set.pad() != 0 ? Errno.EINVAL.negative() : 0;
    if (result == 0 && !file.fence().isStub()) {
      file.fence().actor().tell(new FenceProtocol.SetDeadline(set.deadlineNanos()));
    }
    if (set.replyTo() != null) {
      set.replyTo().tell(new FdReply(result));
    }
    return this;
  }

  private Behavior<Command> onSendFd(SendFd send) {
    SyncFile file = files.get(send.fd());
    if (file == null) {
      send.replyTo().tell(new FdReply(Errno.EBADF.negative()));
      return this;
    }
    send.to().tell(new ReceiveFd(file.fence(), file.name(), send.replyTo()));
    return this;
  }
}
