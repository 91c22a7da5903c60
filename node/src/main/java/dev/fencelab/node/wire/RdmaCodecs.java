package dev.fencelab.node.wire;

import dev.fencelab.node.rdma.RdmaProtocol;
import dev.fencelab.node.rdma.Verbs;
import dev.fencelab.protocol.rdma.v1.RdmaV1;
import java.io.NotSerializableException;

/**
 * The codecs of the transport between RDMA NICs ({@code fencelab/rdma/v1/rdma.proto}), registered into
 * {@link NodeSerializer}. Manifests: {@code R.*}.
 */
final class RdmaCodecs {
  private final NodeSerializer s;

  RdmaCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  private static RdmaV1.Opcode opcode(Verbs.Opcode o) {
    return RdmaV1.Opcode.valueOf(o.name());
  }

  private static Verbs.Opcode opcode(RdmaV1.Opcode o) throws NotSerializableException {
    if (o == RdmaV1.Opcode.OPCODE_UNSPECIFIED || o == RdmaV1.Opcode.UNRECOGNIZED) {
      throw new NotSerializableException("rdma Request without a known opcode");
    }
    return Verbs.Opcode.valueOf(o.name());
  }

  void register() {
    registerBench();
    s.codec(RdmaProtocol.Connect.class, "R.Connect",
        m -> RdmaV1.Connect.newBuilder().setQp(m.qp()).setFromQp(m.fromQp()).setFrom(s.refOf(m.from())).setReplyTo(s.refOf(m.replyTo())).build(),
        RdmaV1.Connect::parseFrom,
        p -> new RdmaProtocol.Connect(p.getQp(), p.getFromQp(), s.req(p.getFrom(), "Connect.from"), s.req(p.getReplyTo(), "Connect.reply_to")));
    s.codec(RdmaProtocol.Connected.class, "R.Connected",
        m -> RdmaV1.Connected.newBuilder().setResult(m.result()).setDetail(m.detail()).build(),
        RdmaV1.Connected::parseFrom,
        p -> new RdmaProtocol.Connected(p.getResult(), p.getDetail()));
    s.codec(RdmaProtocol.Request.class, "R.Request",
        m -> {
          RdmaV1.Request.Builder b = RdmaV1.Request.newBuilder().setQp(m.qp()).setPsn(m.psn()).setOpcode(opcode(m.opcode())).setMr(m.mr())
              .setOffset(m.offset()).setLength(m.length()).setModelNanos(m.modelNanos());
          m.inline().forEach(c -> b.addInline(ContentCodecs.chunk(c)));
          return b.build();
        },
        RdmaV1.Request::parseFrom,
        p -> new RdmaProtocol.Request(p.getQp(), p.getPsn(), opcode(p.getOpcode()), p.getMr(), p.getOffset(), p.getLength(), p.getModelNanos(),
            ContentCodecs.chunks(p.getInlineList())));
    s.codec(RdmaProtocol.Data.class, "R.Data",
        m -> {
          RdmaV1.Data.Builder b = RdmaV1.Data.newBuilder().setQp(m.qp()).setPsn(m.psn()).setOffset(m.offset()).setModelNanos(m.modelNanos());
          m.chunks().forEach(c -> b.addChunks(ContentCodecs.chunk(c)));
          return b.build();
        },
        RdmaV1.Data::parseFrom,
        p -> new RdmaProtocol.Data(p.getQp(), p.getPsn(), p.getOffset(), ContentCodecs.chunks(p.getChunksList()), p.getModelNanos()));
    s.codec(RdmaProtocol.DataAck.class, "R.DataAck",
        m -> RdmaV1.DataAck.newBuilder().setQp(m.qp()).setPsn(m.psn()).setBytes(m.bytes()).setModelNanos(m.modelNanos()).build(),
        RdmaV1.DataAck::parseFrom,
        p -> new RdmaProtocol.DataAck(p.getQp(), p.getPsn(), p.getBytes(), p.getModelNanos()));
    s.codec(RdmaProtocol.Complete.class, "R.Complete",
        m -> RdmaV1.Complete.newBuilder().setQp(m.qp()).setPsn(m.psn()).setStatus(m.status()).setModelNanos(m.modelNanos()).build(),
        RdmaV1.Complete::parseFrom,
        p -> new RdmaProtocol.Complete(p.getQp(), p.getPsn(), p.getStatus(), p.getModelNanos()));
    s.codec(RdmaProtocol.Acks.class, "R.Acks",
        m -> RdmaV1.Acks.newBuilder().setQp(m.qp()).addAllPsn(m.psns()).addAllModelNanos(m.modelNanos()).build(),
        RdmaV1.Acks::parseFrom,
        p -> {
          if (p.getPsnCount() != p.getModelNanosCount()) {
            throw new NotSerializableException("rdma Acks with " + p.getPsnCount() + " psns and " + p.getModelNanosCount() + " model times");
          }
          return new RdmaProtocol.Acks(p.getQp(), p.getPsnList(), p.getModelNanosList());
        });
  }

  private void registerBench() {
    s.codec(dev.fencelab.node.cluster.DeviceControl.RunRdmaBench.class, "R.RunRdmaBench",
        m -> RdmaV1.RunRdmaBench.newBuilder().setBytes(m.bytes()).setWrites(m.writes()).setSmall(m.small()).setPeer(s.refOf(m.peer()))
            .setReplyTo(s.refOf(m.replyTo())).build(),
        RdmaV1.RunRdmaBench::parseFrom,
        p -> new dev.fencelab.node.cluster.DeviceControl.RunRdmaBench(p.getBytes(), p.getWrites(), p.getSmall(), s.req(p.getPeer(),
            "RunRdmaBench.peer"), s.req(p.getReplyTo(), "RunRdmaBench.reply_to")));
    s.codec(dev.fencelab.node.cluster.DeviceControl.SpawnRdmaPeer.class, "R.SpawnRdmaPeer",
        m -> RdmaV1.SpawnRdmaPeer.newBuilder().setBytes(m.bytes()).setOwner(s.refOf(m.owner())).setReplyTo(s.refOf(m.replyTo())).build(),
        RdmaV1.SpawnRdmaPeer::parseFrom,
        p -> new dev.fencelab.node.cluster.DeviceControl.SpawnRdmaPeer(p.getBytes(), s.req(p.getOwner(), "SpawnRdmaPeer.owner"),
            s.req(p.getReplyTo(), "SpawnRdmaPeer.reply_to")));
    s.codec(dev.fencelab.node.cluster.DeviceControl.RdmaPeerReady.class, "R.RdmaPeerReady",
        m -> RdmaV1.RdmaPeerReady.newBuilder().setNic(s.refOf(m.nic())).setQp(m.qp()).setMr(m.mr()).setError(m.error())
            .setDetail(m.detail()).build(),
        RdmaV1.RdmaPeerReady::parseFrom,
        p -> new dev.fencelab.node.cluster.DeviceControl.RdmaPeerReady(s.opt(p.getNic()), p.getQp(), p.getMr(), p.getError(), p.getDetail()));
  }
}
