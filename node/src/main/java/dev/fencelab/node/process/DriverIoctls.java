package dev.fencelab.node.process;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.UnwrapMerge;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.OpenFile.DmaBufFile;
import dev.fencelab.node.process.OpenFile.SyncFile;
import dev.fencelab.node.process.ProcessProtocol.FdReply;
import dev.fencelab.node.process.ProcessProtocol.PollResult;
import dev.fencelab.node.process.ProcessProtocol.Submitted;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.node.resv.ResvWait;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The dma-buf and driver calls of a process (kernel-semantics §1.12): PRIME export and import of a buffer as a
 * dma-buf fd, {@code poll} on a dma-buf (its writers), {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE} and
 * {@code IMPORT_SYNC_FILE}, and a job submission with sync_file in-fences and an optional sync_file out-fence.
 */
final class DriverIoctls {
  private final ProcessContext p;

  DriverIoctls(ProcessContext p) {
    this.p = p;
  }

  void export(ProcessProtocol.ExportDmaBuf export) {
    p.ask(DriverProtocol.ExportReply.class, export.driver(), p.callTimeout,
        ref -> new DriverProtocol.Export(p.name, export.handle(), export.omitOps(), ref),
        (r, failure) -> {
          DriverProtocol.ExportReply reply = r != null ? r : new DriverProtocol.ExportReply(Errno.ETIMEDOUT.negative(), null);
          export.replyTo().tell(new FdReply(reply.result() < 0 ? reply.result() : p.files.install(new DmaBufFile(reply.buf()))));
        });
  }

  void importBuffer(ProcessProtocol.ImportDmaBuf imp) {
    OpenFile open = p.files.get(imp.fd());
    if (!(open instanceof DmaBufFile d)) {
      imp.replyTo().tell(new DriverProtocol.BoReply(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative(), 0));
      return;
    }
    imp.driver().tell(new DriverProtocol.Import(p.name, d.buf(), imp.dynamic(), imp.noMoveNotify(), imp.peer2peer(), imp.replyTo()));
  }

  /**
   * {@code poll(POLLIN)} on a dma-buf: ready once the writers (usage ≤ WRITE) have signalled. The writers are read
   * from the buffer's reservation object, then waited for here, on the process's member (each wait traced, each
   * ending with -ENODEV if its fence's member dies); a reservation object that is gone (its member died) is -ENODEV
   * as soon as that is known, at most the call timeout later.
   */
  void poll(ProcessProtocol.SyncFileWait wait, DmaBufFile d) {
    Duration timeout = wait.timeoutMillis() < 0 ? null : Duration.ofMillis(wait.timeoutMillis());
    String waiter = p.name;
    p.spawn(WatchedAsk.create(d.buf().resv(), ref -> new Resv.GetFences(ResvUsage.WRITE, false, ref), Resv.Fences.class, p.callTimeout,
        p.<WatchedAsk.Answer<Resv.Fences>>then(answerOf(), fences -> {
          if (fences.reply() == null) {
            wait.replyTo().tell(new PollResult(Errno.ENODEV.negative(), FenceStatus.PENDING)); // the buffer's member is gone
            return;
          }
          List<FenceRef> writers = fences.reply().entries().stream().filter(e -> !e.signalled()).map(Resv.Entry::fence).toList();
          p.spawn(ResvWait.create(d.buf().id(), writers, timeout, waiter, p.then(WaitResult.class,
              r -> wait.replyTo().tell(r.result() < 0 ? new PollResult((int) r.result(), r.status()) : SyncFileIoctls.pollResult(r))),
              p.services));
        })));
  }

  @SuppressWarnings("unchecked")
  private static <T> Class<WatchedAsk.Answer<T>> answerOf() {
    return (Class<WatchedAsk.Answer<T>>) (Class<?>) WatchedAsk.Answer.class;
  }

  void submit(ProcessProtocol.SubmitJob submit) {
    List<FenceRef> in = new ArrayList<>();
    for (int fd : submit.inFenceFds()) {
      OpenFile open = p.files.get(fd);
      if (!(open instanceof SyncFile s)) {
        submit.replyTo().tell(new Submitted(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative(), -1, null));
        return;
      }
      in.add(s.fence());
    }
    p.ask(DriverProtocol.SubmitReply.class, submit.driver(), p.callTimeout.multipliedBy(2),
        ref -> new DriverProtocol.Submit(p.name, submit.job(), in, ref),
        (r, failure) -> {
          DriverProtocol.SubmitReply reply = r != null ? r : new DriverProtocol.SubmitReply(Errno.ETIMEDOUT.negative(), null);
          if (reply.result() < 0) {
            submit.replyTo().tell(new Submitted(reply.result(), -1, null));
            return;
          }
          int fd = submit.outSyncFile() ? p.files.install(new SyncFile(reply.outFence(), submit.job().label())) : -1;
          submit.replyTo().tell(new Submitted(0, fd, reply.outFence()));
        });
  }

  private static boolean validSyncFlags(int flags) {
    return (flags & ~3) == 0 && (flags & 3) != 0; // a non-empty subset of DMA_BUF_SYNC_RW
  }

  void exportSyncFile(ProcessProtocol.ExportSyncFile export) {
    OpenFile open = p.files.get(export.dmaBufFd());
    if (!(open instanceof DmaBufFile d) || !validSyncFlags(export.flags())) {
      export.replyTo().tell(new FdReply(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative()));
      return;
    }
    ResvUsage usage = (export.flags() & 2) != 0 ? ResvUsage.READ : ResvUsage.WRITE; // dma_resv_usage_rw(write)
    p.ask(Resv.Singleton.class, d.buf().resv(), p.callTimeout, ref -> new Resv.GetSingleton(usage, ref), (r, failure) -> {
      Resv.Singleton singleton = r != null ? r : new Resv.Singleton(Errno.ENODEV.negative(), null);
      if (singleton.result() < 0) {
        export.replyTo().tell(new FdReply(singleton.result()));
      } else {
        FenceRef f = singleton.fence() != null ? singleton.fence() : FenceRef.stub();
        export.replyTo().tell(new FdReply(p.files.install(new SyncFile(f, "dma-buf export"))));
      }
    });
  }

  void importSyncFile(ProcessProtocol.ImportSyncFile imp) {
    OpenFile open = p.files.get(imp.dmaBufFd());
    if (!(open instanceof DmaBufFile d) || !validSyncFlags(imp.flags())) {
      imp.replyTo().tell(new FdReply(open == null ? Errno.EBADF.negative() : Errno.EINVAL.negative()));
      return;
    }
    if (!(p.files.get(imp.syncFd()) instanceof SyncFile sync)) {
      imp.replyTo().tell(new FdReply(Errno.EINVAL.negative()));
      return;
    }
    ResvUsage usage = (imp.flags() & 2) != 0 ? ResvUsage.WRITE : ResvUsage.READ;
    p.spawn(UnwrapMerge.unwrap(List.of(sync.fence()), p.then(UnwrapMerge.Unwrapped.class, leaves -> {
      List<FenceRef> fences = leaves.leaves().stream().filter(l -> l.status().value() == 0).map(UnwrapMerge.Leaf::fence).toList();
      p.ask(Resv.Fences.class, d.buf().resv(), p.callTimeout, ref -> new Resv.Exchange(null, fences, usage, null, ref),
          (r, failure) -> imp.replyTo().tell(new FdReply(r != null ? 0 : Errno.ENODEV.negative())));
    }), p.services));
  }
}
