package dev.fencelab.node.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.protocol.device.v1.DeviceV1;
import java.io.NotSerializableException;

/**
 * The codecs of dma-buf: the buffer reference, export and import, attachments (static, dynamic,
 * peer-to-peer), their mapping and pinning, and move notification; registered into {@link NodeSerializer}.
 * Manifests: {@code D.DmaBufRef}, {@code D.Export*}, {@code D.Import}, {@code D.Attach*}, {@code D.*Attachment},
 * {@code D.MoveNotif*}, {@code D.Detach}.
 */
final class DmaBufCodecs {
  private final NodeSerializer s;

  DmaBufCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(DmaBufRef.class, "D.DmaBufRef", this::dmaBuf, DeviceV1.DmaBufRef::parseFrom, this::dmaBuf);
    s.codec(DriverProtocol.Export.class, "D.Export",
        m -> DeviceV1.Export.newBuilder().setProcess(m.process()).setHandle(m.handle()).setOmitOps(m.omitOps()).setReplyTo(s.refOf(m.replyTo()))
            .build(),
        DeviceV1.Export::parseFrom,
        p -> new DriverProtocol.Export(p.getProcess(), p.getHandle(), p.getOmitOps(), s.req(p.getReplyTo(), "Export.reply_to")));
    s.codec(DriverProtocol.ExportReply.class, "D.ExportReply",
        m -> {
          DeviceV1.ExportReply.Builder b = DeviceV1.ExportReply.newBuilder().setResult(m.result());
          if (m.buf() != null) {
            b.setBuf(dmaBuf(m.buf()));
          }
          return b.build();
        },
        DeviceV1.ExportReply::parseFrom,
        p -> new DriverProtocol.ExportReply(p.getResult(), p.hasBuf() ? dmaBuf(p.getBuf()) : null));
    s.codec(DriverProtocol.Import.class, "D.Import",
        m -> DeviceV1.Import.newBuilder().setProcess(m.process()).setBuf(dmaBuf(m.buf())).setDynamic(m.dynamic())
            .setNoMoveNotify(m.noMoveNotify()).setPeer2Peer(m.peer2peer()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.Import::parseFrom,
        p -> new DriverProtocol.Import(p.getProcess(), dmaBuf(p.getBuf()), p.getDynamic(), p.getNoMoveNotify(), p.getPeer2Peer(),
            s.req(p.getReplyTo(), "Import.reply_to")));
    s.codec(DriverProtocol.Attach.class, "D.Attach",
        m -> DeviceV1.Attach.newBuilder().setHandle(m.handle()).setDynamic(m.dynamic()).setImporter(s.refOf(m.importer()))
            .setImporterHandle(m.importerHandle()).setReplyTo(s.refOf(m.replyTo())).setPeer2Peer(m.peer2peer()).setEndpoint(m.endpoint()).build(),
        DeviceV1.Attach::parseFrom,
        p -> new DriverProtocol.Attach(p.getHandle(), p.getDynamic(), s.req(p.getImporter(), "Attach.importer"), p.getImporterHandle(),
            s.req(p.getReplyTo(), "Attach.reply_to"), p.getPeer2Peer(), p.getEndpoint()));
    s.codec(DriverProtocol.Attached.class, "D.Attached",
        m -> DeviceV1.Attached.newBuilder().setResult(m.result()).setAttachment(m.attachment()).setPeer2Peer(m.peer2peer())
            .setEndpoint(m.endpoint()).setDetail(m.detail()).build(),
        DeviceV1.Attached::parseFrom,
        p -> new DriverProtocol.Attached(p.getResult(), p.getAttachment(), p.getPeer2Peer(), p.getEndpoint(), p.getDetail()));
    s.codec(DriverProtocol.MoveNotified.class, "D.MoveNotified",
        m -> DeviceV1.MoveNotified.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).build(),
        DeviceV1.MoveNotified::parseFrom,
        p -> new DriverProtocol.MoveNotified(p.getHandle(), p.getAttachment()));
    s.codec(DriverProtocol.Detach.class, "D.Detach",
        m -> DeviceV1.Detach.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).build(),
        DeviceV1.Detach::parseFrom,
        p -> new DriverProtocol.Detach(p.getHandle(), p.getAttachment()));
    s.codec(DriverProtocol.MapAttachment.class, "D.MapAttachment",
        m -> DeviceV1.MapAttachment.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.MapAttachment::parseFrom,
        p -> new DriverProtocol.MapAttachment(p.getHandle(), p.getAttachment(), s.req(p.getReplyTo(), "MapAttachment.reply_to")));
    s.codec(DriverProtocol.PinAttachment.class, "D.PinAttachment",
        m -> DeviceV1.PinAttachment.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).setPin(m.pin())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.PinAttachment::parseFrom,
        p -> new DriverProtocol.PinAttachment(p.getHandle(), p.getAttachment(), p.getPin(), s.req(p.getReplyTo(), "PinAttachment.reply_to")));
    s.codec(DriverProtocol.MoveNotify.class, "D.MoveNotify",
        m -> DeviceV1.MoveNotify.newBuilder().setImporterHandle(m.importerHandle()).setRevoked(m.revoked()).build(),
        DeviceV1.MoveNotify::parseFrom,
        p -> new DriverProtocol.MoveNotify(p.getImporterHandle(), p.getRevoked()));
  }

  DeviceV1.DmaBufRef dmaBuf(DmaBufRef b) {
    return DeviceV1.DmaBufRef.newBuilder().setId(b.id()).setSize(b.size()).setExporter(s.refOf(b.exporter()))
        .setExporterHandle(b.exporterHandle()).setResv(s.refOf(b.resv())).build();
  }

  DmaBufRef dmaBuf(DeviceV1.DmaBufRef p) throws NotSerializableException {
    return new DmaBufRef(p.getId(), p.getSize(), s.req(p.getExporter(), "DmaBufRef.exporter"), p.getExporterHandle(),
        s.req(p.getResv(), "DmaBufRef.resv"));
  }

  static DeviceV1.DmaBufRef parseDmaBuf(ByteString bytes) throws NotSerializableException {
    try {
      return DeviceV1.DmaBufRef.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new NotSerializableException("ReceiveFd.dma_buf: " + e.getMessage());
    }
  }
}
