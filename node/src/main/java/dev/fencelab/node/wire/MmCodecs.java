package dev.fencelab.node.wire;

import dev.fencelab.node.mm.Frames;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.mm.MmuEvent;
import dev.fencelab.protocol.mm.v1.MmV1;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.List;

/**
 * The codecs of address spaces and their subscribers ({@code fencelab/mm/v1/mm.proto}), registered into
 * {@link NodeSerializer}. Manifests: {@code M.*}.
 */
final class MmCodecs {
  private final NodeSerializer s;

  MmCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(MmProtocol.NotifierInsert.class, "M.NotifierInsert",
        m -> MmV1.NotifierInsert.newBuilder().setSubscriber(s.refOf(m.subscriber())).setLabel(m.label()).setStart(m.start())
            .setLength(m.length()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.NotifierInsert::parseFrom,
        p -> new MmProtocol.NotifierInsert(s.req(p.getSubscriber(), "NotifierInsert.subscriber"), p.getLabel(), p.getStart(),
            p.getLength(), s.req(p.getReplyTo(), "NotifierInsert.reply_to")));
    s.codec(MmProtocol.Inserted.class, "M.Inserted",
        m -> MmV1.Inserted.newBuilder().setResult(m.result()).setInterval(m.interval()).setSeq(m.seq()).build(),
        MmV1.Inserted::parseFrom,
        p -> new MmProtocol.Inserted(p.getResult(), p.getInterval(), p.getSeq()));
    s.codec(MmProtocol.NotifierRemove.class, "M.NotifierRemove",
        m -> MmV1.NotifierRemove.newBuilder().setInterval(m.interval()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.NotifierRemove::parseFrom,
        p -> new MmProtocol.NotifierRemove(p.getInterval(), s.req(p.getReplyTo(), "NotifierRemove.reply_to")));
    s.codec(MmProtocol.ReadBegin.class, "M.ReadBegin",
        m -> MmV1.ReadBegin.newBuilder().setInterval(m.interval()).setWaiter(m.waiter()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.ReadBegin::parseFrom,
        p -> new MmProtocol.ReadBegin(p.getInterval(), p.getWaiter(), s.req(p.getReplyTo(), "ReadBegin.reply_to")));
    s.codec(MmProtocol.EvictDevicePrivate.class, "M.EvictDevicePrivate",
        m -> MmV1.EvictDevicePrivate.newBuilder().setDevice(m.device()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.EvictDevicePrivate::parseFrom,
        p -> new MmProtocol.EvictDevicePrivate(p.getDevice(), s.req(p.getReplyTo(), "EvictDevicePrivate.reply_to")));
    s.codec(MmProtocol.Result.class, "M.Result",
        m -> MmV1.Result.newBuilder().setResult(m.result()).setValue(m.value()).build(),
        MmV1.Result::parseFrom,
        p -> new MmProtocol.Result(p.getResult(), p.getValue()));
    s.codec(MmProtocol.RangeFault.class, "M.RangeFault",
        m -> MmV1.RangeFault.newBuilder().setInterval(m.interval()).setSeq(m.seq()).setStart(m.start()).setLength(m.length())
            .setWrite(m.write()).setPin(m.pin()).setWaiter(m.waiter()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.RangeFault::parseFrom,
        p -> new MmProtocol.RangeFault(p.getInterval(), p.getSeq(), p.getStart(), p.getLength(), p.getWrite(), p.getPin(), p.getWaiter(),
            s.req(p.getReplyTo(), "RangeFault.reply_to")));
    s.codec(MmProtocol.Faulted.class, "M.Faulted",
        m -> MmV1.Faulted.newBuilder().setResult(m.result()).addAllFrames(frames(m.frames())).setPopulated(m.populated()).build(),
        MmV1.Faulted::parseFrom,
        p -> new MmProtocol.Faulted(p.getResult(), frames(p.getFramesList(), "Faulted"), p.getPopulated()));
    s.codec(MmProtocol.LongTermPin.class, "M.LongTermPin",
        m -> MmV1.LongTermPin.newBuilder().setDevice(m.device()).setStart(m.start()).setLength(m.length()).setWrite(m.write())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.LongTermPin::parseFrom,
        p -> new MmProtocol.LongTermPin(p.getDevice(), p.getStart(), p.getLength(), p.getWrite(), s.req(p.getReplyTo(), "LongTermPin.reply_to")));
    s.codec(MmProtocol.Pinned.class, "M.Pinned",
        m -> MmV1.Pinned.newBuilder().setResult(m.result()).setPin(m.pin()).addAllFrames(frames(m.frames())).setPinnedVm(m.pinnedVm()).build(),
        MmV1.Pinned::parseFrom,
        p -> new MmProtocol.Pinned(p.getResult(), p.getPin(), frames(p.getFramesList(), "Pinned"), p.getPinnedVm()));
    s.codec(MmProtocol.Unpin.class, "M.Unpin",
        m -> MmV1.Unpin.newBuilder().setPin(m.pin()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.Unpin::parseFrom,
        p -> new MmProtocol.Unpin(p.getPin(), s.req(p.getReplyTo(), "Unpin.reply_to")));
    registerDma();
    registerCallbacks();
  }

  private MmV1.DmaRead dmaRead(MmProtocol.DmaRead m) {
    return MmV1.DmaRead.newBuilder().setDevice(m.device()).setAddress(m.address()).setLength(m.length())
        .addAllTranslation(frames(m.translation())).setTag(m.tag()).setReplyTo(s.refOf(m.replyTo())).build();
  }

  private MmProtocol.DmaRead dmaRead(MmV1.DmaRead p) throws NotSerializableException {
    return new MmProtocol.DmaRead(p.getDevice(), p.getAddress(), p.getLength(), frames(p.getTranslationList(), "DmaRead"), p.getTag(),
        s.req(p.getReplyTo(), "DmaRead.reply_to"));
  }

  private MmV1.DmaWrite dmaWrite(MmProtocol.DmaWrite m) {
    MmV1.DmaWrite.Builder b = MmV1.DmaWrite.newBuilder().setDevice(m.device()).setAddress(m.address())
        .addAllTranslation(frames(m.translation())).setTag(m.tag()).setReplyTo(s.refOf(m.replyTo()));
    m.chunks().forEach(c -> b.addChunks(ContentCodecs.chunk(c)));
    return b.build();
  }

  private MmProtocol.DmaWrite dmaWrite(MmV1.DmaWrite p) throws NotSerializableException {
    return new MmProtocol.DmaWrite(p.getDevice(), p.getAddress(), ContentCodecs.chunks(p.getChunksList()),
        frames(p.getTranslationList(), "DmaWrite"), p.getTag(), s.req(p.getReplyTo(), "DmaWrite.reply_to"));
  }

  private void registerDma() {
    s.codec(MmProtocol.DmaRead.class, "M.DmaRead", this::dmaRead, MmV1.DmaRead::parseFrom, this::dmaRead);
    s.codec(MmProtocol.DmaData.class, "M.DmaData",
        m -> {
          MmV1.DmaData.Builder b = MmV1.DmaData.newBuilder().setTag(m.tag()).setResult(m.result());
          m.chunks().forEach(c -> b.addChunks(ContentCodecs.chunk(c)));
          return b.build();
        },
        MmV1.DmaData::parseFrom,
        p -> new MmProtocol.DmaData(p.getTag(), p.getResult(), ContentCodecs.chunks(p.getChunksList())));
    s.codec(MmProtocol.DmaWrite.class, "M.DmaWrite", this::dmaWrite, MmV1.DmaWrite::parseFrom, this::dmaWrite);
    s.codec(MmProtocol.DmaBatch.class, "M.DmaBatch",
        m -> {
          MmV1.DmaBatch.Builder b = MmV1.DmaBatch.newBuilder();
          for (MmProtocol.Command c : m.dmas()) {
            b.addDmas(c instanceof MmProtocol.DmaRead r ? MmV1.Dma.newBuilder().setRead(dmaRead(r))
                : MmV1.Dma.newBuilder().setWrite(dmaWrite((MmProtocol.DmaWrite) c)));
          }
          return b.build();
        },
        MmV1.DmaBatch::parseFrom,
        p -> {
          List<MmProtocol.Command> dmas = new java.util.ArrayList<>(p.getDmasCount());
          for (MmV1.Dma d : p.getDmasList()) {
            switch (d.getDmaCase()) {
              case READ -> dmas.add(dmaRead(d.getRead()));
              case WRITE -> dmas.add(dmaWrite(d.getWrite()));
              default -> throw new NotSerializableException("DmaBatch with an empty Dma");
            }
          }
          return new MmProtocol.DmaBatch(dmas);
        });
    s.codec(MmProtocol.DmaAck.class, "M.DmaAck",
        m -> MmV1.DmaAck.newBuilder().setTag(m.tag()).setResult(m.result()).build(),
        MmV1.DmaAck::parseFrom,
        p -> new MmProtocol.DmaAck(p.getTag(), p.getResult()));
  }

  private void registerCallbacks() {
    s.codec(MmProtocol.Invalidate.class, "M.Invalidate",
        m -> MmV1.Invalidate.newBuilder().setRound(m.round()).setInterval(m.interval()).setStart(m.start()).setEnd(m.end())
            .setSeq(m.seq()).setEvent(MmV1.MmuEvent.valueOf(m.event().name())).setBlockable(m.blockable()).setOwner(m.owner())
            .setMm(m.mm()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.Invalidate::parseFrom,
        p -> new MmProtocol.Invalidate(p.getRound(), p.getInterval(), p.getStart(), p.getEnd(), p.getSeq(), event(p.getEvent()),
            p.getBlockable(), p.getOwner(), p.getMm(), s.req(p.getReplyTo(), "Invalidate.reply_to")));
    s.codec(dev.fencelab.node.driver.DriverProtocol.CreateUserptr.class, "D.CreateUserptr",
        m -> MmV1.CreateUserptr.newBuilder().setProcess(m.process()).setName(m.name()).setMm(s.refOf(m.mm())).setStart(m.start())
            .setLength(m.length()).setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.CreateUserptr::parseFrom,
        p -> new dev.fencelab.node.driver.DriverProtocol.CreateUserptr(p.getProcess(), p.getName(), s.req(p.getMm(), "CreateUserptr.mm"),
            p.getStart(), p.getLength(), s.req(p.getReplyTo(), "CreateUserptr.reply_to")));
    s.codec(dev.fencelab.node.cluster.DeviceControl.SpawnAckSubscriber.class, "A.SpawnAckSubscriber",
        m -> MmV1.SpawnAckSubscriber.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        MmV1.SpawnAckSubscriber::parseFrom,
        p -> new dev.fencelab.node.cluster.DeviceControl.SpawnAckSubscriber(s.req(p.getReplyTo(), "SpawnAckSubscriber.reply_to")));
    s.codec(dev.fencelab.node.cluster.DeviceControl.AckSubscriberSpawned.class, "A.AckSubscriberSpawned",
        m -> MmV1.AckSubscriberSpawned.newBuilder().setSubscriber(s.refOf(m.subscriber())).build(),
        MmV1.AckSubscriberSpawned::parseFrom,
        p -> new dev.fencelab.node.cluster.DeviceControl.AckSubscriberSpawned(s.req(p.getSubscriber(), "AckSubscriberSpawned.subscriber")));
    s.codec(MmProtocol.InvalidateDone.class, "M.InvalidateDone",
        m -> MmV1.InvalidateDone.newBuilder().setRound(m.round()).setInterval(m.interval()).setOk(m.ok()).setModelNanos(m.modelNanos()).build(),
        MmV1.InvalidateDone::parseFrom,
        p -> new MmProtocol.InvalidateDone(p.getRound(), p.getInterval(), p.getOk(), p.getModelNanos()));
  }

  private static MmuEvent event(MmV1.MmuEvent e) throws NotSerializableException {
    MmuEvent out = e == MmV1.MmuEvent.MMU_EVENT_UNSPECIFIED || e == MmV1.MmuEvent.UNRECOGNIZED ? null : MmuEvent.valueOf(e.name());
    if (out == null) {
      throw new NotSerializableException("Invalidate.event: missing or unknown (" + e + ")");
    }
    return out;
  }

  private static List<MmV1.Frames> frames(List<Frames> frames) {
    return frames.stream().map(f -> MmV1.Frames.newBuilder().setAddress(f.address()).setPages(f.pages()).setPfn(f.pfn()).build()).toList();
  }

  private static List<Frames> frames(List<MmV1.Frames> list, String message) throws NotSerializableException {
    List<Frames> out = new ArrayList<>(list.size());
    for (MmV1.Frames f : list) {
      if (f.getPages() == 0) {
        throw new NotSerializableException(message + ".frames: a run of 0 pages at " + f.getAddress());
      }
      out.add(new Frames(f.getAddress(), f.getPages(), f.getPfn()));
    }
    return out;
  }
}
