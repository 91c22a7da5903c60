package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run's DMA put on the host's PCIe fabric: the bytes of its "pcie transfer" marks (one per transfer the fabric
 * finished, detail {@code "<kind> <resources> | <path>"}) summed per resource crossed: a link per direction
 * ({@code link:<slot>/up}, {@code /down}), a root complex ({@code rc:<host bridge>}), host memory ({@code dram}) and a
 * device's memory ({@code vram:<device>}).
 */
final class PcieLoad {
  private static final String TRANSFER = "pcie transfer";

  private final List<TraceEvent> transfers;
  /** Per resource (a link without its direction): {up, down} for a link, {through, 0} for any other. */
  private final Map<String, long[]> bytes = new HashMap<>();

  PcieLoad(List<TraceEvent> events) {
    transfers = events.stream().filter(e -> e.getKind() == EventKind.MARK && e.getName().equals(TRANSFER)).toList();
    transfers.forEach(this::count);
  }

  private void count(TraceEvent e) {
    String[] head = e.getDetail().split(" \\| ", 2)[0].split(" ", 2);
    if (head.length < 2) {
      return;
    }
    for (String r : head[1].split(",")) {
      boolean down = r.endsWith("/down");
      String key = down || r.endsWith("/up") ? r.substring(0, r.lastIndexOf('/')) : r;
      bytes.computeIfAbsent(key, k -> new long[2])[down ? 1 : 0] += e.getBytes();
    }
  }

  List<TraceEvent> transfers() {
    return transfers;
  }

  /** Bytes up a link (towards the root complex), or through any other resource. */
  long up(String resource) {
    return bytes.getOrDefault(resource, new long[2])[0];
  }

  /** Bytes down a link (away from the root complex). */
  long down(String resource) {
    return bytes.getOrDefault(resource, new long[2])[1];
  }

  long through(String resource) {
    return up(resource) + down(resource);
  }
}
