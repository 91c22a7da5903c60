package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's trace in the Chrome Trace Event format (opens in Perfetto and chrome://tracing): one process track per
 * node (and one for the runner: steps, faults, checksums), one thread track per device engine, driver, process or
 * timeline; slices for jobs, waits, copies, unplug handling and dma-fence signalling sections; instants for signals, faults
 * and violations (a lockdep report on the thread whose acquisition closed the cycle); a flow
 * arrow from every fence signal to every waiter it woke, across nodes. Timestamps are model time or the runner's
 * aligned wall clock; every event carries both in its args.
 */
public final class ChromeTrace {
  public enum Clock { MODEL, WALL }

  private final RunIndex x;
  private final Clock clock;
  private final List<Map<String, Object>> out = new ArrayList<>();
  private final Map<String, Integer> pids = new LinkedHashMap<>();
  private final Map<String, Integer> tids = new HashMap<>();
  private long flowIds;
  /** The responders' slices by requester QP, responder QP and PSN (built on first use). */
  private Map<String, TraceEvent> servedBy;

  private ChromeTrace(RunIndex x, Clock clock) {
    this.x = x;
    this.clock = clock;
  }

  public static Map<String, Object> build(RunIndex x, Clock clock) {
    ChromeTrace t = new ChromeTrace(x, clock);
    t.run();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("traceEvents", t.out);
    doc.put("displayTimeUnit", "ns");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("scenario", x.record.getScenario());
    meta.put("seed", x.record.getSeed());
    meta.put("clock", clock == Clock.MODEL ? "model time (emulated hardware), microseconds from 0"
        : "wall time, runner's monotonic clock, microseconds from the run's start; members aligned by ping round trips");
    Map<String, Object> clocks = new LinkedHashMap<>();
    x.record.getClocksList().forEach(c -> clocks.put(c.getNode(), Map.of("offset_ns", c.getOffsetNanos(),
        "uncertainty_ns", c.getUncertaintyNanos(), "samples", c.getSamples())));
    meta.put("clock_alignment", clocks);
    meta.put("dead_nodes", x.record.getDeadNodesList());
    meta.put("fault_schedule", x.record.getScheduleList().stream().map(ChaosSchedule::describe).toList());
    doc.put("otherData", meta);
    return doc;
  }

  private double ts(TraceEvent e) {
    return clock == Clock.MODEL ? e.getModelNanos() / 1000.0 : x.sinceStart(x.wall(e)) / 1000.0;
  }

  private int pid(String node) {
    return pids.computeIfAbsent(node, n -> {
      int id = pids.size() + 1;
      out.add(meta("process_name", id, 0, Map.of("name", n.equals("runner") ? "runner (steps, chaos, checksums)" : "node " + n)));
      out.add(meta("process_sort_index", id, 0, Map.of("sort_index", n.equals("runner") ? 0 : id)));
      return id;
    });
  }

  private int tid(String node, String track) {
    int pid = pid(node);
    String shown = track.startsWith(node + "/") ? track.substring(node.length() + 1) : track;
    return tids.computeIfAbsent(node + "\u0000" + track, k -> {
      int id = tids.size() + 1;
      out.add(meta("thread_name", pid, id, Map.of("name", shown.isEmpty() ? "(member)" : shown)));
      return id;
    });
  }

  private static Map<String, Object> meta(String name, int pid, int tid, Map<String, Object> args) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("ph", "M");
    m.put("pid", pid);
    m.put("tid", tid);
    m.put("args", args);
    return m;
  }

  private Map<String, Object> ev(String ph, String name, String cat, TraceEvent at, String track) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("cat", cat);
    m.put("ph", ph);
    m.put("ts", ts(at));
    m.put("pid", pid(at.getNode()));
    m.put("tid", tid(at.getNode(), track));
    return m;
  }

  private Map<String, Object> args(TraceEvent e) {
    Map<String, Object> a = new LinkedHashMap<>();
    if (!e.getFence().isEmpty()) a.put("fence", e.getFence());
    if (e.getKind() == EventKind.FENCE_SIGNALED || e.getKind() == EventKind.WAIT_END || e.getKind() == EventKind.JOB_END) {
      a.put("status", RunIndex.status(e.getStatus()));
    }
    if (!e.getSubject().isEmpty()) a.put("subject", e.getSubject());
    if (!e.getDetail().isEmpty()) a.put("detail", e.getDetail());
    if (e.getDepsCount() > 0) a.put("deps", e.getDepsList());
    a.put("model_ns", e.getModelNanos());
    a.put("wall_ns", x.sinceStart(x.wall(e)));
    a.put("node", e.getNode());
    return a;
  }

  private void slice(String name, String cat, TraceEvent begin, TraceEvent end, String track, Map<String, Object> args) {
    Map<String, Object> m = ev("X", name, cat, begin, track);
    m.put("dur", Math.max(0.001, ts(end) - ts(begin)));
    m.put("args", args);
    out.add(m);
  }

  private void instant(String name, String cat, TraceEvent e, String track, String scope) {
    Map<String, Object> m = ev("i", name, cat, e, track);
    m.put("s", scope);
    m.put("args", args(e));
    out.add(m);
  }

  /** A flow arrow from a requester's work request to the responder's slice serving it (same QP pair and PSN). */
  private void rdmaFlow(TraceEvent begin, TraceEvent end) {
    if (end == begin || end.getResult() == 0) {
      return;
    }
    if (servedBy == null) {
      servedBy = new HashMap<>();
      for (TraceEvent served : x.ofKind(EventKind.WR_BEGIN)) {
        if (served.getName().startsWith("serve ")) {
          String responderQp = served.getTrack().substring(served.getTrack().lastIndexOf('/') + 1);
          servedBy.putIfAbsent(served.getSubject() + "|" + responderQp + "|" + served.getResult(), served);
        }
      }
    }
    String qp = begin.getTrack().substring(begin.getTrack().lastIndexOf('/') + 1);
    TraceEvent served = servedBy.get(qp + "|" + end.getSubject() + "|" + end.getResult());
    if (served == null) {
      return;
    }
    flow("work request → responder", begin, begin.getTrack(), served, served.getTrack());
  }

  /** A flow arrow named {@code name} from {@code from} (on {@code fromTrack}) to {@code to} (on {@code toTrack}). */
  private void flow(String name, TraceEvent from, String fromTrack, TraceEvent to, String toTrack) {
    long id = ++flowIds;
    Map<String, Object> s = ev("s", name, "flow", from, fromTrack);
    s.put("id", id);
    out.add(s);
    Map<String, Object> f = ev("f", name, "flow", to, toTrack);
    f.put("id", id);
    f.put("bp", "e");
    out.add(f);
  }

  private void run() {
    pid("runner");
    for (String node : x.record.getNodeAddressesMap().keySet().stream().sorted().toList()) {
      pid(node);
    }
    // Jobs.
    for (RunIndex.Job j : x.jobs.values()) {
      TraceEvent first = j.start != null ? j.start : j.queued;
      if (first == null) {
        continue;
      }
      if (j.end != null && j.start != null) {
        Map<String, Object> a = args(j.end);
        a.put("process", j.start.getSubject());
        slice("job " + j.start.getName(), "job", j.start, j.end, j.start.getTrack(), a);
      } else if (j.end != null) {
        instant("job " + j.end.getName() + " failed before it ran: " + RunIndex.status(j.end.getStatus()), "job", j.end, j.end.getTrack(), "t");
      } else {
        instant("job " + first.getName() + " never finished", "job", first, first.getTrack(), "t");
      }
    }
    // Waits, signals and the flow arrows between them.
    Map<String, Map<String, Object>> signalSlices = new HashMap<>();
    for (Map.Entry<String, List<TraceEvent>> e : x.signals.entrySet()) {
      TraceEvent sig = e.getValue().get(0);
      Map<String, Object> m = ev("X", "signal " + RunIndex.status(sig.getStatus()), "fence", sig, sig.getTrack());
      m.put("dur", 0.001);
      m.put("args", args(sig));
      out.add(m);
      signalSlices.put(e.getKey(), m);
    }
    for (Map.Entry<String, TraceEvent> e : x.waitBegins.entrySet()) {
      TraceEvent begin = e.getValue();
      TraceEvent end = x.waitEnds.get(e.getKey());
      if (end == null) {
        instant("wait on " + begin.getFence() + " never ended", "wait", begin, begin.getTrack(), "t");
        continue;
      }
      Map<String, Object> a = args(end);
      a.put("reason", begin.getName());
      a.put("result", end.getDetail());
      slice("wait " + begin.getName(), "wait", begin, end, begin.getTrack(), a);
      TraceEvent sig = x.signals.containsKey(end.getFence()) ? x.signals.get(end.getFence()).get(0) : null;
      if (sig != null && end.getResult() > 0) {
        flow("signal → wake", sig, sig.getTrack(), end, begin.getTrack());
      }
    }
    for (TraceEvent e : x.events) {
      switch (e.getKind()) {
        case COPY -> {
          Map<String, Object> m = ev("X", "copy " + e.getSubject(), "copy", e, e.getTrack());
          RunIndex.Job job = x.jobOfCopy(e);
          if (clock == Clock.MODEL && job != null) {
            m.put("ts", ts(job.start));
            m.put("dur", Math.max(0.001, ts(job.end) - ts(job.start)));
          } else {
            m.put("dur", Math.max(0.001, (x.wallEnd(e) - x.wall(e)) / 1000.0));
          }
          Map<String, Object> a = args(e);
          a.put("bytes", e.getBytes());
          a.put("wall_duration_ns", e.getWallEndNanos() - e.getWallNanos());
          m.put("args", a);
          out.add(m);
        }
        case UNPLUG_BEGIN -> {
          TraceEvent end = x.endOf(e);
          slice("unplug " + e.getSubject(), "unplug", e, end, e.getTrack(), args(end));
        }
        case INVALIDATE_BEGIN -> {
          TraceEvent end = x.endOf(e);
          Map<String, Object> a = args(end);
          a.put("range", e.getSubject());
          a.put("why", e.getDetail());
          slice(end == e ? "invalidate " + e.getName() + " (never ended)" : "invalidate " + e.getName() + " (" + e.getDetail() + ")",
              "invalidate", e, end, e.getTrack() + " mm", a);
        }
        case NOTIFIER_BEGIN -> {
          TraceEvent end = x.endOf(e);
          Map<String, Object> a = args(end);
          a.put("mm", e.getSubject());
          a.put("returned", end == e ? "never" : end.getStatus() == 1 ? "true" : "false (would block)");
          slice("invalidate callback " + e.getName(), "invalidate", e, end, e.getTrack(), a);
        }
        case WR_BEGIN -> {
          TraceEvent end = x.endOf(e);
          if (e.getName().startsWith("serve ")) { // the responder's side, which the requester's slice points to
            Map<String, Object> a = args(end);
            a.put("psn", e.getResult());
            a.put("requester qp", e.getSubject());
            slice("rdma " + e.getName() + " psn " + e.getResult() + (end == e ? " (unanswered)" : end.getStatus() == 0 ? "" : " " + end.getName()),
                "rdma", e, end, e.getTrack(), a);
            continue;
          }
          rdmaFlow(e, end);
          Map<String, Object> a = args(end);
          a.put("wr", e.getDetail());
          a.put("peer qp", e.getSubject());
          a.put("bytes", e.getBytes());
          a.put("status", end == e ? "never completed" : end.getName());
          slice("rdma " + e.getName() + " " + e.getDetail() + (end == e ? " (never completed)" : end.getStatus() == 0 ? "" : " " + end.getName()),
              "rdma", e, end, e.getTrack(), a);
        }
        case ODP_FAULT -> instant("odp fault " + (e.getStatus() < 0 ? RunIndex.errno(e.getStatus()) : e.getStatus() + " pages") + " ("
            + e.getDetail() + ")", "rdma", e, e.getTrack(), "t");
        case PINNED_DMA -> instant("DMA " + e.getName() + " to pinned pages " + e.getSubject() + " no longer maps (" + e.getBytes() + " bytes)",
            "rdma", e, e.getTrack(), "t");
        case MARK -> instant(e.getName() + (e.getDetail().isEmpty() ? "" : ": " + e.getDetail()), "mark", e, e.getTrack(), "t");
        case VIOLATION -> instant("VIOLATION " + e.getName(), "violation", e, e.getTrack(), "p");
        case SECTION_BEGIN -> {
          TraceEvent end = x.endOf(e);
          slice("signalling section: " + e.getName() + (end == e ? " (never ended)" : ""), "lockdep", e, end, e.getTrack(), args(end));
        }
        case FAULT -> instant("FAULT " + e.getName() + " " + e.getSubject(), "chaos", e, e.getTrack(), "g");
        case CHECKSUM -> instant("checksum " + e.getSubject() + " " + e.getDetail(), "checksum", e, e.getTrack(), "t");
        case STEP_BEGIN -> {
          TraceEvent end = x.endOf(e);
          Map<String, Object> a = args(end);
          a.put("step", e.getDetail());
          slice("step " + e.getName(), "step", e, end, e.getTrack(), a);
        }
        default -> {}
      }
    }
  }
}
