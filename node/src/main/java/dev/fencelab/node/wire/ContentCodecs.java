package dev.fencelab.node.wire;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.protocol.device.v1.DeviceV1;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.List;

/**
 * The codecs of buffer content (range reads and writes, layouts) and the chunk form every byte-carrying
 * message shares (bytes sent without a copy, or a pattern range); registered into {@link NodeSerializer}.
 * Manifests: {@code D.ReadRange}, {@code D.RangeData}, {@code D.Layout*}, {@code D.WriteRange}, {@code D.WriteAck}.
 */
final class ContentCodecs {
  private final NodeSerializer s;

  ContentCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(DriverProtocol.ReadRange.class, "D.ReadRange",
        m -> DeviceV1.ReadRange.newBuilder().setHandle(m.handle()).setOffset(m.offset()).setLength(m.length()).setTag(m.tag())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.ReadRange::parseFrom,
        p -> new DriverProtocol.ReadRange(p.getHandle(), p.getOffset(), p.getLength(), p.getTag(), s.req(p.getReplyTo(), "ReadRange.reply_to")));
    s.codec(DriverProtocol.RangeData.class, "D.RangeData",
        m -> {
          DeviceV1.RangeData.Builder b = DeviceV1.RangeData.newBuilder().setTag(m.tag()).setResult(m.result());
          m.chunks().forEach(c -> b.addChunks(chunk(c)));
          return b.build();
        },
        DeviceV1.RangeData::parseFrom,
        p -> new DriverProtocol.RangeData(p.getTag(), p.getResult(), chunks(p.getChunksList())));
    s.codec(DriverProtocol.Layout.class, "D.Layout",
        m -> DeviceV1.Layout.newBuilder().setHandle(m.handle()).setOffset(m.offset()).setLength(m.length()).setReplyTo(s.refOf(m.replyTo()))
            .build(),
        DeviceV1.Layout::parseFrom,
        p -> new DriverProtocol.Layout(p.getHandle(), p.getOffset(), p.getLength(), s.req(p.getReplyTo(), "Layout.reply_to")));
    s.codec(DriverProtocol.LayoutReply.class, "D.LayoutReply",
        m -> {
          DeviceV1.LayoutReply.Builder b = DeviceV1.LayoutReply.newBuilder().setResult(m.result());
          m.extents().forEach(e -> b.addExtents(DeviceV1.Extent.newBuilder().setOffset(e.offset()).setLength(e.length()).setBytes(e.bytes())));
          return b.build();
        },
        DeviceV1.LayoutReply::parseFrom,
        p -> new DriverProtocol.LayoutReply(p.getResult(), p.getExtentsList().stream()
            .map(e -> new dev.fencelab.node.memory.Content.Extent(e.getOffset(), e.getLength(), e.getBytes())).toList()));
    s.codec(DriverProtocol.WriteRange.class, "D.WriteRange",
        m -> {
          DeviceV1.WriteRange.Builder b = DeviceV1.WriteRange.newBuilder().setHandle(m.handle()).setTag(m.tag())
              .setReplyTo(s.refOf(m.replyTo()));
          m.chunks().forEach(c -> b.addChunks(chunk(c)));
          return b.build();
        },
        DeviceV1.WriteRange::parseFrom,
        p -> new DriverProtocol.WriteRange(p.getHandle(), chunks(p.getChunksList()), p.getTag(), s.req(p.getReplyTo(), "WriteRange.reply_to")));
    s.codec(DriverProtocol.WriteAck.class, "D.WriteAck",
        m -> DeviceV1.WriteAck.newBuilder().setTag(m.tag()).setResult(m.result()).build(),
        DeviceV1.WriteAck::parseFrom,
        p -> new DriverProtocol.WriteAck(p.getTag(), p.getResult()));
  }

  static DeviceV1.Chunk chunk(Chunk c) {
    DeviceV1.Chunk.Builder b = DeviceV1.Chunk.newBuilder().setOffset(c.offset());
    if (c instanceof Chunk.Bytes bytes) {
      // a chunk's bytes are never written after it is made (readers copy out of it): sent without a copy
      b.setData(com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes.data()));
    } else {
      Chunk.Pattern p = (Chunk.Pattern) c;
      b.setPattern(DeviceV1.PatternRange.newBuilder().setLength(p.length()).setSeed(p.seed()).setPatternOffset(p.patternOffset()));
    }
    return b.build();
  }

  static List<Chunk> chunks(List<DeviceV1.Chunk> list) throws NotSerializableException {
    List<Chunk> out = new ArrayList<>(list.size());
    for (DeviceV1.Chunk c : list) {
      switch (c.getContentCase()) {
        case DATA -> out.add(new Chunk.Bytes(c.getOffset(), c.getData().toByteArray()));
        case PATTERN -> out.add(new Chunk.Pattern(c.getOffset(), c.getPattern().getLength(), c.getPattern().getSeed(),
            c.getPattern().getPatternOffset()));
        default -> throw new NotSerializableException("Chunk at " + c.getOffset() + ": neither data nor pattern");
      }
    }
    return out;
  }
}
