package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class LatencyPlotTest {
  private static Latencies.Stat stat(long... nanos) {
    Histogram h = new Histogram(3);
    for (long n : nanos) {
      h.recordValue(n);
    }
    return new Latencies.Stat("copy", "model", h);
  }


  @Test
  void fewSamplesAreEachADotEvenWhenTheyAreEqual() throws Exception {
    String svg = LatencyPlot.svg(List.of(stat(2_000_000, 2_000_000, 2_000_000)), "model");
    assertEquals(3, Svg.elements(svg, "circle", "sample").size());
  }

  @Test
  void manySamplesAreACumulativeDistribution() throws Exception {
    long[] values = new long[500];
    for (int i = 0; i < values.length; i++) {
      values[i] = 1_000 + i * 10L;
    }
    String svg = LatencyPlot.svg(List.of(stat(values)), "model");
    assertEquals(0, Svg.elements(svg, "circle", "sample").size());
    assertEquals(1, Svg.elements(svg, "polyline", "cdf").size());
  }

  @Test
  void theAxisStartsAtZeroAndEndsAtARoundValueWithItsUnit() throws Exception {
    List<String> ticks = Svg.elements(LatencyPlot.svg(List.of(stat(700_000, 1_300_000)), "model"), "text", "tick").stream()
        .map(Element::getTextContent).toList();
    assertEquals("0ns", ticks.get(0));
    assertEquals("2.00ms", ticks.get(ticks.size() - 1));
  }

  @Test
  void aZeroLatencyIsADotAtTheOriginNotASliver() throws Exception {
    Element dot = Svg.elements(LatencyPlot.svg(List.of(stat(0, 5_000)), "model"), "circle", "sample").get(0);
    assertEquals(210, Double.parseDouble(dot.getAttribute("cx")), 0.5);
  }
}
