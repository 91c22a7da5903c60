package dev.fencelab.node.process;

import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.process.OpenFile.DmaBufFile;
import dev.fencelab.node.process.OpenFile.SyncFile;
import dev.fencelab.node.process.ProcessProtocol.Command;
import dev.fencelab.node.process.ProcessProtocol.FdReply;
import dev.fencelab.protocol.Errno;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * An emulated process: its fd table, and the system calls it makes ({@link ProcessProtocol}). The sync_file calls
 * are {@link SyncFileIoctls}', the dma-buf and driver calls {@link DriverIoctls}'; the process itself closes fds and
 * passes them to other processes anywhere in the cluster (SCM_RIGHTS).
 *
 * <p>Owns: the fd table (touched on this actor's thread only: the calls' answers come back as {@link Continue}).
 * Talks to: the fences its files hold (through {@code FenceWait} and unwrap children), its member's
 * {@link Containers} (merges), drivers, reservation objects, other processes.
 */
public final class ProcessActor extends AbstractBehavior<Command> {
  /** A call's continuation, run on this actor's thread (an answer it asked for arrived). */
  record Continue(Runnable then) implements Command, NoSerializationVerificationNeeded {}

  private final ProcessContext process;
  private final SyncFileIoctls syncFiles;
  private final DriverIoctls drivers;

  /**
   * @param name for waits and violations ({@code n1/proc1})
   * @param containers the member's container owner, which builds merge results
   */
  public static Behavior<Command> create(String name, org.apache.pekko.actor.typed.ActorRef<ContextOwner.Command> containers,
      FenceServices services) {
    return Behaviors.setup(context -> new ProcessActor(context, name, containers, services));
  }

  private ProcessActor(ActorContext<Command> context, String name, org.apache.pekko.actor.typed.ActorRef<ContextOwner.Command> containers,
      FenceServices services) {
    super(context);
    this.process = new ProcessContext(context, name, containers, services);
    this.syncFiles = new SyncFileIoctls(process);
    this.drivers = new DriverIoctls(process);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ProcessProtocol.SyncFileCreate.class, c -> run(() -> syncFiles.create(c)))
        .onMessage(ProcessProtocol.SyncMerge.class, m -> run(() -> syncFiles.merge(m)))
        .onMessage(ProcessProtocol.SyncFileInfo.class, i -> run(() -> syncFiles.fileInfo(i)))
        .onMessage(ProcessProtocol.SyncFileWait.class, this::onPoll)
        .onMessage(ProcessProtocol.SyncSetDeadline.class, d -> run(() -> syncFiles.setDeadline(d)))
        .onMessage(ProcessProtocol.GetFence.class, g -> run(() -> syncFiles.getFence(g)))
        .onMessage(ProcessProtocol.CloseFd.class, c -> run(() ->
            c.replyTo().tell(new FdReply(process.files.close(c.fd()) ? 0 : Errno.EBADF.negative()))))
        .onMessage(ProcessProtocol.SendFd.class, this::onSendFd)
        .onMessage(ProcessProtocol.ReceiveFd.class, r -> run(() -> r.replyTo().tell(new FdReply(process.files.install(
            r.fence() != null ? new SyncFile(r.fence(), r.name()) : new DmaBufFile(r.buf()))))))
        .onMessage(ProcessProtocol.ExportDmaBuf.class, e -> run(() -> drivers.export(e)))
        .onMessage(ProcessProtocol.ImportDmaBuf.class, i -> run(() -> drivers.importBuffer(i)))
        .onMessage(ProcessProtocol.SubmitJob.class, s -> run(() -> drivers.submit(s)))
        .onMessage(ProcessProtocol.ExportSyncFile.class, e -> run(() -> drivers.exportSyncFile(e)))
        .onMessage(ProcessProtocol.ImportSyncFile.class, i -> run(() -> drivers.importSyncFile(i)))
        .onMessage(Continue.class, c -> run(c.then()))
        .build();
  }

  private Behavior<Command> run(Runnable call) {
    call.run();
    return this;
  }

  /** {@code poll} on an fd: a sync_file's fence, or a dma-buf's writers. */
  private Behavior<Command> onPoll(ProcessProtocol.SyncFileWait wait) {
    OpenFile open = process.files.get(wait.fd());
    if (open instanceof SyncFile file) {
      syncFiles.poll(wait, file);
    } else if (open instanceof DmaBufFile d) {
      drivers.poll(wait, d);
    } else {
      wait.replyTo().tell(SyncFileIoctls.badFd());
    }
    return this;
  }

  /** SCM_RIGHTS: the receiver installs the same open file; the sender keeps its fd. */
  private Behavior<Command> onSendFd(ProcessProtocol.SendFd send) {
    OpenFile open = process.files.get(send.fd());
    if (open == null) {
      send.replyTo().tell(new FdReply(Errno.EBADF.negative()));
    } else if (open instanceof SyncFile file) {
      send.to().tell(new ProcessProtocol.ReceiveFd(file.fence(), null, file.name(), send.replyTo()));
    } else {
      DmaBufFile d = (DmaBufFile) open;
      send.to().tell(new ProcessProtocol.ReceiveFd(null, d.buf(), d.buf().id(), send.replyTo()));
    }
    return this;
  }
}
