package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class TimelineSvgTest {
  private static final double PLOT_LEFT = 250;
  private static final double PLOT_WIDTH = TimelineSvg.WIDTH - 250 - 20;

  private static Map<String, Object> meta(String name, int pid, int tid, String shown) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("ph", "M");
    m.put("pid", pid);
    m.put("tid", tid);
    m.put("args", Map.of("name", shown));
    return m;
  }

  private static Map<String, Object> event(String ph, String name, String cat, int pid, int tid, double ts, double dur) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("cat", cat);
    m.put("ph", ph);
    m.put("ts", ts);
    m.put("pid", pid);
    m.put("tid", tid);
    if (ph.equals("X")) {
      m.put("dur", dur);
    }
    m.put("args", Map.of());
    return m;
  }

  /** Node n1 with engine-0 and a process, node n2 with engine-0; a 250 us job at 500 us in a run of 1 ms. */
  private static List<Map<String, Object>> run() {
    List<Map<String, Object>> events = new ArrayList<>();
    events.add(meta("process_name", 1, 0, "node n1"));
    events.add(meta("thread_name", 1, 1, "driver-gpuA/engine-0"));
    events.add(meta("thread_name", 1, 2, "process pA"));
    events.add(meta("process_name", 2, 0, "node n2"));
    events.add(meta("thread_name", 2, 3, "driver-gpuB/engine-0"));
    events.add(event("X", "job fill", "job", 1, 1, 500, 250));
    events.add(event("X", "wait fA", "wait", 1, 2, 0, 1000));
    events.add(event("X", "job copy", "job", 2, 3, 750, 100));
    return events;
  }

  private static String svg(List<Map<String, Object>> events) {
    return TimelineSvg.svg(Map.of("traceEvents", events), "model");
  }


  @Test
  void eachTrackOfEachNodeIsALaneInTheOrderOfItsNode() throws Exception {
    List<String> lanes = Svg.elements(svg(run()), "text", "lane").stream().map(Element::getTextContent).toList();
    assertEquals(List.of("driver-gpuA/engine-0", "process pA", "driver-gpuB/engine-0"), lanes);
  }

  @Test
  void aJobIsABarAtItsTimeAndAsLongAsItRanOnTheLinearAxis() throws Exception {
    Element job = Svg.elements(svg(run()), "rect", "bar job").get(0);
    assertEquals(PLOT_LEFT + 0.5 * PLOT_WIDTH, Double.parseDouble(job.getAttribute("x")), 0.1);
    assertEquals(0.25 * PLOT_WIDTH, Double.parseDouble(job.getAttribute("width")), 0.1);
    assertTrue(job.getTextContent().startsWith("job fill @ 500"), job.getTextContent());
  }

  @Test
  void theAxisIsLabelledAtRoundTimesWithTheirUnit() throws Exception {
    List<String> ticks = Svg.elements(svg(run()), "text", "tick").stream().map(Element::getTextContent).toList();
    assertEquals("0ns", ticks.get(0));
    assertTrue(ticks.contains("1.00ms"), ticks.toString());
    assertEquals(11, ticks.size(), "every 100 us over 1 ms: " + ticks);
  }

  @Test
  void aFaultIsARedLineAcrossEveryLane() throws Exception {
    List<Map<String, Object>> events = run();
    events.add(event("i", "FAULT kill_node n2", "chaos", 1, 2, 600, 0));
    List<Element> faults = Svg.elements(svg(events), "line", "fault");
    assertEquals(1, faults.size());
    assertTrue(Double.parseDouble(faults.get(0).getAttribute("y2")) - Double.parseDouble(faults.get(0).getAttribute("y1")) > 4 * 16);
  }

  @Test
  void moreSlicesThanTheBoundKeepTheLongestAndSaySo() throws Exception {
    List<Map<String, Object>> events = run();
    for (int i = 0; i < TimelineSvg.MAX_BARS + 10; i++) {
      events.add(event("X", "job tiny" + i, "job", 1, 1, i * 0.1, 0.01));
    }
    String svg = svg(events);
    assertEquals(TimelineSvg.MAX_BARS, Svg.elements(svg, "rect", "bar").size());
    assertTrue(Svg.elements(svg, "rect", "bar job").stream().anyMatch(r -> r.getTextContent().startsWith("job fill")), "the long job stays");
    assertTrue(svg.contains("shown: trace.json has every one"));
  }

  @Test
  void aSignalToWakeFlowIsAnArrowBetweenItsLanes() throws Exception {
    List<Map<String, Object>> events = run();
    Map<String, Object> s = event("s", "signal → wake", "flow", 1, 1, 750, 0);
    s.put("id", 1L);
    Map<String, Object> f = event("f", "signal → wake", "flow", 2, 3, 760, 0);
    f.put("id", 1L);
    events.add(s);
    events.add(f);
    assertEquals(1, Svg.elements(svg(events), "line", "arrow").size());
  }
}
