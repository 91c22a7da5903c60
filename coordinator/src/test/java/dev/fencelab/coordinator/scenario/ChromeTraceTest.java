package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChromeTraceTest {
  @SuppressWarnings("unchecked")
  private static Map<String, Object> named(Map<String, Object> doc, String prefix) {
    return ((List<Map<String, Object>>) doc.get("traceEvents")).stream().filter(e -> String.valueOf(e.get("name")).startsWith(prefix))
        .findFirst().orElse(null);
  }

  @Test
  void aSignallingSectionIsASliceOnItsThreadAndTheLockdepReportAnInstantOnTheSameThread() {
    TraceEvent.Builder base = TraceEvent.newBuilder().setNode("n1").setTrack("gpuA.ring0 run_job");
    RunRecord r = RunRecord.newBuilder()
        .addEvents(base.clone().setKind(EventKind.SECTION_BEGIN).setId(3).setName("run_job of fill").setWallNanos(1_000).setModelNanos(1_000))
        .addEvents(base.clone().setKind(EventKind.VIOLATION).setName("SIGNALLING_ALLOC").setWallNanos(2_000).setModelNanos(2_000))
        .addEvents(base.clone().setKind(EventKind.SECTION_END).setId(3).setWallNanos(5_000).setModelNanos(5_000))
        .build();
    Map<String, Object> doc = ChromeTrace.build(new RunIndex(r), ChromeTrace.Clock.MODEL);
    Map<String, Object> section = named(doc, "signalling section: run_job of fill");
    Map<String, Object> report = named(doc, "VIOLATION SIGNALLING_ALLOC");
    assertNotNull(section);
    assertEquals("X", section.get("ph"));
    assertEquals(4.0, (double) section.get("dur"), 1e-9);
    assertEquals(section.get("tid"), report.get("tid"));
    assertEquals(section.get("pid"), report.get("pid"));
  }
}
