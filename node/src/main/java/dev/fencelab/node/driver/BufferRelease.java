package dev.fencelab.node.driver;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * An unplugged device's buffers on their way to being freed, and the check on DMA that reaches them after (kernel-semantics
 * §1.12). The revoke is {@code move_notify} to every attachment; the kernel calls each importer's callback synchronously
 * and frees nothing before they all returned — and, as TTM's delayed delete, before every fence of the buffer's resv
 * (BOOKKEEP: the importers' jobs included) signalled. Here each importer answers {@link DriverProtocol.MoveNotified}
 * to this driver after every DMA it sent it before; a buffer is freed once each attachment answered, detached or
 * its importer died (bounded by the call timeout: a partitioned importer cannot hold memory for ever) and its fences
 * signalled. DMA that arrives at a freed buffer went through a mapping its importer kept past its callback: a
 * {@link Violation.Kind#DMA_AFTER_FREE}, once per buffer. The hardware cannot tell, so the access "succeeds": a read
 * returns all-ones, a write lands nowhere the buffer's owner will ever read. Touched on the driver's thread only.
 */
final class BufferRelease {
  private final DriverContext d;
  /** Buffers of an unplugged device not freed yet, by handle. */
  private final Map<Integer, Bo> releasing = new HashMap<>();
  private final Set<Integer> freeing = new HashSet<>();
  /** Freed buffers: handle -> what they were (the dma-buf, or the buffer's name). */
  private final Map<Integer, String> freed = new HashMap<>();
  private final Set<Integer> reported = new HashSet<>();

  BufferRelease(DriverContext d) {
    this.d = d;
  }

  /** The unplug's last step: the device's own buffers are freed as their importers and fences allow. */
  void release(Collection<Bo> own) {
    for (Bo bo : own) {
      releasing.put(bo.handle, bo);
    }
    d.after(d.settings.callTimeout(), () -> { // importers that never answered (partitioned, or too slow) stop holding it
      for (Bo bo : List.copyOf(releasing.values())) {
        bo.attachments.values().forEach(a -> a.revokeAnswered = true);
        freeIfUnmapped(bo);
      }
    });
    List.copyOf(releasing.values()).forEach(this::freeIfUnmapped);
  }

  /** An importer's move_notify returned. */
  void answered(DriverProtocol.MoveNotified m) {
    Bo bo = releasing.containsKey(m.handle()) ? releasing.get(m.handle()) : d.bos.get(m.handle());
    Bo.Attachment a = bo == null ? null : bo.attachments.get(m.attachment());
    if (a != null) {
      a.revokeAnswered = true;
      if (releasing.containsKey(bo.handle)) {
        freeIfUnmapped(bo);
      }
    }
  }

  /** An importer detached, or died: its attachments hold nothing any more. */
  void detached(int handle, int attachment) {
    Bo bo = releasing.get(handle);
    if (bo != null && bo.attachments.remove(attachment) != null) {
      freeIfUnmapped(bo);
    }
  }

  void importerGone(ActorRef<?> importer) {
    for (Bo bo : List.copyOf(releasing.values())) {
      if (bo.attachments.values().removeIf(a -> a.importer.equals(importer))) {
        freeIfUnmapped(bo);
      }
    }
  }

  private void freeIfUnmapped(Bo bo) {
    if (freeing.contains(bo.handle) || bo.attachments.values().stream().anyMatch(a -> !a.revokeAnswered)) {
      return;
    }
    freeing.add(bo.handle);
    if (bo.resv == null) {
      free(bo);
      return;
    }
    d.ask(WaitResult.class, bo.resv, d.services.waitCap().plusSeconds(5),
        r -> new Resv.Wait(ResvUsage.BOOKKEEP, -1, d.label + " release of " + bo.name, r), (r, failure) -> free(bo));
  }

  private void free(Bo bo) {
    releasing.remove(bo.handle);
    freeing.remove(bo.handle);
    String what = bo.exported != null ? bo.exported.id() : d.label + "/" + bo.name;
    freed.put(bo.handle, what);
    if (bo.resv != null) {
      d.stop(bo.resv);
    }
    if (bo.exported != null) {
      TraceRecorder.get(d.system()).record(TraceRecorder.event(EventKind.MARK, d.label).setName("dma-buf freed").setSubject(what)
          .setBytes(bo.size).setDetail(what + ": every importer's move_notify returned and its fences signalled; its memory is free"));
    }
  }

  /** Whether {@code handle} is a buffer not freed yet (DMA to it is refused as to a gone device, not reported). */
  boolean releasing(int handle) {
    return releasing.containsKey(handle);
  }

  /**
   * DMA to a freed buffer, or null if {@code handle} is not one: the violation (once per buffer), and what the
   * access sees — all-ones for a read of {@code length} bytes at {@code offset}, nothing for a write.
   */
  List<Chunk> afterFree(int handle, String access, long offset, long length, int chunk) {
    String what = freed.get(handle);
    if (what == null) {
      return null;
    }
    if (reported.add(handle)) {
      d.services.violation(Violation.Kind.DMA_AFTER_FREE, what, d.label + ": DMA " + access + " of " + length + " bytes at offset " + offset
          + " of " + what + " after its exporter freed it: an importer's move_notify returned and it still DMAs through the old mapping");
    }
    if (!access.equals("read")) {
      return List.of();
    }
    List<Chunk> ones = new ArrayList<>();
    for (long off = 0; off < length; off += chunk) {
      byte[] b = new byte[(int) Math.min(chunk, length - off)];
      java.util.Arrays.fill(b, (byte) 0xFF);
      ones.add(new Chunk.Bytes(offset + off, b));
    }
    return ones;
  }
}
