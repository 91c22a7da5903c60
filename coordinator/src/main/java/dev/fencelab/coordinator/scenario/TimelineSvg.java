package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run's timeline for report.html: one swimlane per track of every node — engines, processes, notifiers, NIC
 * queue pairs, the runner's steps — grouped by node, with each job, wait, copy, invalidation, RDMA work request and
 * step as a bar at its time on a linear, labelled axis; instants (marks, odp faults) as ticks; faults and violations as
 * red lines; signal → wake and work request → responder as arrows. Drawn from the same slices as {@code trace.json}
 * ({@link ChromeTrace}), in one clock. Plain SVG: each bar's {@code <title>} is its tooltip; no script.
 */
final class TimelineSvg {
  static final int WIDTH = 1360;
  private static final int LABEL = 250;
  private static final int LANE = 16;
  private static final int TOP = 34;
  /** Bounds: a run of 100,000 events still makes a report a browser opens. */
  static final int MAX_LANES = 120;
  static final int MAX_BARS = 6000;

  private record Lane(int pid, int tid, String node, String name) {}

  private record Bar(Lane lane, double start, double dur, String name, String cat, String tip) {}

  private TimelineSvg() {}

  /** The SVG of {@code doc} (a {@link ChromeTrace#build} document, timestamps in microseconds); {@code clock} names its time. */
  @SuppressWarnings("unchecked")
  static String svg(Map<String, Object> doc, String clock) {
    List<Map<String, Object>> events = (List<Map<String, Object>>) doc.get("traceEvents");
    Map<Integer, String> nodes = new HashMap<>();
    Map<Long, String> trackNames = new HashMap<>();
    for (Map<String, Object> e : events) {
      if ("M".equals(e.get("ph"))) {
        Map<String, Object> args = (Map<String, Object>) e.get("args");
        if ("process_name".equals(e.get("name"))) {
          nodes.put((Integer) e.get("pid"), String.valueOf(args.get("name")));
        } else if ("thread_name".equals(e.get("name"))) {
          trackNames.put(key((Integer) e.get("pid"), (Integer) e.get("tid")), String.valueOf(args.get("name")));
        }
      }
    }
    Map<Long, Lane> lanes = new LinkedHashMap<>();
    List<Bar> bars = new ArrayList<>();
    List<Bar> ticks = new ArrayList<>();
    List<double[]> arrows = new ArrayList<>(); // from ts, from lane key, to ts, to lane key
    Map<Object, double[]> flowStarts = new HashMap<>();
    double end = 0;
    for (Map<String, Object> e : events) {
      String ph = String.valueOf(e.get("ph"));
      if (ph.equals("M")) {
        continue;
      }
      int pid = (Integer) e.get("pid");
      int tid = (Integer) e.get("tid");
      long k = key(pid, tid);
      double ts = ((Number) e.get("ts")).doubleValue();
      double dur = e.get("dur") instanceof Number n ? n.doubleValue() : 0;
      end = Math.max(end, ts + dur);
      if (ph.equals("s")) {
        flowStarts.put(e.get("id"), new double[] {ts, k});
        continue;
      }
      if (ph.equals("f")) {
        double[] from = flowStarts.remove(e.get("id"));
        if (from != null) {
          arrows.add(new double[] {from[0], from[1], ts, k});
        }
        continue;
      }
      Lane lane = lanes.computeIfAbsent(k, x -> new Lane(pid, tid, nodes.getOrDefault(pid, "?"), trackNames.getOrDefault(k, "?")));
      String name = String.valueOf(e.get("name"));
      String cat = String.valueOf(e.get("cat"));
      String tip = name + " @ " + human(ts) + (ph.equals("X") ? " for " + human(dur) : "") + tipArgs(e.get("args"));
      (ph.equals("X") ? bars : ticks).add(new Bar(lane, ts, dur, name, cat, tip));
    }
    List<Lane> order = lanes.values().stream().sorted(Comparator.comparingInt(Lane::pid).thenComparingInt(Lane::tid)).toList();
    boolean lanesClipped = order.size() > MAX_LANES;
    order = order.subList(0, Math.min(order.size(), MAX_LANES));
    Map<Lane, Integer> row = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      row.put(order.get(i), i);
    }
    int nodeGaps = (int) order.stream().map(Lane::pid).distinct().count();
    int height = TOP + (order.size() + nodeGaps) * LANE + 24;
    double span = end <= 0 ? 1 : end;
    int plotW = WIDTH - LABEL - 20;
    StringBuilder b = new StringBuilder();
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"").append(WIDTH).append("\" height=\"").append(height)
        .append("\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    // the axis: linear, ticks at a round step, labelled with units
    double step = niceStep(span / 8);
    for (double t = 0; t <= span + 1e-9; t += step) {
      double x = LABEL + t / span * plotW;
      b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>", x, TOP - 6, x, height - 20));
      b.append(String.format(Locale.ROOT, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, TOP - 10, human(t)));
    }
    b.append("<text x=\"8\" y=\"14\" font-size=\"12\">").append(esc(clock)).append(" time</text>");
    // lanes, node headers
    Map<Lane, Integer> laneY = new HashMap<>();
    int y = TOP;
    int lastPid = -1;
    for (Lane lane : order) {
      if (lane.pid() != lastPid) {
        b.append("<text x=\"4\" y=\"").append(y + 12).append("\" font-weight=\"bold\">").append(esc(lane.node())).append("</text>");
        b.append("<line x1=\"0\" y1=\"").append(y).append("\" x2=\"").append(WIDTH).append("\" y2=\"").append(y).append("\" stroke=\"#999\"/>");
        y += LANE;
        lastPid = lane.pid();
      }
      laneY.put(lane, y);
      if (row.get(lane) % 2 == 0) {
        b.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y).append("\" width=\"").append(plotW).append("\" height=\"")
            .append(LANE).append("\" fill=\"#f7f7f7\"/>");
      }
      b.append("<text class=\"lane\" x=\"14\" y=\"").append(y + 12).append("\">").append(esc(clip(lane.name(), 40))).append("</text>");
      y += LANE;
    }
    // bars: the longest first when there are too many, so that the shape of the run survives
    List<Bar> drawn = bars.stream().filter(x -> laneY.containsKey(x.lane())).toList();
    boolean barsClipped = drawn.size() > MAX_BARS;
    if (barsClipped) {
      drawn = drawn.stream().sorted(Comparator.comparingDouble(Bar::dur).reversed()).limit(MAX_BARS).toList();
    }
    for (Bar bar : drawn) {
      double x = LABEL + bar.start() / span * plotW;
      double w = Math.max(1.5, bar.dur() / span * plotW);
      b.append(String.format(Locale.ROOT, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>",
          esc(bar.cat()), x, laneY.get(bar.lane()) + 2, w, LANE - 4, color(bar), esc(bar.tip())));
    }
    for (Bar t : ticks) {
      Integer ly = laneY.get(t.lane());
      if (ly == null) {
        continue;
      }
      double x = LABEL + t.start() / span * plotW;
      boolean red = t.cat().equals("chaos") || t.cat().equals("violation");
      if (red) { // a fault or a violation: a line across every lane
        b.append(String.format(Locale.ROOT, "<line class=\"fault\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c33\" stroke-width=\"1.5\"><title>%s</title></line>",
            x, TOP, x, height - 20, esc(t.tip())));
      }
      b.append(String.format(Locale.ROOT, "<path class=\"instant\" d=\"M%.1f %d l4 6 l-4 6 l-4 -6 z\" fill=\"%s\"><title>%s</title></path>",
          x, ly + 2, red ? "#c33" : "#555", esc(t.tip())));
    }
    Map<Long, Integer> yByKey = new HashMap<>();
    laneY.forEach((lane, ly) -> yByKey.put(key(lane.pid(), lane.tid()), ly));
    for (double[] a : arrows) {
      Integer y1 = yByKey.get((long) a[1]);
      Integer y2 = yByKey.get((long) a[3]);
      if (y1 != null && y2 != null) {
        b.append(String.format(Locale.ROOT, "<line class=\"arrow\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#8a5cc7\" stroke-width=\"1\" "
            + "marker-end=\"url(#head)\"/>", LABEL + a[0] / span * plotW, y1 + LANE / 2, LABEL + a[2] / span * plotW, y2 + LANE / 2));
      }
    }
    b.append("<defs><marker id=\"head\" markerWidth=\"6\" markerHeight=\"6\" refX=\"5\" refY=\"3\" orient=\"auto\"><path d=\"M0 0 L6 3 L0 6 z\" "
        + "fill=\"#8a5cc7\"/></marker></defs>");
    if (lanesClipped || barsClipped) {
      b.append("<text x=\"8\" y=\"").append(height - 6).append("\" fill=\"#c33\">").append(lanesClipped ? "first " + MAX_LANES + " tracks" : "")
          .append(lanesClipped && barsClipped ? ", " : "").append(barsClipped ? "the " + MAX_BARS + " longest of " + bars.size() + " slices" : "")
          .append(" shown: trace.json has every one</text>");
    }
    b.append("</svg>");
    return b.toString();
  }

  private static long key(int pid, int tid) {
    return ((long) pid << 32) | (tid & 0xffffffffL);
  }

  @SuppressWarnings("unchecked")
  private static String tipArgs(Object args) {
    if (!(args instanceof Map<?, ?> a)) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (String k : List.of("status", "fence", "subject", "detail")) {
      Object v = ((Map<String, Object>) a).get(k);
      if (v != null && !String.valueOf(v).isEmpty()) {
        b.append("\n").append(k).append(": ").append(clip(String.valueOf(v), 200));
      }
    }
    return b.toString();
  }

  private static String color(Bar bar) {
    boolean failed = bar.tip().contains("status: -") || bar.name().contains("never");
    if (failed) {
      return "#d9534f";
    }
    return switch (bar.cat()) {
      case "job" -> "#4a90d9";
      case "wait" -> "#e0a030";
      case "copy" -> "#2a9d8f";
      case "invalidate" -> "#9b59b6";
      case "rdma" -> "#50b37a";
      case "step" -> "#a0a0a0";
      case "unplug" -> "#c0392b";
      case "lockdep" -> "#f1c40f";
      default -> "#7f8c8d";
    };
  }

  /** A round step near {@code raw} microseconds: 1, 2 or 5 times a power of ten. */
  static double niceStep(double raw) {
    if (raw <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }

  /** Microseconds as users read them. */
  static String human(double micros) {
    return Units.human(Math.round(micros * 1000));
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "…";
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
