package dev.fencelab.node.wire;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.resv.AcquireCtx;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.fence.v1.FenceV1;
import java.io.NotSerializableException;

/**
 * The codecs of reservation objects ({@code dma_resv}: lock, fences, waits, state) and their spawning,
 * registered into {@link NodeSerializer}. Manifests: {@code R.*}, {@code A.SpawnResv}, {@code A.ResvSpawned}.
 */
final class ResvCodecs {
  private final NodeSerializer s;

  ResvCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(FenceControl.SpawnResv.class, "A.SpawnResv",
        m -> FenceV1.SpawnResv.newBuilder().setName(m.name()).setMode(mode(m.mode())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SpawnResv::parseFrom,
        p -> new FenceControl.SpawnResv(p.getName(), mode(p.getMode()), s.req(p.getReplyTo(), "SpawnResv.reply_to")));
    s.codec(FenceControl.ResvSpawned.class, "A.ResvSpawned",
        m -> FenceV1.ResvSpawned.newBuilder().setResv(s.refOf(m.resv())).setError(m.error()).setMode(mode(m.mode())).build(),
        FenceV1.ResvSpawned::parseFrom,
        p -> new FenceControl.ResvSpawned(s.opt(p.getResv()), p.getError(), mode(p.getMode())));
    s.codec(Resv.Lock.class, "R.Lock",
        m -> FenceV1.ResvLock.newBuilder().setCtx(ctx(m.ctx())).setSlow(m.slow()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvLock::parseFrom,
        p -> new Resv.Lock(ctx(p.getCtx()), p.getSlow(), s.req(p.getReplyTo(), "Lock.reply_to")));
    s.codec(Resv.TryLock.class, "R.TryLock",
        m -> FenceV1.ResvTryLock.newBuilder().setCtx(ctx(m.ctx())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvTryLock::parseFrom,
        p -> new Resv.TryLock(ctx(p.getCtx()), s.req(p.getReplyTo(), "TryLock.reply_to")));
    s.codec(Resv.LockReply.class, "R.LockReply",
        m -> FenceV1.ResvLockReply.newBuilder().setResv(m.resv()).setResult(m.result()).build(),
        FenceV1.ResvLockReply::parseFrom,
        p -> new Resv.LockReply(p.getResv(), p.getResult()));
    s.codec(Resv.Unlock.class, "R.Unlock",
        m -> FenceV1.ResvUnlock.newBuilder().setCtx(ctx(m.ctx())).build(),
        FenceV1.ResvUnlock::parseFrom,
        p -> new Resv.Unlock(ctx(p.getCtx())));
    s.codec(Resv.Reserve.class, "R.Reserve",
        m -> FenceV1.ResvReserve.newBuilder().setCtx(ctx(m.ctx())).setN(m.n()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvReserve::parseFrom,
        p -> new Resv.Reserve(ctx(p.getCtx()), p.getN(), s.opt(p.getReplyTo())));
    s.codec(Resv.AddFence.class, "R.AddFence",
        m -> FenceV1.ResvAddFence.newBuilder().setCtx(ctx(m.ctx())).setFence(s.fenceRef(m.fence())).setUsage(usage(m.usage()))
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvAddFence::parseFrom,
        p -> new Resv.AddFence(ctx(p.getCtx()), s.fenceRef(p.getFence()), usage(p.getUsage()), s.opt(p.getReplyTo())));
    s.codec(Resv.AddShared.class, "R.AddShared",
        m -> FenceV1.ResvAddShared.newBuilder().setCtx(ctx(m.ctx())).setFence(s.fenceRef(m.fence())).addAllOrderedAfter(m.orderedAfter())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvAddShared::parseFrom,
        p -> new Resv.AddShared(ctx(p.getCtx()), s.fenceRef(p.getFence()), p.getOrderedAfterList(), s.opt(p.getReplyTo())));
    s.codec(Resv.AddExclusive.class, "R.AddExclusive",
        m -> {
          FenceV1.ResvAddExclusive.Builder b = FenceV1.ResvAddExclusive.newBuilder().setCtx(ctx(m.ctx()))
              .addAllOrderedAfter(m.orderedAfter()).setReplyTo(s.refOf(m.replyTo()));
          if (m.fence() != null) {
            b.setFence(s.fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.ResvAddExclusive::parseFrom,
        p -> new Resv.AddExclusive(ctx(p.getCtx()), p.hasFence() ? s.fenceRef(p.getFence()) : null, p.getOrderedAfterList(),
            s.opt(p.getReplyTo())));
    s.codec(Resv.Result.class, "R.Result",
        m -> FenceV1.ResvResult.newBuilder().setResult(m.result()).build(),
        FenceV1.ResvResult::parseFrom,
        p -> new Resv.Result(p.getResult()));
    s.codec(Resv.GetFences.class, "R.GetFences",
        m -> FenceV1.ResvGetFences.newBuilder().setUsage(usage(m.usage())).setIncludeSignalled(m.includeSignalled())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvGetFences::parseFrom,
        p -> new Resv.GetFences(usage(p.getUsage()), p.getIncludeSignalled(), s.req(p.getReplyTo(), "GetFences.reply_to")));
    s.codec(Resv.Fences.class, "R.Fences",
        m -> {
          FenceV1.ResvFences.Builder b = FenceV1.ResvFences.newBuilder();
          m.entries().forEach(e -> b.addEntries(FenceV1.ResvEntry.newBuilder().setFence(s.fenceRef(e.fence()))
              .setUsage(usage(e.usage())).setSignalled(e.signalled())));
          return b.setSignalledModelNanos(m.signalledModelNanos()).build();
        },
        FenceV1.ResvFences::parseFrom,
        p -> {
          java.util.List<Resv.Entry> entries = new java.util.ArrayList<>();
          for (FenceV1.ResvEntry e : p.getEntriesList()) {
            entries.add(new Resv.Entry(s.fenceRef(e.getFence()), usage(e.getUsage()), e.getSignalled()));
          }
          return new Resv.Fences(entries, p.getSignalledModelNanos());
        });
    s.codec(Resv.GetSingleton.class, "R.GetSingleton",
        m -> FenceV1.ResvGetSingleton.newBuilder().setUsage(usage(m.usage())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvGetSingleton::parseFrom,
        p -> new Resv.GetSingleton(usage(p.getUsage()), s.req(p.getReplyTo(), "GetSingleton.reply_to")));
    s.codec(Resv.Singleton.class, "R.Singleton",
        m -> {
          FenceV1.ResvSingleton.Builder b = FenceV1.ResvSingleton.newBuilder().setResult(m.result());
          if (m.fence() != null) {
            b.setFence(s.fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.ResvSingleton::parseFrom,
        p -> new Resv.Singleton(p.getResult(), p.hasFence() ? s.fenceRef(p.getFence()) : null));
    s.codec(Resv.Wait.class, "R.Wait",
        m -> FenceV1.ResvWait.newBuilder().setUsage(usage(m.usage())).setTimeoutNanos(m.timeoutNanos()).setWaiter(m.waiter())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvWait::parseFrom,
        p -> new Resv.Wait(usage(p.getUsage()), p.getTimeoutNanos(), p.getWaiter(), s.req(p.getReplyTo(), "Wait.reply_to")));
    s.codec(Resv.Wait2020.class, "R.Wait2020",
        m -> FenceV1.ResvWait2020.newBuilder().setAll(m.all()).setTimeoutNanos(m.timeoutNanos()).setWaiter(m.waiter())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvWait2020::parseFrom,
        p -> new Resv.Wait2020(p.getAll(), p.getTimeoutNanos(), p.getWaiter(), s.req(p.getReplyTo(), "Wait2020.reply_to")));
    s.codec(Resv.GetState.class, "R.GetState",
        m -> FenceV1.ResvGetState.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ResvGetState::parseFrom,
        p -> new Resv.GetState(s.req(p.getReplyTo(), "GetState.reply_to")));
    s.codec(Resv.State.class, "R.State",
        m -> FenceV1.ResvState.newBuilder().setName(m.name()).setMode(mode(m.mode())).setNumFences(m.numFences())
            .setMaxFences(m.maxFences()).setHolder(m.holder()).build(),
        FenceV1.ResvState::parseFrom,
        p -> new Resv.State(p.getName(), mode(p.getMode()), p.getNumFences(), p.getMaxFences(), p.getHolder()));
  }

  static FenceV1.AcquireCtx ctx(AcquireCtx c) {
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
}
