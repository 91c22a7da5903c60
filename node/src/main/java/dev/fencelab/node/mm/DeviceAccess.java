package dev.fencelab.node.mm;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.ArrayList;
import java.util.List;

/**
 * Device DMA into one address space through the frames a device faulted (its translation): pages whose frame the
 * mm took back since are stale — a STALE_TRANSLATION violation, the write dropped, the read zeros — unless a long-term
 * pin keeps those frames the device's (then the access is traced: the process never sees it). Part of {@link MmActor},
 * touched on its thread only.
 */
final class DeviceAccess {
  private final AddressSpace space;
  private final String label;
  private final FenceServices services;
  private final TraceRecorder trace;
  private final List<Frames> pinned = new ArrayList<>();

  DeviceAccess(AddressSpace space, String label, FenceServices services, TraceRecorder trace) {
    this.space = space;
    this.label = label;
    this.services = services;
    this.trace = trace;
  }

  /** Frames a long-term pin (FOLL_LONGTERM) gave a device: they stay its whatever happens to the mapping. */
  void pinned(List<Frames> frames) {
    pinned.addAll(frames);
  }

  /** The stale parts of a DMA: a violation unless the frames are pinned (a long-term pin keeps them the device's). */
  private boolean stale(String device, long addr, long length, List<Frames> translation, boolean write) {
    List<Frames> stale = space.stale(addr, length, translation);
    if (stale.isEmpty()) {
      return false;
    }
    List<Frames> unpinned = stale.stream().filter(s -> pinned.stream().noneMatch(p -> p.pfn() <= s.pfn()
        && s.pfn() + s.pages() <= p.pfn() + p.pages())).toList();
    if (unpinned.isEmpty()) {
      trace.record(TraceRecorder.event(EventKind.MARK, label).setName("DMA to pinned pages").setSubject(device)
          .setDetail((write ? "written: " : "read: ") + stale + " — no longer mapped here; the process never sees it"));
    } else {
      services.violation(Violation.Kind.STALE_TRANSLATION, device, String.format("DMA %s of %s at 0x%x+%d through %s, pages the "
          + "invalidation took away (stale translation): %s", write ? "write" : "read", label, addr, length, translation, unpinned));
    }
    return true;
  }

  /** A device's read through its translation: the content (unmapped gaps as zeros), or zeros where it went stale. */
  MmProtocol.DmaData read(MmProtocol.DmaRead r) {
    if (stale(r.device(), r.address(), r.length(), r.translation(), false)) {
      return new MmProtocol.DmaData(r.tag(), 0, List.of(new Chunk.Pattern(0, r.length(), 0, 0)));
    }
    return new MmProtocol.DmaData(r.tag(), 0, filled(r.address(), r.length()));
  }

  /** The range's content with unmapped gaps as zeros (offsets from {@code addr}). */
  private List<Chunk> filled(long addr, int length) {
    List<Chunk> out = new ArrayList<>();
    long pos = 0;
    for (Chunk c : space.read(addr, length, Content.PAGE)) {
      if (c.offset() > pos) {
        out.add(new Chunk.Pattern(pos, c.offset() - pos, 0, 0));
      }
      out.add(c);
      pos = c.offset() + c.length();
    }
    if (pos < length) {
      out.add(new Chunk.Pattern(pos, length - pos, 0, 0));
    }
    return out;
  }

  /** A device's write through its translation: into the process's pages, or dropped where it went stale. */
  MmProtocol.DmaAck write(MmProtocol.DmaWrite w) {
    long length = w.chunks().stream().mapToLong(c -> c.offset() + c.length()).max().orElse(0);
    if (!stale(w.device(), w.address(), length, w.translation(), true)) {
      space.dmaWrite(w.address(), w.chunks());
    }
    return new MmProtocol.DmaAck(w.tag(), 0);
  }
}
