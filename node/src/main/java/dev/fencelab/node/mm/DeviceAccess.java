package dev.fencelab.node.mm;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;

/**
 * Device DMA into one address space through the frames a device faulted (its translation). Pages whose frame the mm
 * took back since are stale: a STALE_TRANSLATION violation, the write dropped, the read zeros — unless a long-term pin
 * keeps those frames the device's ({@link Pins}): then the access goes to the old page, where the process never
 * looks, and is traced as {@code PINNED_DMA} (legal, and the point of the pinned-vs-ODP comparison: the data went
 * nowhere the process can read). Part of {@link MmActor}, touched on its thread only.
 */
final class DeviceAccess {
  private final AddressSpace space;
  private final String label;
  private final FenceServices services;
  private final TraceRecorder trace;

  DeviceAccess(AddressSpace space, String label, FenceServices services, TraceRecorder trace) {
    this.space = space;
    this.label = label;
    this.services = services;
    this.trace = trace;
  }

  private void report(String device, long addr, long length, DeviceDma.Result dma, boolean write) {
    if (dma.keptBytes() > 0) {
      trace.record(TraceRecorder.event(EventKind.PINNED_DMA, device).setName(write ? "write" : "read").setSubject(label)
          .setBytes(dma.keptBytes()).setDetail(String.format("DMA %s of %d bytes at 0x%x+%d went to pinned pages %s no longer maps: "
              + "the process never sees it", write ? "write" : "read", dma.keptBytes(), addr, length, label)));
    }
    if (!dma.lost().isEmpty()) {
      services.violation(Violation.Kind.STALE_TRANSLATION, device, String.format("DMA %s of %s at 0x%x+%d through pages the "
          + "invalidation took away (stale translation): %s", write ? "write" : "read", label, addr, length, dma.lost()));
    }
  }

  /** A device's read through its translation: the content (unmapped gaps as zeros), zeros where it went stale. */
  MmProtocol.DmaData read(MmProtocol.DmaRead r) {
    DeviceDma.Result dma = DeviceDma.read(space, r.address(), r.length(), r.translation());
    report(r.device(), r.address(), r.length(), dma, false);
    return new MmProtocol.DmaData(r.tag(), 0, dma.data());
  }

  /** A device's write through its translation: into the process's pages, a pin's kept pages, or dropped. */
  MmProtocol.DmaAck write(MmProtocol.DmaWrite w) {
    DeviceDma.Result dma = DeviceDma.write(space, w.address(), w.chunks(), w.translation());
    if (dma.keptBytes() > 0 || !dma.lost().isEmpty()) {
      long length = w.chunks().stream().mapToLong(c -> c.offset() + c.length()).max().orElse(0);
      report(w.device(), w.address(), length, dma, true);
    }
    return new MmProtocol.DmaAck(w.tag(), 0);
  }
}
