package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a run's DMA did that no check fails on but a reader of the verdict needs: RDMA throughput per opcode in model time,
 * and data that went to pages only a long-term pin still holds (kernel-semantics §1.16). Facts of the verdict.
 */
final class TransferFacts {
  private TransferFacts() {}

  /**
   * DMA that went to pages only a long-term pin still holds (a pinned MR or userptr after munmap): legal, and no
   * checksum of the process's memory shows it, so the verdict says where the data went.
   */
  static List<String> of(RunIndex x) {
    List<String> facts = new ArrayList<>();
    Map<String, long[]> byDevice = new java.util.LinkedHashMap<>();
    for (TraceEvent e : x.events) {
      if (e.getKind() == EventKind.PINNED_DMA) {
        long[] b = byDevice.computeIfAbsent(e.getTrack() + " " + e.getName() + " " + e.getSubject(), k -> new long[2]);
        b[0] += e.getBytes();
        b[1]++;
      }
    }
    Map<String, long[]> rdma = new java.util.TreeMap<>();
    for (TraceEvent b : x.ofKind(EventKind.WR_BEGIN)) {
      TraceEvent end = x.endOf(b);
      if (end != b && end.getStatus() == 0 && !b.getName().startsWith("serve ")) {
        long[] t = rdma.computeIfAbsent(b.getName(), k -> new long[3]);
        t[0]++;
        t[1] += b.getBytes();
        t[2] += Math.max(0, end.getModelNanos() - b.getModelNanos());
      }
    }
    rdma.forEach((op, t) -> facts.add(String.format("rdma %s: %d work requests completed, %d bytes, %s in model time", op, t[0], t[1],
        t[2] == 0 ? "no time" : String.format("%.2f GB/s", t[1] / (double) t[2]))));
    byDevice.forEach((k, b) -> {
      String[] parts = k.split(" ", 3);
      facts.add(String.format("%s: DMA %s of %d bytes (%d accesses) went to pinned pages %s no longer maps: the process never sees "
          + "that data", parts[0], parts[1], b[0], b[1], parts[2]));
    });
    return facts;
  }
}
