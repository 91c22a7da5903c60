package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * HdrHistogram latencies per event kind and clock, from a run's trace:
 *
 * <ul>
 *   <li>{@code signal_to_wake}: a fence's signal → a waiter's wake (wall: emulator cost, across nodes on the aligned
 *       clock; model: the modelled delay, 0 without link latency);
 *   <li>{@code job.queue_to_start}, {@code job.run}, {@code job.queue_to_end}: per job;
 *   <li>{@code copy}: a copy job's transfer (wall: the real chunked transfer; model: the job's modelled time); and
 *       {@code copy.<route>} per route through the PCIe fabric (local, bus_addr, thru_host_bridge, host_memory, bounce);
 *   <li>{@code invalidate}: an invalidation round's start (mmu_notifier_invalidate_range_start) → its end (every
 *       subscriber's callback returned, the change applied).
 *   <li>{@code rdma.write}, {@code rdma.read}, {@code rdma.send}: an RDMA work request's post → its successful
 *       completion (model: link serialisation, latency and ODP faults).
 *   <li>{@code unplug_to_resolved}: an unplug or node kill → the last fence or wait that resolved with {@code -ENODEV}.
 * </ul>
 */
public final class Latencies {
  public static final double[] PERCENTILES = {50, 90, 99, 99.9};
  private static final long HIGHEST = 3_600_000_000_000L;

  public record Stat(String kind, String clock, Histogram histogram) {
    public long count() {
      return histogram.getTotalCount();
    }
  }

  private final Map<String, Stat> stats = new LinkedHashMap<>();
  /** Per kind and clock: {bytes moved, nanoseconds the transfers took, summed} — the throughput lines. */
  private final Map<String, long[]> moved = new LinkedHashMap<>();

  private void moved(String kind, String clock, long bytes, long nanos) {
    if (bytes > 0 && nanos > 0) {
      long[] t = moved.computeIfAbsent(kind + "/" + clock, k -> new long[2]);
      t[0] += bytes;
      t[1] += nanos;
    }
  }

  /** Throughput per kind and clock: bytes over the summed time of the transfers that moved them, in bytes per second. */
  public Map<String, Double> throughput() {
    Map<String, Double> out = new LinkedHashMap<>();
    moved.forEach((k, t) -> out.put(k, t[0] * 1e9 / t[1]));
    return out;
  }
  private long clampedNegative;

  public static Latencies of(RunIndex x) {
    Latencies l = new Latencies();
    l.build(x);
    return l;
  }

  public Stat get(String kind, String clock) {
    return stats.get(kind + "/" + clock);
  }

  public List<Stat> all() {
    return new ArrayList<>(stats.values());
  }

  /** Cross-node wall samples that came out negative (within the clock alignment's uncertainty) and were counted as 0. */
  public long clampedNegative() {
    return clampedNegative;
  }

  private void add(String kind, String clock, long nanos) {
    if (nanos < 0) {
      clampedNegative++;
      nanos = 0;
    }
    stats.computeIfAbsent(kind + "/" + clock, k -> new Stat(kind, clock, new Histogram(HIGHEST, 3)))
        .histogram().recordValue(Math.min(nanos, HIGHEST));
  }

  private void build(RunIndex x) {
    for (Map.Entry<String, List<TraceEvent>> e : x.waitEndsByFence.entrySet()) {
      List<TraceEvent> sig = x.signals.get(e.getKey());
      if (sig == null || sig.isEmpty()) {
        continue;
      }
      TraceEvent signal = sig.get(0);
      for (TraceEvent end : e.getValue()) {
        if (end.getResult() > 0 && end.getStatus() == signal.getStatus()) {
          add("signal_to_wake", "wall", x.wall(end) - x.wall(signal));
          add("signal_to_wake", "model", end.getModelNanos() - signal.getModelNanos());
        }
      }
    }
    for (RunIndex.Job j : x.jobs.values()) {
      if (j.queued != null && j.start != null) {
        add("job.queue_to_start", "model", j.start.getModelNanos() - j.queued.getModelNanos());
        add("job.queue_to_start", "wall", x.wall(j.start) - x.wall(j.queued));
      }
      if (j.start != null && j.end != null && j.end.getStatus() == 1) {
        add("job.run", "model", j.end.getModelNanos() - j.start.getModelNanos());
        add("job.run", "wall", x.wall(j.end) - x.wall(j.start));
      }
      if (j.queued != null && j.end != null) {
        add("job.queue_to_end", "model", j.end.getModelNanos() - j.queued.getModelNanos());
        add("job.queue_to_end", "wall", x.wall(j.end) - x.wall(j.queued));
      }
    }
    for (TraceEvent b : x.ofKind(EventKind.INVALIDATE_BEGIN)) {
      TraceEvent end = x.endOf(b);
      if (end != b) {
        add("invalidate", "wall", x.wall(end) - x.wall(b));
        add("invalidate", "model", end.getModelNanos() - b.getModelNanos());
      }
    }
    for (TraceEvent b : x.ofKind(EventKind.WR_BEGIN)) {
      TraceEvent end = x.endOf(b);
      if (end != b && end.getStatus() == 0 && !b.getName().startsWith("serve ")) {
        add("rdma." + b.getName(), "wall", x.wall(end) - x.wall(b));
        add("rdma." + b.getName(), "model", end.getModelNanos() - b.getModelNanos());
        moved("rdma." + b.getName(), "wall", b.getBytes(), x.wall(end) - x.wall(b));
        moved("rdma." + b.getName(), "model", b.getBytes(), end.getModelNanos() - b.getModelNanos());
      }
    }
    for (TraceEvent c : x.ofKind(EventKind.COPY)) {
      add("copy", "wall", c.getWallEndNanos() - c.getWallNanos());
      moved("copy", "wall", c.getBytes(), c.getWallEndNanos() - c.getWallNanos());
      RunIndex.Job j = x.jobOfCopy(c);
      if (j != null) {
        add("copy", "model", j.end.getModelNanos() - j.start.getModelNanos());
        moved("copy", "model", c.getBytes(), j.end.getModelNanos() - j.start.getModelNanos());
        int colon = c.getDetail().indexOf(':');
        if (colon > 0 && j.end.getStatus() == 1) { // the route the copy took through the PCIe fabric
          add("copy." + c.getDetail().substring(0, colon), "model", j.end.getModelNanos() - j.start.getModelNanos());
        }
      }
    }
    for (TraceEvent f : x.ofKind(EventKind.FAULT)) {
      if (!f.getName().equals("kill_node") && !f.getName().equals("unplug")) {
        continue;
      }
      long t0 = x.wall(f);
      long last = -1;
      for (TraceEvent e : x.events) {
        boolean enodev = e.getStatus() == -19 && (e.getKind() == EventKind.WAIT_END || e.getKind() == EventKind.FENCE_SIGNALED
            || e.getKind() == EventKind.JOB_END);
        if (enodev && x.wall(e) >= t0) {
          last = Math.max(last, x.wall(e));
        }
      }
      if (last >= 0) {
        add("unplug_to_resolved", "wall", last - t0);
      }
    }
  }

  /** The table of latency.txt. */
  public String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-20s %-6s %7s %10s %10s %10s %10s %10s %10s%n", "kind", "clock", "count", "min", "p50",
        "p90", "p99", "p99.9", "max"));
    for (Stat s : stats.values()) {
      Histogram h = s.histogram();
      b.append(String.format(Locale.ROOT, "%-20s %-6s %7d %10s %10s %10s %10s %10s %10s%n", s.kind(), s.clock(), h.getTotalCount(),
          Units.human(h.getMinValue()), Units.human(h.getValueAtPercentile(50)), Units.human(h.getValueAtPercentile(90)),
          Units.human(h.getValueAtPercentile(99)), Units.human(h.getValueAtPercentile(99.9)), Units.human(h.getMaxValue())));
    }
    if (stats.isEmpty()) {
      b.append("(no latency samples in this run)\n");
    }
    if (!moved.isEmpty()) {
      b.append(String.format(Locale.ROOT, "%n%-20s %-6s %12s %12s %14s%n", "throughput", "clock", "bytes", "busy", "rate"));
      moved.forEach((k, t) -> b.append(String.format(Locale.ROOT, "%-20s %-6s %12d %12s %10.2f MB/s%n", k.substring(0, k.indexOf('/')),
          k.substring(k.indexOf('/') + 1), t[0], Units.human(t[1]), t[0] * 1e3 / t[1])));
    }
    b.append("\nwall: the emulator's own time on the runner's clock (members aligned by ping round trips);\n"
        + "model: the emulated hardware's time (reproducible). Values in ns/us/ms/s.\n");
    if (clampedNegative > 0) {
      b.append(clampedNegative + " cross-node wall sample(s) were negative within the clock uncertainty and counted as 0.\n");
    }
    return b.toString();
  }

  /** The content of latency.json. */
  public List<Map<String, Object>> json() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Stat s : stats.values()) {
      Histogram h = s.histogram();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kind", s.kind());
      m.put("clock", s.clock());
      m.put("count", h.getTotalCount());
      m.put("min_ns", h.getMinValue());
      m.put("mean_ns", Math.round(h.getMean()));
      for (double p : PERCENTILES) {
        m.put("p" + (p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p)) + "_ns", h.getValueAtPercentile(p));
      }
      m.put("max_ns", h.getMaxValue());
      long[] t = moved.get(s.kind() + "/" + s.clock());
      if (t != null) { // what these transfers moved, and at what rate
        m.put("bytes", t[0]);
        m.put("bytes_per_second", Math.round(t[0] * 1e9 / t[1]));
      }
      out.add(m);
    }
    return out;
  }
}
