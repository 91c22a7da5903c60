package dev.fencelab.coordinator.scenario;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a run leaves in its output directory: {@code trace.json} (model time) and {@code trace-wall.json}
 * (aligned wall time), {@code latency.txt} and {@code latency.json}, {@code verdict.json} and a self-contained
 * {@code report.html} (verdict, failures with their chains, steps, fault schedule, timeline summary, the PCIe topology
 * with the load of its links as an inline SVG ({@link TopologyDrawing}), each process's device-private (HMM) page residency
 * over wall time as an inline SVG ({@link ResidencyPlot}), latency plots as embedded SVG images).
 */
public final class RunReport {
  public record Result(VerdictChecker.Verdict verdict, Latencies latencies, RunIndex index, List<Path> files) {}

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RunReport() {}

  /** Checks the run and writes every output file into {@code dir}. */
  public static Result write(Scenario scenario, RunRecord record, Path dir) throws IOException {
    Files.createDirectories(dir);
    RunIndex index = new RunIndex(record);
    Latencies latencies = Latencies.of(index);
    VerdictChecker.Verdict verdict = VerdictChecker.check(scenario, index, latencies);
    List<Path> files = new ArrayList<>();
    Path raw = dir.resolve("run.pb");
    Files.write(raw, record.toByteArray()); // everything the checker saw, for re-analysis
    files.add(raw);
    files.add(json(dir.resolve("trace.json"), ChromeTrace.build(index, ChromeTrace.Clock.MODEL)));
    files.add(json(dir.resolve("trace-wall.json"), ChromeTrace.build(index, ChromeTrace.Clock.WALL)));
    Path txt = dir.resolve("latency.txt");
    Files.writeString(txt, latencies.table());
    files.add(txt);
    files.add(json(dir.resolve("latency.json"), Map.of("scenario", record.getScenario(), "seed", record.getSeed(),
        "latencies", latencies.json())));
    files.add(json(dir.resolve("verdict.json"), verdictJson(scenario, record, verdict)));
    Path html = dir.resolve("report.html");
    Files.writeString(html, html(scenario, record, index, verdict, latencies), StandardCharsets.UTF_8);
    files.add(html);
    return new Result(verdict, latencies, index, files);
  }

  private static Path json(Path file, Object doc) throws IOException {
    JSON.writeValue(file.toFile(), doc);
    return file;
  }

  private static Map<String, Object> verdictJson(Scenario s, RunRecord r, VerdictChecker.Verdict v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("verdict", v.pass() ? "PASS" : "FAIL");
    m.put("scenario", s.getName());
    m.put("seed", r.getSeed());
    m.put("pace", r.getPace());
    m.put("resv_mode", s.getSettings().getResvMode().isEmpty() ? "modern" : s.getSettings().getResvMode());
    m.put("command", r.getCommand());
    m.put("fencelab", r.getVersion());
    m.put("replay", r.getReplay());
    m.put("failures", v.failures().stream().map(f -> Map.of("check", f.check(), "message", f.message(), "chain", f.chain())).toList());
    m.put("facts", v.facts());
    m.put("fault_schedule", r.getScheduleList().stream().map(ChaosSchedule::describe).toList());
    m.put("dead_nodes", r.getDeadNodesList());
    m.put("unplugged_devices", r.getUnpluggedDevicesList());
    List<Map<String, Object>> steps = new ArrayList<>();
    for (StepOutcome o : r.getStepsList()) {
      Map<String, Object> st = new LinkedHashMap<>();
      st.put("id", o.getId());
      st.put("action", o.getAction());
      st.put("status", o.getSkipped() ? "skipped" : o.getStatus() == 0 ? "ok" : RunIndex.errno(o.getStatus()));
      st.put("detail", o.getDetail());
      st.put("wall_ms", (o.getWallEndNanos() - o.getWallBeginNanos()) / 1e6);
      steps.add(st);
    }
    m.put("steps", steps);
    m.put("fences", r.getFencesList().stream().map(f -> Map.of("name", f.getName(), "fence", f.getFence())).toList());
    m.put("checksums", r.getChecksumsList().stream().map(c -> Map.of("buffer", c.getBuffer(), "at", c.getAt(), "checksum", c.getChecksum(),
        "status", c.getStatus())).toList());
    m.put("clock_alignment", r.getClocksList().stream().map(c -> Map.of("node", c.getNode(), "offset_ns", c.getOffsetNanos(),
        "uncertainty_ns", c.getUncertaintyNanos())).toList());
    return m;
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private static String html(Scenario s, RunRecord r, RunIndex x, VerdictChecker.Verdict v, Latencies l) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>fencelab: ").append(esc(s.getName())).append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}")
        .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}")
        .append(".pass{color:#fff;background:#2a7;padding:4px 12px}.fail{color:#fff;background:#c33;padding:4px 12px}")
        .append("pre{background:#f6f6f6;padding:8px;font-size:12px}.wide{overflow-x:auto}")
        .append(".tl-wall{display:none}#clock-wall:checked~.tl-wall{display:block}#clock-wall:checked~.tl-model{display:none}")
        .append(".legend i{display:inline-block;width:12px;height:10px;margin:0 3px 0 10px}")
        .append("</style></head><body>");
    b.append("<h1>").append(esc(s.getName())).append(" <span class=\"").append(v.pass() ? "pass\">PASS" : "fail\">FAIL").append("</span></h1>");
    b.append("<p>").append(esc(s.getDescription())).append("</p>");
    b.append("<p>seed ").append(r.getSeed()).append(", pace ").append(esc(r.getPace())).append(", wall time ")
        .append(esc(Units.human(r.getWallEndNanos() - r.getWallStartNanos()))).append(", nodes killed: ")
        .append(esc(r.getDeadNodesList().toString())).append(", devices unplugged: ").append(esc(r.getUnpluggedDevicesList().toString()))
        .append(", dma_resv semantics: ").append(esc(s.getSettings().getResvMode().isEmpty() ? "modern" : s.getSettings().getResvMode()))
        .append("</p>");
    if (!r.getReplay().isEmpty()) {
      b.append("<p>run again: <code>").append(esc(r.getReplay())).append("</code><br>ran as: <code>").append(esc(r.getCommand()))
          .append("</code> by ").append(esc(r.getVersion())).append("</p>");
    }
    b.append("<h2>Failures</h2>");
    if (v.failures().isEmpty()) {
      b.append("<p>none: every fence completed exactly once, every wait ended, no unexpected violation, surviving data intact, "
          + "every expectation met.</p>");
    }
    for (VerdictChecker.Failure f : v.failures()) {
      b.append("<p><b>").append(esc(f.check())).append("</b>: ").append(esc(f.message())).append("</p>");
      if (!f.chain().isEmpty()) {
        b.append("<div class=\"wide\">").append(ChainSvg.svg(f.chain())).append("</div>");
      }
    }
    if (!x.violations.isEmpty()) { // every report, expected or not, in the kernel's words (lockdep's with both paths)
      b.append("<h2>Violations recorded</h2>");
      for (TraceEvent e : x.violations) {
        b.append("<p><b>").append(esc(e.getName())).append("</b> on ").append(esc(e.getNode())).append(": ").append(esc(e.getSubject()))
            .append("</p><pre class=\"wide\">").append(esc(e.getDetail())).append("</pre>");
      }
    }
    b.append("<h2>Facts</h2><ul>");
    v.facts().forEach(f -> b.append("<li>").append(esc(f)).append("</li>"));
    b.append("</ul><h2>Fault schedule</h2><ul>");
    r.getScheduleList().forEach(f -> b.append("<li>").append(esc(ChaosSchedule.describe(f))).append("</li>"));
    if (r.getScheduleCount() == 0) {
      b.append("<li>no chaos block</li>");
    }
    b.append("</ul><h2>Steps</h2><table><tr><th>step</th><th>action</th><th>status</th><th>wall</th><th>detail</th></tr>");
    for (StepOutcome o : r.getStepsList()) {
      b.append("<tr><td>").append(esc(o.getId())).append("</td><td>").append(esc(o.getAction())).append("</td><td>")
          .append(o.getSkipped() ? "skipped" : o.getStatus() == 0 ? "ok" : esc(RunIndex.errno(o.getStatus()))).append("</td><td>")
          .append(esc(Units.human(o.getWallEndNanos() - o.getWallBeginNanos()))).append("</td><td>").append(esc(o.getDetail()))
          .append("</td></tr>");
    }
    b.append("</table>").append(timeline(x));
    b.append("<h2>Per node</h2><table><tr><th>node</th><th>events</th><th>fences</th><th>jobs</th><th>waits</th>"
        + "<th>violations</th><th>first (wall)</th><th>last (wall)</th><th>last model time</th></tr>");
    Map<String, List<TraceEvent>> byNode = new TreeMap<>();
    x.events.forEach(e -> byNode.computeIfAbsent(e.getNode(), k -> new ArrayList<>()).add(e));
    byNode.forEach((node, list) -> {
      long fences = list.stream().filter(e -> e.getKind() == EventKind.FENCE_CREATED).count();
      long jobs = list.stream().filter(e -> e.getKind() == EventKind.JOB_QUEUED).count();
      long waits = list.stream().filter(e -> e.getKind() == EventKind.WAIT_BEGIN).count();
      long viol = list.stream().filter(e -> e.getKind() == EventKind.VIOLATION).count();
      long model = list.stream().mapToLong(TraceEvent::getModelNanos).max().orElse(0);
      b.append("<tr><td>").append(esc(node)).append(x.nodeDead(node) ? " (killed)" : "").append("</td><td>").append(list.size())
          .append("</td><td>").append(fences).append("</td><td>").append(jobs).append("</td><td>").append(waits).append("</td><td>")
          .append(viol).append("</td><td>+").append(esc(Units.human(Math.max(0, x.sinceStart(x.wall(list.get(0)))))))
          .append("</td><td>+").append(esc(Units.human(Math.max(0, x.sinceStart(x.wall(list.get(list.size() - 1)))))))
          .append("</td><td>").append(esc(Units.human(model))).append("</td></tr>");
    });
    b.append("</table>");
    TopologyDrawing.svgs(s, x.ofKind(EventKind.MARK)).forEach((host, topology) -> b.append("<h2>PCIe topology")
        .append(host.isEmpty() ? "" : " of host " + esc(host)).append("</h2><div class=\"wide\">").append(topology).append("</div>"));
    String residency = ResidencyPlot.svg(x.ofKind(EventKind.MARK), e -> x.sinceStart(x.wall(e)), x.sinceStart(r.getWallEndNanos()));
    if (!residency.isEmpty()) {
      b.append("<h2>Device-private residency</h2>").append(residency);
    }
    b.append("<h2>Latencies</h2><pre>").append(esc(l.table())).append("</pre>");
    for (String clock : List.of("model", "wall")) {
      List<Latencies.Stat> stats = l.all().stream().filter(st -> st.clock().equals(clock)).toList();
      if (!stats.isEmpty()) {
        b.append("<h3>").append(clock).append(" time</h3><div class=\"wide\">").append(LatencyPlot.svg(stats, clock)).append("</div>");
      }
    }
    b.append("<p>Open <code>trace.json</code> (model time) or <code>trace-wall.json</code> (wall time) in "
        + "<a href=\"https://ui.perfetto.dev\">Perfetto</a> or chrome://tracing.</p></body></html>\n");
    return b.toString();
  }

  /**
   * The timeline section: the model-time and the wall-time swimlanes, one shown at a time (radio buttons and CSS: no
   * script, so the file works offline and anywhere).
   */
  static String timeline(RunIndex x) {
    return "<h2>Timeline</h2><p>Every track of every node; hover a bar for what it was.</p><div>"
        + "<input type=\"radio\" name=\"clock\" id=\"clock-model\" checked><label for=\"clock-model\">model time</label> "
        + "<input type=\"radio\" name=\"clock\" id=\"clock-wall\"><label for=\"clock-wall\">wall time</label>"
        + "<span class=\"legend\"> <i style=\"background:#4a90d9\"></i>job <i style=\"background:#e0a030\"></i>wait "
        + "<i style=\"background:#2a9d8f\"></i>copy <i style=\"background:#9b59b6\"></i>invalidation "
        + "<i style=\"background:#50b37a\"></i>RDMA <i style=\"background:#a0a0a0\"></i>step "
        + "<i style=\"background:#d9534f\"></i>failed <i style=\"background:#c33;width:2px\"></i>fault, violation</span>"
        + "<div class=\"wide tl-model\">" + TimelineSvg.svg(ChromeTrace.build(x, ChromeTrace.Clock.MODEL), "model") + "</div>"
        + "<div class=\"wide tl-wall\">" + TimelineSvg.svg(ChromeTrace.build(x, ChromeTrace.Clock.WALL), "wall") + "</div></div>";
  }

  /** The verdict for a terminal: PASS/FAIL, every failure with its chain. */
  public static String summary(VerdictChecker.Verdict v) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "verdict: %s%n", v.pass() ? "PASS" : "FAIL"));
    for (VerdictChecker.Failure f : v.failures()) {
      b.append("  FAIL [").append(f.check()).append("] ").append(f.message()).append('\n');
      f.chain().forEach(c -> b.append("       ").append(c).append('\n'));
    }
    for (String fact : v.facts()) {
      b.append("  - ").append(fact).append('\n');
    }
    return b.toString();
  }
}
