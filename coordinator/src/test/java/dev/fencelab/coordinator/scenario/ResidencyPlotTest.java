package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

class ResidencyPlotTest {
  private static final long MIB = 1 << 20;
  private static final long MS = 1_000_000L;
  private static final long SECOND = 1_000_000_000L;

  private static TraceEvent mark(String name, String process, String subject, long bytes, long nanos) {
    return TraceEvent.newBuilder().setKind(EventKind.MARK).setNode("n1").setTrack(process).setName(name).setSubject(subject)
        .setBytes(bytes).setWallNanos(nanos).build();
  }

  private static TraceEvent in(String process, long bytes, long nanos) {
    return mark(ResidencyPlot.TO_DEVICE, process, "gpu0", bytes, nanos);
  }

  private static TraceEvent out(String process, long bytes, long nanos) {
    return mark(ResidencyPlot.TO_RAM, process, "gpu0", bytes, nanos);
  }

  /** The plot with the events' wall_nanos as their time since the start, the run ending at 2 s. */
  private static String plot(TraceEvent... events) {
    return ResidencyPlot.svg(List.of(events), TraceEvent::getWallNanos, 2 * SECOND);
  }


  private static List<Element> elements(String svg, String tag, String cssClass) throws Exception {
    return Svg.elements(svg, tag, cssClass).stream().filter(e -> e.getAttribute("class").equals(cssClass)).toList();
  }

  private static List<Element> series(String svg) throws Exception {
    return elements(svg, "path", "residency");
  }

  private static List<String> legend(String svg) throws Exception {
    return elements(svg, "text", "legend").stream().map(Element::getTextContent).toList();
  }

  /** The y coordinates a series' step line goes through: its start (zero bytes), then one per event. */
  private static List<Double> ys(Element path) {
    String d = path.getAttribute("d");
    List<Double> ys = new ArrayList<>();
    ys.add(Double.parseDouble(d.substring(1).split(" ")[1]));
    Matcher m = Pattern.compile("V([0-9.]+)").matcher(d);
    while (m.find()) {
      ys.add(Double.parseDouble(m.group(1)));
    }
    return ys;
  }

  @Test
  void aRunWithoutHmmMigrationsDrawsNothing() {
    TraceEvent pcie = TraceEvent.newBuilder().setKind(EventKind.MARK).setName("pcie transfer").setNode("n1").setBytes(MIB).build();
    TraceEvent fence = TraceEvent.newBuilder().setKind(EventKind.FENCE_CREATED).setNode("n1").setName(ResidencyPlot.TO_DEVICE).build();
    assertEquals("", plot());
    assertEquals("", plot(pcie, fence));
  }

  @Test
  void aMigrationToTheDeviceThenBackRisesThenFallsToZero() throws Exception {
    String svg = plot(in("n1/P", 4 * MIB, 100 * MS), out("n1/P", 4 * MIB, 900 * MS));
    List<Element> paths = series(svg);
    assertEquals(1, paths.size());
    List<Double> ys = ys(paths.get(0));
    assertEquals(3, ys.size(), ys.toString());
    assertTrue(ys.get(1) < ys.get(0), "rises (up is a smaller y): " + ys);
    assertEquals(ys.get(0), ys.get(2), "back to zero: " + ys);
    assertEquals(List.of("n1/P (gpu0): peak 4 MiB, at end 0 B"), legend(svg));
  }

  @Test
  void successiveMigrationsAccumulate() throws Exception {
    String svg = plot(in("n1/P", MIB, 100 * MS), in("n1/P", 2 * MIB, 200 * MS), out("n1/P", MIB, 300 * MS));
    List<Double> ys = ys(series(svg).get(0));
    assertTrue(ys.get(2) < ys.get(1) && ys.get(1) < ys.get(0), "each migration in adds to the last: " + ys);
    assertTrue(ys.get(3) > ys.get(2) && ys.get(3) < ys.get(0), "one back leaves the rest: " + ys);
    assertEquals(List.of("n1/P (gpu0): peak 3 MiB, at end 2 MiB"), legend(svg));
  }

  @Test
  void twoProcessesGetTwoSeriesInNameOrder() throws Exception {
    String svg = plot(in("n2/Q", MIB, 100 * MS), in("n1/P", 2 * MIB, 200 * MS));
    assertEquals(List.of("n1/P", "n2/Q"), series(svg).stream().map(p -> p.getAttribute("data-process")).toList());
    assertEquals(List.of("n1/P (gpu0): peak 2 MiB, at end 2 MiB", "n2/Q (gpu0): peak 1 MiB, at end 1 MiB"), legend(svg));
    assertFalse(series(svg).get(0).getAttribute("stroke").equals(series(svg).get(1).getAttribute("stroke")), "told apart by colour");
  }

  @Test
  void lostPagesLowerTheResidencyAndAreMarked() throws Exception {
    String svg = plot(in("n1/P", 2 * MIB, 100 * MS), mark(ResidencyPlot.LOST, "n1/P", "gpu0", MIB, 500 * MS));
    List<Double> ys = ys(series(svg).get(0));
    assertTrue(ys.get(2) > ys.get(1) && ys.get(2) < ys.get(0), "down by the lost half: " + ys);
    assertEquals(List.of("n1/P (gpu0): peak 2 MiB, at end 1 MiB, lost 1 MiB", "pages lost: the device died holding them"), legend(svg));
    assertEquals(2, elements(svg, "path", "lost").size(), "a cross on the line and one in the legend");
  }

  @Test
  void residencyNeverGoesBelowZero() throws Exception {
    String svg = plot(out("n1/P", MIB, 100 * MS));
    List<Double> ys = ys(series(svg).get(0));
    assertEquals(ys.get(0), ys.get(1), ys.toString());
    assertEquals(List.of("n1/P (gpu0): peak 0 B, at end 0 B"), legend(svg));
  }

  @Test
  void theAxesAreInSecondsAndBinaryUnits() throws Exception {
    List<String> ticks = elements(plot(in("n1/P", 3 * MIB, 100 * MS)), "text", "tick").stream().map(Element::getTextContent).toList();
    assertTrue(ticks.containsAll(List.of("0 s", "1 s", "2 s", "0 MiB", "1 MiB", "3 MiB")), ticks.toString());
    List<String> small = elements(ResidencyPlot.svg(List.of(in("n1/P", 512 << 10, 10 * MS)), TraceEvent::getWallNanos, 40 * MS), "text",
        "tick").stream().map(Element::getTextContent).toList();
    assertTrue(small.containsAll(List.of("0 ms", "40 ms", "0 KiB", "200 KiB", "600 KiB")), small.toString());
  }

  @Test
  void theLineRunsOnToTheEndOfTheRun() throws Exception {
    String d = series(plot(in("n1/P", MIB, 100 * MS))).get(0).getAttribute("d");
    double last = Double.parseDouble(d.substring(d.lastIndexOf('H') + 1));
    double axisEnd = 1000 - 30; // W - RIGHT: the 2 s run fills the time axis
    assertEquals(axisEnd, last, 0.5, d);
  }

  @Test
  void theOutputIsAWellFormedSelfContainedSvg() throws Exception {
    String svg = plot(in("n1/P", MIB, 100 * MS));
    Element root = Svg.parse(svg).getDocumentElement();
    assertEquals("svg", root.getTagName());
    assertEquals("http://www.w3.org/2000/svg", root.getAttribute("xmlns"));
    assertFalse(svg.contains("href") || svg.contains("@import") || svg.contains("url("), "nothing external");
    assertEquals(svg, plot(in("n1/P", MIB, 100 * MS)), "deterministic");
  }

  @Test
  void processAndOwnerNamesAreEscaped() throws Exception {
    String name = "n1/<P&\"'>";
    String svg = plot(mark(ResidencyPlot.TO_DEVICE, name, "<gpu&0>", MIB, 100 * MS));
    assertFalse(svg.contains("<P&") || svg.contains("<gpu"), svg);
    assertEquals(name, series(svg).get(0).getAttribute("data-process"));
    assertEquals(List.of(name + " (<gpu&0>): peak 1 MiB, at end 1 MiB"), legend(svg));
  }

  @Test
  void theRunReportAlignsTheEventsOnTheRunnersClock() throws Exception {
    RunRecord record = RunRecord.newBuilder().setWallStartNanos(10 * SECOND).setWallEndNanos(12 * SECOND)
        .addEvents(in("n1/P", MIB, 11 * SECOND).toBuilder().setNode("n1"))
        .addClocks(dev.fencelab.protocol.trace.v1.ClockOffset.newBuilder().setNode("n1").setOffsetNanos(SECOND / 2)).build();
    RunIndex x = new RunIndex(record);
    String svg = ResidencyPlot.svg(x.ofKind(EventKind.MARK), e -> x.sinceStart(x.wall(e)), x.sinceStart(record.getWallEndNanos()));
    String d = series(svg).get(0).getAttribute("d");
    double rise = Double.parseDouble(d.substring(d.indexOf('H') + 1, d.indexOf(" V")));
    assertEquals(90 + 0.25 * (1000 - 90 - 30), rise, 0.5, "11 s - 0.5 s offset - 10 s start = 0.5 s of 2 s: " + d);
  }

  @Test
  void theReportShowsThePlotInlineOnlyWhenPagesMoved(@TempDir Path dir) throws Exception {
    Scenario scenario = Scenario.newBuilder().setName("t").build();
    RunReport.write(scenario, RunRecord.newBuilder().setScenario("t").addEvents(in("n1/P", MIB, 5 * MS)).build(), dir.resolve("hmm"));
    String html = Files.readString(dir.resolve("hmm").resolve("report.html"));
    assertTrue(html.contains("<h2>Device-private residency</h2><svg xmlns="), html);
    assertFalse(html.contains("data:image/svg+xml;base64,"), "no latency plot, so no image");
    RunReport.write(scenario, RunRecord.newBuilder().setScenario("t").build(), dir.resolve("none"));
    assertFalse(Files.readString(dir.resolve("none").resolve("report.html")).contains("Device-private residency"));
  }
}
