package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import org.junit.jupiter.api.Test;

/** The latency tables' throughput lines: bytes over the summed time of the transfers that moved them. */
class LatenciesTest {
  private static TraceEvent.Builder wr(EventKind kind, long wall, long model, long bytes) {
    return TraceEvent.newBuilder().setKind(kind).setNode("n1").setTrack("n1/nic1/qp1").setId(7).setName("write").setWallNanos(wall)
        .setModelNanos(model).setBytes(bytes);
  }

  @Test
  void anRdmaWriteCountsItsBytesOverItsModelAndWallTime() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(wr(EventKind.WR_BEGIN, 1_000, 0, 64L << 20))
        .addEvents(wr(EventKind.WR_END, 2_001_000, 10_000_000, 0))
        .build();
    Latencies l = Latencies.of(new RunIndex(r));
    assertEquals((64L << 20) * 1e9 / 10_000_000, l.throughput().get("rdma.write/model"), 1);
    assertEquals((64L << 20) * 1e9 / 2_000_000, l.throughput().get("rdma.write/wall"), 1);
    assertTrue(l.table().contains("throughput"), l.table());
  }

  @Test
  void aRunThatMovedNothingHasNoThroughputLines() {
    Latencies l = Latencies.of(new RunIndex(RunRecord.newBuilder().build()));
    assertTrue(l.throughput().isEmpty());
    assertTrue(!l.table().contains("throughput"));
  }
}
