package dev.fencelab.node.wire;

import static dev.fencelab.node.wire.NodeSerializer.status;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.protocol.fence.v1.FenceV1;

/**
 * The codecs of processes and their file descriptors (sync_file create, merge, info, wait, deadline; fd
 * passing), registered into {@link NodeSerializer}. Manifests: {@code P.*}, {@code A.SpawnProcess},
 * {@code A.ProcessSpawned}.
 */
final class ProcessCodecs {
  private final NodeSerializer s;
  private final DmaBufCodecs dmaBufs;

  ProcessCodecs(NodeSerializer serializer) {
    this.s = serializer;
    this.dmaBufs = new DmaBufCodecs(serializer);
  }

  void register() {
    s.codec(FenceControl.SpawnProcess.class, "A.SpawnProcess",
        m -> FenceV1.SpawnProcess.newBuilder().setName(m.name()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SpawnProcess::parseFrom,
        p -> new FenceControl.SpawnProcess(p.getName(), s.req(p.getReplyTo(), "SpawnProcess.reply_to")));
    s.codec(FenceControl.ProcessSpawned.class, "A.ProcessSpawned",
        m -> FenceV1.ProcessSpawned.newBuilder().setProcess(s.refOf(m.process())).setError(m.error()).setMm(s.refOf(m.mm())).build(),
        FenceV1.ProcessSpawned::parseFrom,
        p -> new FenceControl.ProcessSpawned(s.opt(p.getProcess()), p.getError(), s.opt(p.getMm())));
    s.codec(ProcessProtocol.SyncFileCreate.class, "P.SyncFileCreate",
        m -> FenceV1.SyncFileCreate.newBuilder().setFence(s.fenceRef(m.fence())).setName(m.name()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SyncFileCreate::parseFrom,
        p -> new ProcessProtocol.SyncFileCreate(s.fenceRef(p.getFence()), p.getName(), s.req(p.getReplyTo(), "SyncFileCreate.reply_to")));
    s.codec(ProcessProtocol.FdReply.class, "P.FdReply",
        m -> FenceV1.FdReply.newBuilder().setFd(m.fd()).build(),
        FenceV1.FdReply::parseFrom,
        p -> new ProcessProtocol.FdReply(p.getFd()));
    s.codec(ProcessProtocol.SyncMerge.class, "P.SyncMerge",
        m -> FenceV1.SyncMerge.newBuilder().setFd(m.fd()).setFd2(m.fd2()).setName(m.name()).setFlags(m.flags()).setPad(m.pad())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SyncMerge::parseFrom,
        p -> new ProcessProtocol.SyncMerge(p.getFd(), p.getFd2(), p.getName(), p.getFlags(), p.getPad(), s.req(p.getReplyTo(), "SyncMerge.reply_to")));
    s.codec(ProcessProtocol.SyncFileInfo.class, "P.SyncFileInfo",
        m -> FenceV1.SyncFileInfo.newBuilder().setFd(m.fd()).setNumFences(m.numFences()).setFlags(m.flags()).setPad(m.pad())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SyncFileInfo::parseFrom,
        p -> new ProcessProtocol.SyncFileInfo(p.getFd(), p.getNumFences(), p.getFlags(), p.getPad(), s.req(p.getReplyTo(), "SyncFileInfo.reply_to")));
    s.codec(ProcessProtocol.FileInfo.class, "P.FileInfo",
        m -> {
          FenceV1.FileInfo.Builder b = FenceV1.FileInfo.newBuilder().setResult(m.result()).setName(m.name()).setStatus(m.status())
              .setNumFences(m.numFences());
          m.fences().forEach(f -> b.addFences(FenceV1.FenceInfo.newBuilder().setObjName(f.objName()).setDriverName(f.driverName())
              .setStatus(f.status()).setTimestampNanos(f.timestampNanos())));
          return b.build();
        },
        FenceV1.FileInfo::parseFrom,
        p -> new ProcessProtocol.FileInfo(p.getResult(), p.getName(), p.getStatus(), p.getNumFences(), p.getFencesList().stream()
            .map(f -> new ProcessProtocol.FenceInfo(f.getObjName(), f.getDriverName(), f.getStatus(), f.getTimestampNanos())).toList()));
    s.codec(ProcessProtocol.SyncFileWait.class, "P.SyncFileWait",
        m -> FenceV1.SyncFileWait.newBuilder().setFd(m.fd()).setTimeoutMillis(m.timeoutMillis()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SyncFileWait::parseFrom,
        p -> new ProcessProtocol.SyncFileWait(p.getFd(), p.getTimeoutMillis(), s.req(p.getReplyTo(), "SyncFileWait.reply_to")));
    s.codec(ProcessProtocol.PollResult.class, "P.PollResult",
        m -> FenceV1.PollResult.newBuilder().setResult(m.result()).setStatus(status(m.status())).build(),
        FenceV1.PollResult::parseFrom,
        p -> new ProcessProtocol.PollResult(p.getResult(), status(p.getStatus())));
    s.codec(ProcessProtocol.SyncSetDeadline.class, "P.SyncSetDeadline",
        m -> FenceV1.SyncSetDeadline.newBuilder().setFd(m.fd()).setDeadlineNanos(m.deadlineNanos()).setPad(m.pad())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SyncSetDeadline::parseFrom,
        p -> new ProcessProtocol.SyncSetDeadline(p.getFd(), p.getDeadlineNanos(), p.getPad(), s.opt(p.getReplyTo())));
    s.codec(ProcessProtocol.CloseFd.class, "P.CloseFd",
        m -> FenceV1.CloseFd.newBuilder().setFd(m.fd()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.CloseFd::parseFrom,
        p -> new ProcessProtocol.CloseFd(p.getFd(), s.req(p.getReplyTo(), "CloseFd.reply_to")));
    s.codec(ProcessProtocol.GetFence.class, "P.GetFence",
        m -> FenceV1.GetFence.newBuilder().setFd(m.fd()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.GetFence::parseFrom,
        p -> new ProcessProtocol.GetFence(p.getFd(), s.req(p.getReplyTo(), "GetFence.reply_to")));
    s.codec(ProcessProtocol.FenceReply.class, "P.FenceReply",
        m -> {
          FenceV1.FenceReply.Builder b = FenceV1.FenceReply.newBuilder().setResult(m.result());
          if (m.fence() != null) {
            b.setFence(s.fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.FenceReply::parseFrom,
        p -> new ProcessProtocol.FenceReply(p.getResult(), p.hasFence() ? s.fenceRef(p.getFence()) : null));
    s.codec(ProcessProtocol.SendFd.class, "P.SendFd",
        m -> FenceV1.SendFd.newBuilder().setFd(m.fd()).setTo(s.refOf(m.to())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SendFd::parseFrom,
        p -> new ProcessProtocol.SendFd(p.getFd(), s.req(p.getTo(), "SendFd.to"), s.req(p.getReplyTo(), "SendFd.reply_to")));
    s.codec(ProcessProtocol.ReceiveFd.class, "P.ReceiveFd",
        m -> {
          FenceV1.ReceiveFd.Builder b = FenceV1.ReceiveFd.newBuilder().setName(m.name()).setReplyTo(s.refOf(m.replyTo()));
          if (m.fence() != null) {
            b.setFence(s.fenceRef(m.fence()));
          } else {
            b.setDmaBuf(dmaBufs.dmaBuf(m.buf()).toByteString());
          }
          return b.build();
        },
        FenceV1.ReceiveFd::parseFrom,
        p -> new ProcessProtocol.ReceiveFd(p.hasFence() ? s.fenceRef(p.getFence()) : null,
            p.hasFence() ? null : dmaBufs.dmaBuf(DmaBufCodecs.parseDmaBuf(p.getDmaBuf())),
            p.getName(), s.req(p.getReplyTo(), "ReceiveFd.reply_to")));
  }
}
