package dev.fencelab.node.wire;

import dev.fencelab.node.process.ProcessProtocol;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.fencelab.node.NodeWireMessage;
import com.google.protobuf.MessageLite;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.ChainFindSeqno;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceLinks;
import dev.fencelab.node.fence.FenceChain;
import dev.fencelab.node.fence.FenceContext;
import dev.fencelab.node.fence.FenceId;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.resv.AcquireCtx;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.node.sync.SwSyncTimeline;
import dev.fencelab.protocol.fence.v1.FenceV1;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.ExtendedActorSystem;
import dev.fencelab.protocol.wire.RefResolvingSerializer;

/**
 * Maps every {@link NodeWireMessage} to its protobuf form ({@code fencelab/fence/v1/fence.proto}) and back:
 * the one place where node protobuf classes meet domain records. One codec per message type, registered in
 * the constructor: a manifest (stable short name), an encoder and a decoder. Malformed bytes, an unknown
 * manifest or a missing field raise {@link NotSerializableException} naming the message.
 */
public final class NodeSerializer extends RefResolvingSerializer implements dev.fencelab.node.fence.FenceCodec {
  public static final int IDENTIFIER = 740102;

  interface Parser<P> {
    P parse(byte[] bytes) throws InvalidProtocolBufferException;
  }

  interface Decoder<P, T> {
    T decode(P proto) throws NotSerializableException;
  }

  private record Codec<T, P extends MessageLite>(String manifest, Function<T, P> encoder, Parser<P> parser, Decoder<P, T> decoder) {}

  private final Map<Class<?>, Codec<?, ?>> byClass = new HashMap<>();
  private final Map<String, Codec<?, ?>> byManifest = new HashMap<>();

  public NodeSerializer(ExtendedActorSystem system) {
    super(system);
    registerFenceCommands();
    registerFenceReplies();
    registerFenceLinks();
    registerOwners();
    registerSwSync();
    registerFenceControl();
    registerContainers();
    registerProcesses();
    registerResv();
    new DeviceCodecs(this).register();
    new MmCodecs(this).register();
    new RdmaCodecs(this).register();
    new BenchCodecs(this).register();
  }

  private void registerResv() {
    codec(FenceControl.SpawnResv.class, "A.SpawnResv",
        m -> FenceV1.SpawnResv.newBuilder().setName(m.name()).setMode(mode(m.mode())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SpawnResv::parseFrom,
        p -> new FenceControl.SpawnResv(p.getName(), mode(p.getMode()), required(p.getReplyTo(), "SpawnResv.reply_to")));
    codec(FenceControl.ResvSpawned.class, "A.ResvSpawned",
        m -> FenceV1.ResvSpawned.newBuilder().setResv(ref(m.resv())).setError(m.error()).setMode(mode(m.mode())).build(),
        FenceV1.ResvSpawned::parseFrom,
        p -> new FenceControl.ResvSpawned(optional(p.getResv()), p.getError(), mode(p.getMode())));
    codec(Resv.Lock.class, "R.Lock",
        m -> FenceV1.ResvLock.newBuilder().setCtx(ctx(m.ctx())).setSlow(m.slow()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvLock::parseFrom,
        p -> new Resv.Lock(ctx(p.getCtx()), p.getSlow(), required(p.getReplyTo(), "Lock.reply_to")));
    codec(Resv.TryLock.class, "R.TryLock",
        m -> FenceV1.ResvTryLock.newBuilder().setCtx(ctx(m.ctx())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvTryLock::parseFrom,
        p -> new Resv.TryLock(ctx(p.getCtx()), required(p.getReplyTo(), "TryLock.reply_to")));
    codec(Resv.LockReply.class, "R.LockReply",
        m -> FenceV1.ResvLockReply.newBuilder().setResv(m.resv()).setResult(m.result()).build(),
        FenceV1.ResvLockReply::parseFrom,
        p -> new Resv.LockReply(p.getResv(), p.getResult()));
    codec(Resv.Unlock.class, "R.Unlock",
        m -> FenceV1.ResvUnlock.newBuilder().setCtx(ctx(m.ctx())).build(),
        FenceV1.ResvUnlock::parseFrom,
        p -> new Resv.Unlock(ctx(p.getCtx())));
    codec(Resv.Reserve.class, "R.Reserve",
        m -> FenceV1.ResvReserve.newBuilder().setCtx(ctx(m.ctx())).setN(m.n()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvReserve::parseFrom,
        p -> new Resv.Reserve(ctx(p.getCtx()), p.getN(), optional(p.getReplyTo())));
    codec(Resv.AddFence.class, "R.AddFence",
        m -> FenceV1.ResvAddFence.newBuilder().setCtx(ctx(m.ctx())).setFence(fenceRef(m.fence())).setUsage(usage(m.usage()))
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvAddFence::parseFrom,
        p -> new Resv.AddFence(ctx(p.getCtx()), fenceRef(p.getFence()), usage(p.getUsage()), optional(p.getReplyTo())));
    codec(Resv.AddShared.class, "R.AddShared",
        m -> FenceV1.ResvAddShared.newBuilder().setCtx(ctx(m.ctx())).setFence(fenceRef(m.fence())).addAllOrderedAfter(m.orderedAfter())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvAddShared::parseFrom,
        p -> new Resv.AddShared(ctx(p.getCtx()), fenceRef(p.getFence()), p.getOrderedAfterList(), optional(p.getReplyTo())));
    codec(Resv.AddExclusive.class, "R.AddExclusive",
        m -> {
          FenceV1.ResvAddExclusive.Builder b = FenceV1.ResvAddExclusive.newBuilder().setCtx(ctx(m.ctx()))
              .addAllOrderedAfter(m.orderedAfter()).setReplyTo(ref(m.replyTo()));
          if (m.fence() != null) {
            b.setFence(fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.ResvAddExclusive::parseFrom,
        p -> new Resv.AddExclusive(ctx(p.getCtx()), p.hasFence() ? fenceRef(p.getFence()) : null, p.getOrderedAfterList(),
            optional(p.getReplyTo())));
    codec(Resv.Result.class, "R.Result",
        m -> FenceV1.ResvResult.newBuilder().setResult(m.result()).build(),
        FenceV1.ResvResult::parseFrom,
        p -> new Resv.Result(p.getResult()));
    codec(Resv.GetFences.class, "R.GetFences",
        m -> FenceV1.ResvGetFences.newBuilder().setUsage(usage(m.usage())).setIncludeSignalled(m.includeSignalled())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvGetFences::parseFrom,
        p -> new Resv.GetFences(usage(p.getUsage()), p.getIncludeSignalled(), required(p.getReplyTo(), "GetFences.reply_to")));
    codec(Resv.Fences.class, "R.Fences",
        m -> {
          FenceV1.ResvFences.Builder b = FenceV1.ResvFences.newBuilder();
          m.entries().forEach(e -> b.addEntries(FenceV1.ResvEntry.newBuilder().setFence(fenceRef(e.fence()))
              .setUsage(usage(e.usage())).setSignalled(e.signalled())));
          return b.setSignalledModelNanos(m.signalledModelNanos()).build();
        },
        FenceV1.ResvFences::parseFrom,
        p -> {
          java.util.List<Resv.Entry> entries = new java.util.ArrayList<>();
          for (FenceV1.ResvEntry e : p.getEntriesList()) {
            entries.add(new Resv.Entry(fenceRef(e.getFence()), usage(e.getUsage()), e.getSignalled()));
          }
          return new Resv.Fences(entries, p.getSignalledModelNanos());
        });
    codec(Resv.GetSingleton.class, "R.GetSingleton",
        m -> FenceV1.ResvGetSingleton.newBuilder().setUsage(usage(m.usage())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvGetSingleton::parseFrom,
        p -> new Resv.GetSingleton(usage(p.getUsage()), required(p.getReplyTo(), "GetSingleton.reply_to")));
    codec(Resv.Singleton.class, "R.Singleton",
        m -> {
          FenceV1.ResvSingleton.Builder b = FenceV1.ResvSingleton.newBuilder().setResult(m.result());
          if (m.fence() != null) {
            b.setFence(fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.ResvSingleton::parseFrom,
        p -> new Resv.Singleton(p.getResult(), p.hasFence() ? fenceRef(p.getFence()) : null));
    codec(Resv.Wait.class, "R.Wait",
        m -> FenceV1.ResvWait.newBuilder().setUsage(usage(m.usage())).setTimeoutNanos(m.timeoutNanos()).setWaiter(m.waiter())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvWait::parseFrom,
        p -> new Resv.Wait(usage(p.getUsage()), p.getTimeoutNanos(), p.getWaiter(), required(p.getReplyTo(), "Wait.reply_to")));
    codec(Resv.Wait2020.class, "R.Wait2020",
        m -> FenceV1.ResvWait2020.newBuilder().setAll(m.all()).setTimeoutNanos(m.timeoutNanos()).setWaiter(m.waiter())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvWait2020::parseFrom,
        p -> new Resv.Wait2020(p.getAll(), p.getTimeoutNanos(), p.getWaiter(), required(p.getReplyTo(), "Wait2020.reply_to")));
    codec(Resv.GetState.class, "R.GetState",
        m -> FenceV1.ResvGetState.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ResvGetState::parseFrom,
        p -> new Resv.GetState(required(p.getReplyTo(), "GetState.reply_to")));
    codec(Resv.State.class, "R.State",
        m -> FenceV1.ResvState.newBuilder().setName(m.name()).setMode(mode(m.mode())).setNumFences(m.numFences())
            .setMaxFences(m.maxFences()).setHolder(m.holder()).build(),
        FenceV1.ResvState::parseFrom,
        p -> new Resv.State(p.getName(), mode(p.getMode()), p.getNumFences(), p.getMaxFences(), p.getHolder()));
  }

  private static FenceV1.AcquireCtx ctx(AcquireCtx c) {
    return FenceV1.AcquireCtx.newBuilder().setStamp(c.stamp()).setName(c.name()).build();
  }

  private static AcquireCtx ctx(FenceV1.AcquireCtx p) {
    return new AcquireCtx(p.getStamp(), p.getName());
  }

  static FenceV1.ResvUsage usage(ResvUsage u) {
    return FenceV1.ResvUsage.forNumber(u.ordinal());
  }

  static ResvUsage usage(FenceV1.ResvUsage u) throws NotSerializableException {
    if (u == FenceV1.ResvUsage.UNRECOGNIZED) {
      throw new NotSerializableException("unknown dma_resv usage");
    }
    return ResvUsage.values()[u.getNumber()];
  }

  private static FenceV1.ResvMode mode(Resv.Mode m) {
    return m == null ? FenceV1.ResvMode.RESV_MODE_UNSPECIFIED : m == Resv.Mode.MODERN ? FenceV1.ResvMode.MODERN : FenceV1.ResvMode.Y2020;
  }

  private static Resv.Mode mode(FenceV1.ResvMode m) {
    return switch (m) {
      case MODERN -> Resv.Mode.MODERN;
      case Y2020 -> Resv.Mode.Y2020;
      default -> null;
    };
  }

  private void registerProcesses() {
    codec(FenceControl.SpawnProcess.class, "A.SpawnProcess",
        m -> FenceV1.SpawnProcess.newBuilder().setName(m.name()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SpawnProcess::parseFrom,
        p -> new FenceControl.SpawnProcess(p.getName(), required(p.getReplyTo(), "SpawnProcess.reply_to")));
    codec(FenceControl.ProcessSpawned.class, "A.ProcessSpawned",
        m -> FenceV1.ProcessSpawned.newBuilder().setProcess(ref(m.process())).setError(m.error()).setMm(ref(m.mm())).build(),
        FenceV1.ProcessSpawned::parseFrom,
        p -> new FenceControl.ProcessSpawned(optional(p.getProcess()), p.getError(), optional(p.getMm())));
    codec(ProcessProtocol.SyncFileCreate.class, "P.SyncFileCreate",
        m -> FenceV1.SyncFileCreate.newBuilder().setFence(fenceRef(m.fence())).setName(m.name()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SyncFileCreate::parseFrom,
        p -> new ProcessProtocol.SyncFileCreate(fenceRef(p.getFence()), p.getName(), required(p.getReplyTo(), "SyncFileCreate.reply_to")));
    codec(ProcessProtocol.FdReply.class, "P.FdReply",
        m -> FenceV1.FdReply.newBuilder().setFd(m.fd()).build(),
        FenceV1.FdReply::parseFrom,
        p -> new ProcessProtocol.FdReply(p.getFd()));
    codec(ProcessProtocol.SyncMerge.class, "P.SyncMerge",
        m -> FenceV1.SyncMerge.newBuilder().setFd(m.fd()).setFd2(m.fd2()).setName(m.name()).setFlags(m.flags()).setPad(m.pad())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SyncMerge::parseFrom,
        p -> new ProcessProtocol.SyncMerge(p.getFd(), p.getFd2(), p.getName(), p.getFlags(), p.getPad(), required(p.getReplyTo(), "SyncMerge.reply_to")));
    codec(ProcessProtocol.SyncFileInfo.class, "P.SyncFileInfo",
        m -> FenceV1.SyncFileInfo.newBuilder().setFd(m.fd()).setNumFences(m.numFences()).setFlags(m.flags()).setPad(m.pad())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SyncFileInfo::parseFrom,
        p -> new ProcessProtocol.SyncFileInfo(p.getFd(), p.getNumFences(), p.getFlags(), p.getPad(), required(p.getReplyTo(), "SyncFileInfo.reply_to")));
    codec(ProcessProtocol.FileInfo.class, "P.FileInfo",
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
    codec(ProcessProtocol.SyncFileWait.class, "P.SyncFileWait",
        m -> FenceV1.SyncFileWait.newBuilder().setFd(m.fd()).setTimeoutMillis(m.timeoutMillis()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SyncFileWait::parseFrom,
        p -> new ProcessProtocol.SyncFileWait(p.getFd(), p.getTimeoutMillis(), required(p.getReplyTo(), "SyncFileWait.reply_to")));
    codec(ProcessProtocol.PollResult.class, "P.PollResult",
        m -> FenceV1.PollResult.newBuilder().setResult(m.result()).setStatus(status(m.status())).build(),
        FenceV1.PollResult::parseFrom,
        p -> new ProcessProtocol.PollResult(p.getResult(), status(p.getStatus())));
    codec(ProcessProtocol.SyncSetDeadline.class, "P.SyncSetDeadline",
        m -> FenceV1.SyncSetDeadline.newBuilder().setFd(m.fd()).setDeadlineNanos(m.deadlineNanos()).setPad(m.pad())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SyncSetDeadline::parseFrom,
        p -> new ProcessProtocol.SyncSetDeadline(p.getFd(), p.getDeadlineNanos(), p.getPad(), optional(p.getReplyTo())));
    codec(ProcessProtocol.CloseFd.class, "P.CloseFd",
        m -> FenceV1.CloseFd.newBuilder().setFd(m.fd()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.CloseFd::parseFrom,
        p -> new ProcessProtocol.CloseFd(p.getFd(), required(p.getReplyTo(), "CloseFd.reply_to")));
    codec(ProcessProtocol.GetFence.class, "P.GetFence",
        m -> FenceV1.GetFence.newBuilder().setFd(m.fd()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.GetFence::parseFrom,
        p -> new ProcessProtocol.GetFence(p.getFd(), required(p.getReplyTo(), "GetFence.reply_to")));
    codec(ProcessProtocol.FenceReply.class, "P.FenceReply",
        m -> {
          FenceV1.FenceReply.Builder b = FenceV1.FenceReply.newBuilder().setResult(m.result());
          if (m.fence() != null) {
            b.setFence(fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.FenceReply::parseFrom,
        p -> new ProcessProtocol.FenceReply(p.getResult(), p.hasFence() ? fenceRef(p.getFence()) : null));
    codec(ProcessProtocol.SendFd.class, "P.SendFd",
        m -> FenceV1.SendFd.newBuilder().setFd(m.fd()).setTo(ref(m.to())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SendFd::parseFrom,
        p -> new ProcessProtocol.SendFd(p.getFd(), required(p.getTo(), "SendFd.to"), required(p.getReplyTo(), "SendFd.reply_to")));
    codec(ProcessProtocol.ReceiveFd.class, "P.ReceiveFd",
        m -> {
          FenceV1.ReceiveFd.Builder b = FenceV1.ReceiveFd.newBuilder().setName(m.name()).setReplyTo(ref(m.replyTo()));
          if (m.fence() != null) {
            b.setFence(fenceRef(m.fence()));
          } else {
            b.setDmaBuf(new DeviceCodecs(this).dmaBuf(m.buf()).toByteString());
          }
          return b.build();
        },
        FenceV1.ReceiveFd::parseFrom,
        p -> new ProcessProtocol.ReceiveFd(p.hasFence() ? fenceRef(p.getFence()) : null,
            p.hasFence() ? null : new DeviceCodecs(this).dmaBuf(DeviceCodecs.parseDmaBuf(p.getDmaBuf())),
            p.getName(), required(p.getReplyTo(), "ReceiveFd.reply_to")));
  }

  private void registerContainers() {
    codec(FenceProtocol.GetMembers.class, "F.GetMembers",
        m -> FenceV1.GetMembers.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.GetMembers::parseFrom,
        p -> new FenceProtocol.GetMembers(required(p.getReplyTo(), "GetMembers.reply_to")));
    codec(FenceProtocol.Members.class, "F.Members",
        m -> {
          FenceV1.Members.Builder b = FenceV1.Members.newBuilder().setId(id(m.id())).setKind(kind(m.kind()));
          m.members().forEach(f -> b.addMembers(fenceRef(f)));
          if (m.prev() != null) {
            b.setPrev(fenceRef(m.prev()));
          }
          return b.build();
        },
        FenceV1.Members::parseFrom,
        p -> new FenceProtocol.Members(id(p.getId()), kind(p.getKind()), fenceRefs(p.getMembersList()),
            p.hasPrev() ? fenceRef(p.getPrev()) : null));
    codec(FenceChain.ChainStep.class, "C.ChainStep",
        m -> FenceV1.ChainStep.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.ChainStep::parseFrom,
        p -> new FenceChain.ChainStep(required(p.getReplyTo(), "ChainStep.reply_to")));
    codec(FenceChain.ChainStepReply.class, "C.ChainStepReply",
        m -> {
          FenceV1.ChainStepReply.Builder b = FenceV1.ChainStepReply.newBuilder().setId(id(m.id()))
              .setContainedSignalled(m.containedSignalled()).setPrevSeqno(m.prevSeqno());
          if (m.prev() != null) {
            b.setPrev(fenceRef(m.prev()));
          }
          return b.build();
        },
        FenceV1.ChainStepReply::parseFrom,
        p -> new FenceChain.ChainStepReply(id(p.getId()), p.getContainedSignalled(), p.getPrevSeqno(),
            p.hasPrev() ? fenceRef(p.getPrev()) : null));
    codec(Containers.CreateArray.class, "C.CreateArray",
        m -> {
          FenceV1.CreateArray.Builder b = FenceV1.CreateArray.newBuilder().setSignalOnAny(m.signalOnAny())
              .setSeqno(m.seqno()).setReplyTo(ref(m.replyTo()));
          m.members().forEach(f -> b.addMembers(fenceRef(f)));
          if (m.context() != null) {
            b.setContext(FenceV1.FenceContext.newBuilder().setOrigin(m.context().origin()).setId(m.context().id()));
          }
          return b.build();
        },
        FenceV1.CreateArray::parseFrom,
        p -> new Containers.CreateArray(fenceRefs(p.getMembersList()), p.getSignalOnAny(),
            p.hasContext() ? new FenceContext(p.getContext().getOrigin(), p.getContext().getId()) : null,
            p.getSeqno(), required(p.getReplyTo(), "CreateArray.reply_to")));
    codec(Containers.CreateChain.class, "C.CreateChain",
        m -> {
          FenceV1.CreateChain.Builder b = FenceV1.CreateChain.newBuilder().setFence(fenceRef(m.fence()))
              .setSeqno(m.seqno()).setReplyTo(ref(m.replyTo()));
          if (m.prev() != null) {
            b.setPrev(fenceRef(m.prev()));
          }
          return b.build();
        },
        FenceV1.CreateChain::parseFrom,
        p -> new Containers.CreateChain(p.hasPrev() ? fenceRef(p.getPrev()) : null, fenceRef(p.getFence()), p.getSeqno(),
            required(p.getReplyTo(), "CreateChain.reply_to")));
    codec(Containers.Merge.class, "C.Merge",
        m -> {
          FenceV1.Merge.Builder b = FenceV1.Merge.newBuilder().setReplyTo(ref(m.replyTo()));
          m.fences().forEach(f -> b.addFences(fenceRef(f)));
          return b.build();
        },
        FenceV1.Merge::parseFrom,
        p -> new Containers.Merge(fenceRefs(p.getFencesList()), required(p.getReplyTo(), "Merge.reply_to")));
    codec(Containers.FindSeqno.class, "C.FindSeqno",
        m -> FenceV1.FindSeqno.newBuilder().setHead(fenceRef(m.head())).setSeqno(m.seqno()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.FindSeqno::parseFrom,
        p -> new Containers.FindSeqno(fenceRef(p.getHead()), p.getSeqno(), required(p.getReplyTo(), "FindSeqno.reply_to")));
    codec(ChainFindSeqno.SeqnoFound.class, "C.SeqnoFound",
        m -> {
          FenceV1.SeqnoFound.Builder b = FenceV1.SeqnoFound.newBuilder().setResult(m.result());
          if (m.point() != null) {
            b.setPoint(fenceRef(m.point()));
          }
          return b.build();
        },
        FenceV1.SeqnoFound::parseFrom,
        p -> new ChainFindSeqno.SeqnoFound(p.getResult(), p.hasPoint() ? fenceRef(p.getPoint()) : null));
    codec(Containers.QueryMembers.class, "C.QueryMembers",
        m -> FenceV1.QueryMembers.newBuilder().setId(id(m.id())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.QueryMembers::parseFrom,
        p -> new Containers.QueryMembers(id(p.getId()), required(p.getReplyTo(), "QueryMembers.reply_to")));
    codec(Containers.QueryChainStep.class, "C.QueryChainStep",
        m -> FenceV1.QueryChainStep.newBuilder().setId(id(m.id())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.QueryChainStep::parseFrom,
        p -> new Containers.QueryChainStep(id(p.getId()), required(p.getReplyTo(), "QueryChainStep.reply_to")));
  }

  private java.util.List<FenceRef> fenceRefs(java.util.List<FenceV1.FenceRef> protos) throws NotSerializableException {
    java.util.List<FenceRef> out = new java.util.ArrayList<>(protos.size());
    for (FenceV1.FenceRef f : protos) {
      out.add(fenceRef(f));
    }
    return out;
  }

  private static FenceV1.FenceKind kind(FenceRef.Kind kind) {
    return FenceV1.FenceKind.valueOf(kind.name());
  }

  private static FenceRef.Kind kind(FenceV1.FenceKind kind) throws NotSerializableException {
    return switch (kind) {
      case HARDWARE -> FenceRef.Kind.HARDWARE;
      case SW_SYNC -> FenceRef.Kind.SW_SYNC;
      case ARRAY -> FenceRef.Kind.ARRAY;
      case CHAIN -> FenceRef.Kind.CHAIN;
      case STUB -> FenceRef.Kind.STUB;
      default -> throw new NotSerializableException("unknown fence kind " + kind);
    };
  }

  /** Package-private access for {@link DeviceCodecs}. */
  String refOf(org.apache.pekko.actor.typed.ActorRef<?> r) {
    return ref(r);
  }

  <T> org.apache.pekko.actor.typed.ActorRef<T> opt(String serialized) {
    return optional(serialized);
  }

  <T> org.apache.pekko.actor.typed.ActorRef<T> req(String serialized, String field) throws NotSerializableException {
    return required(serialized, field);
  }

  <T, P extends MessageLite> void codec(
      Class<T> type, String manifest, Function<T, P> encoder, Parser<P> parser, Decoder<P, T> decoder) {
    Codec<T, P> c = new Codec<>(manifest, encoder, parser, decoder);
    if (byClass.put(type, c) != null || byManifest.put(manifest, c) != null) {
      throw new IllegalStateException("duplicate codec for " + type + " / " + manifest);
    }
  }

  private void registerFenceCommands() {
    codec(FenceProtocol.AddCallback.class, "F.AddCallback",
        m -> FenceV1.AddCallback.newBuilder().setCallback(ref(m.callback())).setAck(m.ack()).build(),
        FenceV1.AddCallback::parseFrom,
        p -> new FenceProtocol.AddCallback(required(p.getCallback(), "AddCallback.callback"), p.getAck()));
    codec(FenceProtocol.RemoveCallback.class, "F.RemoveCallback",
        m -> FenceV1.RemoveCallback.newBuilder().setCallback(ref(m.callback())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.RemoveCallback::parseFrom,
        p -> new FenceProtocol.RemoveCallback(required(p.getCallback(), "RemoveCallback.callback"), optional(p.getReplyTo())));
    codec(FenceProtocol.Signal.class, "F.Signal",
        m -> FenceV1.Signal.newBuilder().setError(m.error()).setModelNanos(m.modelNanos()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.Signal::parseFrom,
        p -> new FenceProtocol.Signal(p.getError(), p.getModelNanos(), optional(p.getReplyTo())));
    codec(FenceProtocol.SetError.class, "F.SetError",
        m -> FenceV1.SetError.newBuilder().setError(m.error()).build(),
        FenceV1.SetError::parseFrom,
        p -> new FenceProtocol.SetError(p.getError()));
    codec(FenceProtocol.EnableSignaling.class, "F.EnableSignaling",
        m -> FenceV1.EnableSignaling.getDefaultInstance(),
        FenceV1.EnableSignaling::parseFrom,
        p -> FenceProtocol.EnableSignaling.INSTANCE);
    codec(FenceProtocol.SetDeadline.class, "F.SetDeadline",
        m -> FenceV1.SetDeadline.newBuilder().setDeadlineNanos(m.deadlineNanos()).build(),
        FenceV1.SetDeadline::parseFrom,
        p -> new FenceProtocol.SetDeadline(p.getDeadlineNanos()));
    codec(FenceProtocol.GetStatus.class, "F.GetStatus",
        m -> FenceV1.GetStatus.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.GetStatus::parseFrom,
        p -> new FenceProtocol.GetStatus(required(p.getReplyTo(), "GetStatus.reply_to")));
    codec(FenceProtocol.Release.class, "F.Release",
        m -> FenceV1.Release.getDefaultInstance(),
        FenceV1.Release::parseFrom,
        p -> FenceProtocol.Release.INSTANCE);
  }

  private void registerFenceLinks() {
    codec(FenceLinks.Batch.class, "F.LinkBatch",
        m -> {
          FenceV1.LinkBatch.Builder b = FenceV1.LinkBatch.newBuilder().setFrom(ref(m.from()));
          m.subscribe().forEach(f -> b.addSubscribe(fenceRef(f)));
          m.signals().forEach(x -> b.addSignals(FenceV1.Signalled.newBuilder().setId(id(x.id())).setStatus(status(x.status()))
              .setAlreadySignalled(x.alreadySignalled())));
          Map<org.apache.pekko.actor.typed.ActorRef<?>, Integer> recipients = new HashMap<>(); // most results of a batch go to a few waiters
          for (FenceLinks.Delivery d : m.results()) {
            Integer to = recipients.get(d.to());
            if (to == null) {
              to = recipients.size();
              recipients.put(d.to(), to);
              b.addRecipients(ref(d.to()));
            }
            b.addResults(FenceV1.LinkDelivery.newBuilder().setTo(to).setResult(waitResult(d.result())));
          }
          return b.build();
        },
        FenceV1.LinkBatch::parseFrom,
        p -> {
          List<FenceProtocol.Signalled> signals = new ArrayList<>(p.getSignalsCount());
          for (FenceV1.Signalled x : p.getSignalsList()) {
            signals.add(new FenceProtocol.Signalled(id(x.getId()), status(x.getStatus()), x.getAlreadySignalled()));
          }
          List<FenceLinks.Delivery> results = new ArrayList<>(p.getResultsCount());
          List<org.apache.pekko.actor.typed.ActorRef<WaitResult>> recipients = new ArrayList<>(p.getRecipientsCount());
          for (String r : p.getRecipientsList()) {
            recipients.add(required(r, "LinkBatch.recipients"));
          }
          for (FenceV1.LinkDelivery d : p.getResultsList()) {
            if (d.getTo() >= recipients.size()) {
              throw new NotSerializableException("LinkDelivery.to " + d.getTo() + " names no recipient (" + recipients.size() + ")");
            }
            results.add(new FenceLinks.Delivery(recipients.get(d.getTo()), waitResult(d.getResult())));
          }
          return new FenceLinks.Batch(required(p.getFrom(), "LinkBatch.from"), fenceRefs(p.getSubscribeList()), signals, results);
        });
  }

  private void registerFenceReplies() {
    codec(FenceProtocol.Signalled.class, "F.Signalled",
        m -> FenceV1.Signalled.newBuilder().setId(id(m.id())).setStatus(status(m.status())).setAlreadySignalled(m.alreadySignalled()).build(),
        FenceV1.Signalled::parseFrom,
        p -> new FenceProtocol.Signalled(id(p.getId()), status(p.getStatus()), p.getAlreadySignalled()));
    codec(FenceProtocol.CallbackAdded.class, "F.CallbackAdded",
        m -> FenceV1.CallbackAdded.newBuilder().setId(id(m.id())).build(),
        FenceV1.CallbackAdded::parseFrom,
        p -> new FenceProtocol.CallbackAdded(id(p.getId())));
    codec(FenceProtocol.CallbackRemoved.class, "F.CallbackRemoved",
        m -> FenceV1.CallbackRemoved.newBuilder().setId(id(m.id())).setWasPending(m.wasPending()).build(),
        FenceV1.CallbackRemoved::parseFrom,
        p -> new FenceProtocol.CallbackRemoved(id(p.getId()), p.getWasPending()));
    codec(FenceProtocol.SignalResult.class, "F.SignalResult",
        m -> FenceV1.SignalResult.newBuilder().setId(id(m.id())).setResult(m.result()).build(),
        FenceV1.SignalResult::parseFrom,
        p -> new FenceProtocol.SignalResult(id(p.getId()), p.getResult()));
    codec(FenceProtocol.StatusReply.class, "F.StatusReply",
        m -> FenceV1.StatusReply.newBuilder().setId(id(m.id())).setStatus(status(m.status()))
            .setSignalingEnabled(m.signalingEnabled()).setDeadlineNanos(m.deadlineNanos()).setEnableOpsCalls(m.enableOpsCalls()).build(),
        FenceV1.StatusReply::parseFrom,
        p -> new FenceProtocol.StatusReply(id(p.getId()), status(p.getStatus()), p.getSignalingEnabled(), p.getDeadlineNanos(),
            p.getEnableOpsCalls()));
    codec(WaitResult.class, "F.WaitResult", NodeSerializer::waitResult, FenceV1.WaitResult::parseFrom, NodeSerializer::waitResult);
  }

  private static FenceV1.WaitResult waitResult(WaitResult m) {
    return FenceV1.WaitResult.newBuilder().setId(id(m.id())).setResult(m.result()).setStatus(status(m.status())).setIndex(m.index()).build();
  }

  private static WaitResult waitResult(FenceV1.WaitResult p) throws NotSerializableException {
    return new WaitResult(id(p.getId()), p.getResult(), status(p.getStatus()), p.getIndex());
  }

  private void registerOwners() {
    codec(ContextOwner.FenceCompleted.class, "O.FenceCompleted",
        m -> FenceV1.FenceCompleted.newBuilder().setId(id(m.id())).setStatus(status(m.status())).build(),
        FenceV1.FenceCompleted::parseFrom,
        p -> new ContextOwner.FenceCompleted(id(p.getId()), status(p.getStatus())));
    codec(ContextOwner.DeadlineHint.class, "O.DeadlineHint",
        m -> FenceV1.DeadlineHint.newBuilder().setSeqno(m.seqno()).setDeadlineNanos(m.deadlineNanos()).build(),
        FenceV1.DeadlineHint::parseFrom,
        p -> new ContextOwner.DeadlineHint(p.getSeqno(), p.getDeadlineNanos()));
    codec(ContextOwner.QueryCompletion.class, "O.QueryCompletion",
        m -> FenceV1.QueryCompletion.newBuilder().setId(id(m.id())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.QueryCompletion::parseFrom,
        p -> new ContextOwner.QueryCompletion(id(p.getId()), required(p.getReplyTo(), "QueryCompletion.reply_to")));
    codec(ContextOwner.Completion.class, "O.Completion",
        m -> FenceV1.Completion.newBuilder().setId(id(m.id())).setKnown(m.known()).setStatus(status(m.status())).build(),
        FenceV1.Completion::parseFrom,
        p -> new ContextOwner.Completion(id(p.getId()), p.getKnown(), status(p.getStatus())));
    codec(FenceTimeline.CreateFence.class, "T.CreateFence",
        m -> FenceV1.CreateFence.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.CreateFence::parseFrom,
        p -> new FenceTimeline.CreateFence(required(p.getReplyTo(), "CreateFence.reply_to")));
    codec(FenceTimeline.SignalFence.class, "T.SignalFence",
        m -> FenceV1.SignalFence.newBuilder().setSeqno(m.seqno()).setError(m.error()).setModelNanos(m.modelNanos())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SignalFence::parseFrom,
        p -> new FenceTimeline.SignalFence(p.getSeqno(), p.getError(), p.getModelNanos(), optional(p.getReplyTo())));
    codec(FenceTimeline.SetFenceError.class, "T.SetFenceError",
        m -> FenceV1.SetFenceError.newBuilder().setSeqno(m.seqno()).setError(m.error()).build(),
        FenceV1.SetFenceError::parseFrom,
        p -> new FenceTimeline.SetFenceError(p.getSeqno(), p.getError()));
    codec(FenceTimeline.ReleaseFence.class, "T.ReleaseFence",
        m -> FenceV1.ReleaseFence.newBuilder().setSeqno(m.seqno()).build(),
        FenceV1.ReleaseFence::parseFrom,
        p -> new FenceTimeline.ReleaseFence(p.getSeqno()));
    codec(FenceRef.class, "F.FenceRef",
        this::fenceRef,
        FenceV1.FenceRef::parseFrom,
        this::fenceRef);
  }

  private void registerSwSync() {
    codec(SwSyncTimeline.CreatePoint.class, "S.CreatePoint",
        m -> FenceV1.CreatePoint.newBuilder().setValue(m.value()).setName(m.name()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.CreatePoint::parseFrom,
        p -> new SwSyncTimeline.CreatePoint(p.getValue(), p.getName(), required(p.getReplyTo(), "CreatePoint.reply_to")));
    codec(SwSyncTimeline.PointCreated.class, "S.PointCreated",
        m -> {
          FenceV1.PointCreated.Builder b = FenceV1.PointCreated.newBuilder().setError(m.error());
          if (m.fence() != null) {
            b.setFence(fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.PointCreated::parseFrom,
        p -> new SwSyncTimeline.PointCreated(p.hasFence() ? fenceRef(p.getFence()) : null, p.getError()));
    codec(SwSyncTimeline.Inc.class, "S.Inc",
        m -> FenceV1.Inc.newBuilder().setN(m.n()).build(),
        FenceV1.Inc::parseFrom,
        p -> new SwSyncTimeline.Inc(p.getN()));
    codec(SwSyncTimeline.Close.class, "S.Close",
        m -> FenceV1.Close.getDefaultInstance(),
        FenceV1.Close::parseFrom,
        p -> SwSyncTimeline.Close.INSTANCE);
    codec(SwSyncTimeline.GetDeadline.class, "S.GetDeadline",
        m -> FenceV1.GetDeadline.newBuilder().setFence(fenceRef(m.fence())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.GetDeadline::parseFrom,
        p -> new SwSyncTimeline.GetDeadline(fenceRef(p.getFence()), required(p.getReplyTo(), "GetDeadline.reply_to")));
    codec(SwSyncTimeline.DeadlineReply.class, "S.DeadlineReply",
        m -> FenceV1.DeadlineReply.newBuilder().setError(m.error()).setDeadlineNanos(m.deadlineNanos()).build(),
        FenceV1.DeadlineReply::parseFrom,
        p -> new SwSyncTimeline.DeadlineReply(p.getError(), p.getDeadlineNanos()));
    codec(SwSyncTimeline.GetValue.class, "S.GetValue",
        m -> FenceV1.GetValue.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.GetValue::parseFrom,
        p -> new SwSyncTimeline.GetValue(required(p.getReplyTo(), "GetValue.reply_to")));
    codec(SwSyncTimeline.Value.class, "S.Value",
        m -> FenceV1.Value.newBuilder().setValue(m.value()).setClosed(m.closed()).build(),
        FenceV1.Value::parseFrom,
        p -> new SwSyncTimeline.Value(p.getValue(), p.getClosed()));
  }

  private void registerFenceControl() {
    codec(FenceControl.SpawnTimeline.class, "A.SpawnTimeline",
        m -> FenceV1.SpawnTimeline.newBuilder()
            .setKind(switch (m.kind()) {
              case DRIVER -> FenceV1.TimelineKind.DRIVER;
              case SW_SYNC -> FenceV1.TimelineKind.SW_SYNC_TIMELINE;
              case CONTAINERS -> FenceV1.TimelineKind.CONTAINERS;
            })
            .setName(m.name()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SpawnTimeline::parseFrom,
        p -> new FenceControl.SpawnTimeline(switch (p.getKind()) {
              case DRIVER -> FenceControl.TimelineKind.DRIVER;
              case SW_SYNC_TIMELINE -> FenceControl.TimelineKind.SW_SYNC;
              case CONTAINERS -> FenceControl.TimelineKind.CONTAINERS;
              default -> throw new NotSerializableException("SpawnTimeline: unknown kind " + p.getKind());
            }, p.getName(), required(p.getReplyTo(), "SpawnTimeline.reply_to")));
    codec(FenceControl.TimelineSpawned.class, "A.TimelineSpawned",
        m -> FenceV1.TimelineSpawned.newBuilder().setOwner(ref(m.owner())).setError(m.error()).build(),
        FenceV1.TimelineSpawned::parseFrom,
        p -> new FenceControl.TimelineSpawned(optional(p.getOwner()), p.getError()));
    codec(FenceControl.WaitFence.class, "A.WaitFence",
        m -> FenceV1.WaitFence.newBuilder().setFence(fenceRef(m.fence())).setTimeoutNanos(m.timeoutNanos())
            .setWaiter(m.waiter()).setReason(m.reason()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.WaitFence::parseFrom,
        p -> new FenceControl.WaitFence(fenceRef(p.getFence()), p.getTimeoutNanos(), p.getWaiter(), p.getReason(),
            required(p.getReplyTo(), "WaitFence.reply_to")));
    codec(FenceControl.WaitAnyFence.class, "A.WaitAnyFence",
        m -> {
          FenceV1.WaitAnyFence.Builder b = FenceV1.WaitAnyFence.newBuilder().setTimeoutNanos(m.timeoutNanos())
              .setWaiter(m.waiter()).setReason(m.reason()).setReplyTo(ref(m.replyTo()));
          m.fences().forEach(f -> b.addFences(fenceRef(f)));
          return b.build();
        },
        FenceV1.WaitAnyFence::parseFrom,
        p -> {
          java.util.List<FenceRef> fences = new java.util.ArrayList<>();
          for (FenceV1.FenceRef f : p.getFencesList()) {
            fences.add(fenceRef(f));
          }
          return new FenceControl.WaitAnyFence(fences, p.getTimeoutNanos(), p.getWaiter(), p.getReason(),
              required(p.getReplyTo(), "WaitAnyFence.reply_to"));
        });
  }

  // --- shared sub-messages

  static FenceV1.FenceId id(FenceId id) {
    return FenceV1.FenceId.newBuilder()
        .setContext(FenceV1.FenceContext.newBuilder().setOrigin(id.context().origin()).setId(id.context().id()))
        .setSeqno(id.seqno())
        .build();
  }

  static FenceId id(FenceV1.FenceId p) throws NotSerializableException {
    if (!p.hasContext()) {
      throw new NotSerializableException("FenceId without context");
    }
    return new FenceId(new FenceContext(p.getContext().getOrigin(), p.getContext().getId()), p.getSeqno());
  }

  static FenceV1.FenceStatus status(FenceStatus s) {
    return FenceV1.FenceStatus.newBuilder().setValue(s.value()).setWallNanos(s.wallNanos()).setModelNanos(s.modelNanos()).build();
  }

  static FenceStatus status(FenceV1.FenceStatus p) throws NotSerializableException {
    try {
      return new FenceStatus(p.getValue(), p.getWallNanos(), p.getModelNanos());
    } catch (IllegalArgumentException e) {
      throw new NotSerializableException("FenceStatus: " + e.getMessage());
    }
  }

  /** This system's node serializer (the one bound to every {@link NodeWireMessage}). */
  public static NodeSerializer of(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    try {
      return (NodeSerializer) org.apache.pekko.serialization.SerializationExtension.get(
          org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system)).serializerFor(FenceRef.class);
    } catch (NotSerializableException e) {
      throw new IllegalStateException("no node serializer bound: " + e.getMessage(), e);
    }
  }

  /** The wire form of a fence reference (the step protocol carries fence names as these). */
  @Override
  public FenceV1.FenceRef fenceRef(FenceRef f) {
    return FenceV1.FenceRef.newBuilder()
        .setId(id(f.id()))
        .setKind(kind(f.kind()))
        .setSeqno64(f.seqno64())
        .setActor(ref(f.actor()))
        .setOwner(ref(f.owner()))
        .setStubTimestampNanos(f.stubTimestampNanos())
        .build();
  }

  /** A fence reference from its wire form. */
  @Override
  public FenceRef fenceRef(FenceV1.FenceRef p) throws NotSerializableException {
    FenceRef.Kind kind = kind(p.getKind());
    try {
      return new FenceRef(id(p.getId()), kind, p.getSeqno64(), optional(p.getActor()), optional(p.getOwner()), p.getStubTimestampNanos());
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new NotSerializableException("FenceRef: " + e.getMessage());
    }
  }

  // --- serializer plumbing

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return codecFor(o).manifest();
  }

  @Override
  @SuppressWarnings("unchecked")
  public byte[] toBinary(Object o) {
    Codec<Object, ?> c = (Codec<Object, ?>) codecFor(o);
    return c.encoder().apply(o).toByteArray();
  }

  @Override
  @SuppressWarnings("unchecked")
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    Codec<Object, MessageLite> c = (Codec<Object, MessageLite>) byManifest.get(manifest);
    if (c == null) {
      throw new NotSerializableException("unknown node message manifest '" + manifest + "' (a peer running a newer fencelab?)");
    }
    MessageLite proto;
    try {
      proto = c.parser().parse(bytes);
    } catch (InvalidProtocolBufferException e) {
      NotSerializableException nse = new NotSerializableException("malformed protobuf for node message " + manifest + ": " + e.getMessage());
      nse.initCause(e);
      throw nse;
    }
    return c.decoder().decode(proto);
  }

  private Codec<?, ?> codecFor(Object o) {
    Class<?> type = o.getClass();
    Codec<?, ?> c = byClass.get(type);
    if (c == null && type.isEnum() == false && type.getSuperclass() != null && type.getSuperclass().isEnum()) {
      c = byClass.get(type.getSuperclass()); // enum constants with bodies
    }
    if (c == null) {
      throw new IllegalArgumentException("NodeSerializer has no codec for " + type.getName());
    }
    return c;
  }

  /** Every message type this serializer knows, for the round-trip test. */
  public java.util.Set<Class<?>> knownTypes() {
    return java.util.Set.copyOf(byClass.keySet());
  }
}
