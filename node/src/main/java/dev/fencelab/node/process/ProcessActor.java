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
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.node.NodeWireMessage;
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
  public record ImportDmaBuf(int fd, ActorRef<DriverProtocol.Command> driver, boolean dynamic, boolean noMoveNotify,
      ActorRef<DriverProtocol.BoReply> replyTo) implements Command, NodeWireMessage {
    public ImportDmaBuf {
      Objects.requireNonNull(driver, "driver");
      Objects.requireNonNull(replyTo, "replyTo");
    }

    public ImportDmaBuf(int fd, ActorRef<DriverProtocol.Command> driver, boolean dynamic, ActorRef<DriverProtocol.BoReply> replyTo) {
      this(fd, driver, dynamic, false, replyTo);
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

  private record Merged(String name, ActorRef<FdReply> replyTo, FenceRef fence) implements Command, NoSerializationVerificationNeeded {}

  private record Unwrapped(SyncFileInfo request, SyncFile file, UnwrapMerge.Unwrapped leaves)
      implements Command, NoSerializationVerificationNeeded {}

  private record Waited(ActorRef<PollResult> replyTo, WaitResult result) implements Command, NoSerializationVerificationNeeded {}

  private record Reply<T>(ActorRef<T> to, T message) implements Command, NoSerializationVerificationNeeded {}

  private record Exported(DriverProtocol.ExportReply reply, ActorRef<FdReply> replyTo) implements Command, NoSerializationVerificationNeeded {}

  private record JobSubmitted(DriverProtocol.SubmitReply reply, boolean outSyncFile, String label, ActorRef<Submitted> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  private record Snapshot(Resv.Singleton singleton, ActorRef<FdReply> replyTo) implements Command, NoSerializationVerificationNeeded {}

  private record ImportLeaves(DmaBufFile file, ResvUsage usage, UnwrapMerge.Unwrapped leaves, ActorRef<FdReply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /** An open file. */
  private sealed interface OpenFile {}

  /** An open sync_file: a name and one fence (possibly an array). */
  private record SyncFile(FenceRef fence, String name) implements OpenFile {}

  /** An open dma-buf. */
  private record DmaBufFile(DmaBufRef buf) implements OpenFile {}

  private static final int FIRST_FD = 3;

  private final String name;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final TreeMap<Integer, OpenFile> files = new TreeMap<>();
  private final java.time.Duration callTimeout;

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
    this.callTimeout = context.getSystem().settings().config().getDuration("fencelab.device.call-timeout");
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
          OpenFile f = files.get(g.fd());
          g.replyTo().tell(f instanceof SyncFile s ? new FenceReply(0, s.fence())
              : new FenceReply(f == null ? Errno.EBADF.negative() : Errno.EINVAL.negative(), null));
          return this;
        })
        .onMessage(SendFd.class, this::onSendFd)
        .onMessage(ReceiveFd.class, r -> {
          r.replyTo().tell(new FdReply(install(r.fence() != null ? new SyncFile(r.fence(), r.name()) : new DmaBufFile(r.buf()))));
          return this;
        })
        .onMessage(ExportDmaBuf.class, this::onExportDmaBuf)
        .onMessage(Exported.class, e -> {
          e.replyTo().tell(new FdReply(e.reply().result() < 0 ? e.reply().result() : install(new DmaBufFile(e.reply().buf()))));
          return this;
        })
        .onMessage(ImportDmaBuf.class, this::onImportDmaBuf)
        .onMessage(SubmitJob.class, this::onSubmitJob)
        .onMessage(JobSubmitted.class, this::onJobSubmitted)
        .onMessage(ExportSyncFile.class, this::onExportSyncFile)
        .onMessage(Snapshot.class, sn -> {
          if (sn.singleton().result() < 0) {
            sn.replyTo().tell(new FdReply(sn.singleton().result()));
          } else {
            FenceRef f = sn.singleton().fence() != null ? sn.singleton().fence() : FenceRef.stub();
            sn.replyTo().tell(new FdReply(install(new SyncFile(f, "dma-buf export"))));
          }
          return this;
        })
        .onMessage(ImportSyncFile.class, this::onImportSyncFile)
        .onMessage(ImportLeaves.class, this::onImportLeaves)
        .onMessage(Reply.class, this::onReply)
        .build();
  }

  /** The lowest free fd, as POSIX allocates. */
  private int install(OpenFile file) {
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
    OpenFile fa = files.get(merge.fd());
    if (!(fa instanceof SyncFile a)) {
      merge.replyTo().tell(new FdReply(fa == null ? Errno.EBADF.negative() : Errno.ENOTTY.negative()));
      return this;
    }
    if (!(files.get(merge.fd2()) instanceof SyncFile b)) {
      merge.replyTo().tell(new FdReply(Errno.ENOENT.negative()));
      return this;
    }
    ActorRef<FenceRef> adapter = dev.fencelab.node.fence.OneShot.adapter(getContext(), FenceRef.class, f -> new Merged(merge.name(), merge.replyTo(), f));
    containers.tell(new Containers.Merge(List.of(a.fence(), b.fence()), adapter));
    return this;
  }

  private Behavior<Command> onFileInfo(SyncFileInfo info) {
    if (info.flags() != 0 || info.pad() != 0) {
      info.replyTo().tell(new FileInfo(Errno.EINVAL.negative(), "", 0, 0, List.of()));
      return this;
    }
    OpenFile open = files.get(info.fd());
    if (!(open instanceof SyncFile file)) {
      info.replyTo().tell(new FileInfo(open == null ? Errno.EBADF.negative() : Errno.ENOTTY.negative(), "", 0, 0, List.of()));
      return this;
    }
    getContext().spawnAnonymous(UnwrapMerge.unwrap(List.of(file.fence()),
        dev.fencelab.node.fence.OneShot.adapter(getContext(), UnwrapMerge.Unwrapped.class, u -> new Unwrapped(info, file, u)), services));
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
    OpenFile open = files.get(wait.fd());
    if (open == null) {
      wait.replyTo().tell(new PollResult(Errno.EBADF.negative(), FenceStatus.PENDING));
      return this;
    }
    if (open instanceof DmaBufFile d) {
      // poll(POLLIN) on a dma-buf: ready once the writers (usage ≤ WRITE) have signalled (§1.12).
      long nanos = wait.timeoutMillis() < 0 ? -1 : wait.timeoutMillis() * 1_000_000L;
      getContext().ask(WaitResult.class, d.buf().resv(), wait.timeoutMillis() < 0 ? services.waitCap().plusSeconds(5)
              : Duration.ofMillis(wait.timeoutMillis()).plus(callTimeout),
          ref -> new Resv.Wait(ResvUsage.WRITE, nanos, name + " poll dma-buf fd " + wait.fd(), ref),
          (r, failure) -> r != null ? new Waited(wait.replyTo(), r)
              : new Reply<>(wait.replyTo(), new PollResult(Errno.ENODEV.negative(), FenceStatus.PENDING)));
      return this;
    }
    SyncFile file = (SyncFile) open;
    Duration timeout = wait.timeoutMillis() < 0 ? null : Duration.ofMillis(wait.timeoutMillis());
    ActorRef<WaitResult> adapter = dev.fencelab.node.fence.OneShot.adapter(getContext(), WaitResult.class, r -> new Waited(wait.replyTo(), r));
    getContext().spawnAnonymous(FenceWait.create(file.fence(), timeout, name, "sync_file poll fd " + wait.fd(), adapter, services));
    return this;
  }

  private Behavior<Command> onSetDeadline(SyncSetDeadline set) {
    OpenFile open = files.get(set.fd());
    SyncFile file = open instanceof SyncFile s ? s : null;
    int result = open == null ? Errno.EBADF.negative() : file == null ? Errno.ENOTTY.negative() : set.pad() != 0 ? Errno.EINVAL.negative() : 0;
    if (result == 0 && !file.fence().isStub()) {
      file.fence().actor().tell(new FenceProtocol.SetDeadline(set.deadlineNanos()));
    }
    if (set.replyTo() != null) {
      set.replyTo().tell(new FdReply(result));
    }
    return this;
  }

  private Behavior<Command> onSendFd(SendFd send) {
    OpenFile open = files.get(send.fd());
    if (open == null) {
      send.replyTo().tell(new FdReply(Errno.EBADF.negative()));
    } else if (open instanceof SyncFile file) {
      send.to().tell(new ReceiveFd(file.fence(), null, file.name(), send.replyTo()));
    } else {
      DmaBufFile d = (DmaBufFile) open;
      send.to().tell(new ReceiveFd(null, d.buf(), d.buf().id(), send.replyTo()));
    }
    return this;
  }

  @SuppressWarnings("unchecked")
  private Behavior<Command> onReply(Reply<?> reply) {
    ((ActorRef<Object>) reply.to()).tell(reply.message());
    return this;
  }

  // --- dma-buf and driver calls

  private Behavior<Command> onExportDmaBuf(ExportDmaBuf export) {
    getContext().ask(DriverProtocol.ExportReply.class, export.driver(), callTimeout,
        ref -> new DriverProtocol.Export(name, export.handle(), export.omitOps(), ref),
        (r, failure) -> new Exported(r != null ? r : new DriverProtocol.ExportReply(Errno.ETIMEDOUT.negative(), null), export.replyTo()));
    return this;
  }

  private Behavior<Command> onImportDmaBuf(ImportDmaBuf imp) {
    OpenFile open = files.get(imp.fd());
    if (!(open instanceof DmaBufFile d)) {
      imp.replyTo().tell(new DriverProtocol.BoReply(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative(), 0));
      return this;
    }
    imp.driver().tell(new DriverProtocol.Import(name, d.buf(), imp.dynamic(), imp.noMoveNotify(), imp.replyTo()));
    return this;
  }

  private Behavior<Command> onSubmitJob(SubmitJob submit) {
    List<FenceRef> in = new ArrayList<>();
    for (int fd : submit.inFenceFds()) {
      OpenFile open = files.get(fd);
      if (!(open instanceof SyncFile s)) {
        submit.replyTo().tell(new Submitted(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative(), -1, null));
        return this;
      }
      in.add(s.fence());
    }
    getContext().ask(DriverProtocol.SubmitReply.class, submit.driver(), callTimeout.multipliedBy(2),
        ref -> new DriverProtocol.Submit(name, submit.job(), in, ref),
        (r, failure) -> new JobSubmitted(r != null ? r : new DriverProtocol.SubmitReply(Errno.ETIMEDOUT.negative(), null),
            submit.outSyncFile(), submit.job().label(), submit.replyTo()));
    return this;
  }

  private Behavior<Command> onJobSubmitted(JobSubmitted s) {
    if (s.reply().result() < 0) {
      s.replyTo().tell(new Submitted(s.reply().result(), -1, null));
      return this;
    }
    int fd = s.outSyncFile() ? install(new SyncFile(s.reply().outFence(), s.label())) : -1;
    s.replyTo().tell(new Submitted(0, fd, s.reply().outFence()));
    return this;
  }

  private static boolean validSyncFlags(int flags) {
    return (flags & ~3) == 0 && (flags & 3) != 0; // a non-empty subset of DMA_BUF_SYNC_RW
  }

  private Behavior<Command> onExportSyncFile(ExportSyncFile export) {
    OpenFile open = files.get(export.dmaBufFd());
    if (open == null || !(open instanceof DmaBufFile) || !validSyncFlags(export.flags())) {
      export.replyTo().tell(new FdReply(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative()));
      return this;
    }
    DmaBufFile d = (DmaBufFile) open;
    ResvUsage usage = (export.flags() & 2) != 0 ? ResvUsage.READ : ResvUsage.WRITE; // dma_resv_usage_rw(write)
    getContext().ask(Resv.Singleton.class, d.buf().resv(), callTimeout, ref -> new Resv.GetSingleton(usage, ref),
        (r, failure) -> new Snapshot(r != null ? r : new Resv.Singleton(Errno.ENODEV.negative(), null), export.replyTo()));
    return this;
  }

  private Behavior<Command> onImportSyncFile(ImportSyncFile imp) {
    OpenFile open = files.get(imp.dmaBufFd());
    if (open == null || !(open instanceof DmaBufFile) || !validSyncFlags(imp.flags())) {
      imp.replyTo().tell(new FdReply(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative()));
      return this;
    }
    if (!(files.get(imp.syncFd()) instanceof SyncFile sync)) {
      imp.replyTo().tell(new FdReply(Errno.EINVAL.negative()));
      return this;
    }
    ResvUsage usage = (imp.flags() & 2) != 0 ? ResvUsage.WRITE : ResvUsage.READ;
    DmaBufFile d = (DmaBufFile) open;
    getContext().spawnAnonymous(UnwrapMerge.unwrap(List.of(sync.fence()),
        dev.fencelab.node.fence.OneShot.adapter(getContext(), UnwrapMerge.Unwrapped.class,
            u -> new ImportLeaves(d, usage, u, imp.replyTo())), services));
    return this;
  }

  private Behavior<Command> onImportLeaves(ImportLeaves leaves) {
    List<FenceRef> fences = leaves.leaves().leaves().stream().filter(l -> l.status().value() == 0).map(UnwrapMerge.Leaf::fence).toList();
    getContext().ask(Resv.Fences.class, leaves.file().buf().resv(), callTimeout,
        ref -> new Resv.Exchange(null, fences, leaves.usage(), null, ref),
        (r, failure) -> new Reply<>(leaves.replyTo(), new FdReply(r != null ? 0 : Errno.ENODEV.negative())));
    return this;
  }
}
