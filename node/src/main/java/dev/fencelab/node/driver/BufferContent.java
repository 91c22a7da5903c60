package dev.fencelab.node.driver;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import dev.fencelab.protocol.Errno;
import java.util.List;

/**
 * What a driver's buffers hold, as the run reads and writes it: checksums, range reads and writes, the layout of
 * stored extents. An imported buffer's checksum is its exporter's; a userptr buffer's bytes are its process's
 * ({@code -EOPNOTSUPP}); an unplugged device's are gone ({@code -ENODEV}), except that DMA reaching a freed buffer is
 * {@link BufferRelease}'s to report and "succeeds". Out-of-range offsets are {@code -EINVAL}. Touched on the driver's
 * thread only.
 */
final class BufferContent {
  private final DriverContext d;
  private final BufferRelease release;

  BufferContent(DriverContext d, BufferRelease release) {
    this.d = d;
    this.release = release;
  }

  void checksum(DriverProtocol.Checksum sum) {
    Bo bo = d.bos.get(sum.handle());
    if (d.unplugged || bo == null) {
      sum.replyTo().tell(new DriverProtocol.ChecksumReply(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), "", 0));
    } else if (bo.userptr != null) {
      sum.replyTo().tell(new DriverProtocol.ChecksumReply(Errno.EOPNOTSUPP.negative(), "", 0)); // its bytes are the process's
    } else if (bo.imported != null) {
      if (bo.revoked) {
        sum.replyTo().tell(new DriverProtocol.ChecksumReply(Errno.ENODEV.negative(), "", 0));
      } else {
        bo.imported.exporter().tell(new DriverProtocol.Checksum(bo.imported.exporterHandle(), sum.replyTo()));
      }
    } else {
      sum.replyTo().tell(new DriverProtocol.ChecksumReply(0, Content.format(bo.content.checksum()), bo.size));
    }
  }

  void read(DriverProtocol.ReadRange read) {
    Bo bo = d.bos.get(read.handle());
    List<Chunk> afterFree = bo == null ? release.afterFree(read.handle(), "read", read.offset(), read.length(), d.settings.copyChunk()) : null;
    if (afterFree != null) {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), 0, afterFree));
    } else if (d.unplugged || bo == null || bo.content == null) {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), Errno.ENODEV.negative(), List.of()));
    } else if (read.offset() < 0 || read.length() < 0 || read.offset() > bo.size - read.length()) {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), Errno.EINVAL.negative(), List.of()));
    } else {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), 0, bo.content.read(read.offset(), read.length(), d.settings.copyChunk())));
    }
  }

  void layout(DriverProtocol.Layout layout) {
    Bo bo = d.bos.get(layout.handle());
    if (d.unplugged || bo == null || bo.content == null) {
      layout.replyTo().tell(new DriverProtocol.LayoutReply(Errno.ENODEV.negative(), List.of()));
    } else if (layout.offset() < 0 || layout.length() < 0 || layout.offset() > bo.size - layout.length()) {
      layout.replyTo().tell(new DriverProtocol.LayoutReply(Errno.EINVAL.negative(), List.of()));
    } else {
      layout.replyTo().tell(new DriverProtocol.LayoutReply(0, bo.content.layout(layout.offset(), layout.length())));
    }
  }

  void write(DriverProtocol.WriteRange write) {
    Bo bo = d.bos.get(write.handle());
    int result = 0;
    if (bo == null && release.afterFree(write.handle(), "write", write.chunks().isEmpty() ? 0 : write.chunks().get(0).offset(),
        write.chunks().stream().mapToLong(Chunk::length).sum(), d.settings.copyChunk()) != null) {
      result = 0; // the write lands in freed memory: the device cannot tell
    } else if (d.unplugged || bo == null || bo.content == null) {
      result = Errno.ENODEV.negative();
    } else {
      for (Chunk c : write.chunks()) {
        if (c.offset() < 0 || c.length() < 0 || c.offset() > bo.size - c.length()) {
          result = Errno.EINVAL.negative();
          break;
        }
      }
      if (result == 0) {
        write.chunks().forEach(bo.content::write);
      }
    }
    write.replyTo().tell(new DriverProtocol.WriteAck(write.tag(), result));
  }
}
