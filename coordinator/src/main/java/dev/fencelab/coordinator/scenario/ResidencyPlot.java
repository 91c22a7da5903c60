package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * Device-private page residency per process over the run's wall time, as an inline SVG for the run report (HMM,
 * Documentation/mm/hmm.rst): for each process (the mm's label, the {@code track} of its events) a step line of how many
 * bytes of its memory sit in device-private memory, built from its MARK events "hmm migrate ram -&gt; device" (up by
 * {@code bytes}), "hmm migrate device -&gt; ram" (down) and "device-private pages lost" (down, marked with a red cross:
 * the device died holding them). Time since the run's start on x, bytes on y (binary units), a legend with each process's
 * pgmap owners, peak, final and lost bytes. Pure: same events, same string; "" when no event moved a byte.
 */
final class ResidencyPlot {
  static final String TO_DEVICE = "hmm migrate ram -> device";
  static final String TO_RAM = "hmm migrate device -> ram";
  static final String LOST = "device-private pages lost";

  private static final int W = 1000;
  private static final int LEFT = 90;
  private static final int RIGHT = 30;
  private static final int TOP = 44;
  private static final int PLOT_H = 300;
  private static final int BOTTOM = 56;
  private static final int ROW = 18;
  private static final int PLOT_W = W - LEFT - RIGHT;
  private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
      "#7f7f7f", "#393b79"};
  private static final String[] DASHES = {"", "8 4", "2 3", "8 3 2 3"};
  private static final String[] BYTE_UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

  /** The residency after one event at {@code t} ns since the start; {@code lost}: the event was a loss. */
  private record Step(long t, long bytes, boolean lost, String subject) {}

  /** An axis: ticks {@code 0, step, … top} in {@code unit}s (nanoseconds or bytes per unit), named {@code suffix}. */
  private record Axis(double unit, String suffix, double step, double top) {
    double frac(double raw) {
      return raw / unit / top;
    }

    String label(double value) {
      return number(value) + " " + suffix;
    }
  }

  private ResidencyPlot() {}

  /**
   * The plot of {@code events} (any kinds; only the three HMM marks count), {@code sinceStart} giving an event's wall time
   * in nanoseconds since the run's start, the lines drawn on to {@code runEnd} (ns since the start; ignored when earlier
   * than the last event).
   */
  static String svg(List<TraceEvent> events, ToLongFunction<TraceEvent> sinceStart, long runEnd) {
    List<TraceEvent> hmm = events.stream().filter(ResidencyPlot::counts)
        .sorted(Comparator.comparingLong(e -> Math.max(0, sinceStart.applyAsLong(e)))).toList();
    if (hmm.isEmpty()) {
      return "";
    }
    Map<String, List<Step>> series = new TreeMap<>();
    Map<String, Set<String>> owners = new TreeMap<>();
    long end = Math.max(1, runEnd);
    long peak = 0;
    for (TraceEvent e : hmm) {
      String process = e.getTrack().isEmpty() ? e.getNode() : e.getTrack();
      List<Step> steps = series.computeIfAbsent(process, k -> new ArrayList<>(List.of(new Step(0, 0, false, ""))));
      long before = steps.get(steps.size() - 1).bytes();
      long after = e.getName().equals(TO_DEVICE) ? before + e.getBytes() : Math.max(0, before - e.getBytes());
      long t = Math.max(0, sinceStart.applyAsLong(e));
      steps.add(new Step(t, after, e.getName().equals(LOST), e.getSubject()));
      if (!e.getName().equals(LOST) && !e.getSubject().isEmpty()) {
        owners.computeIfAbsent(process, k -> new TreeSet<>()).add(e.getSubject());
      }
      end = Math.max(end, t);
      peak = Math.max(peak, after);
    }
    Axis time = timeAxis(end);
    Axis bytes = byteAxis(Math.max(1, peak));
    boolean anyLost = hmm.stream().anyMatch(e -> e.getName().equals(LOST));
    Map<String, String> entries = new TreeMap<>();
    series.forEach((process, steps) -> entries.put(process, legend(process, steps, owners.getOrDefault(process, Set.of()))));
    int columns = entries.values().stream().allMatch(l -> l.length() <= 60) ? 2 : 1; // ~6.5 px a character at 12 px
    int rows = (series.size() + (anyLost ? 1 : 0) + columns - 1) / columns;
    int h = TOP + PLOT_H + BOTTOM + rows * ROW + 12;
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        + "font-family=\"sans-serif\" font-size=\"12\"><rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>", W, h, W, h));
    text(b, LEFT, 22, "Device-private (HMM) residency per process: bytes of its memory in device memory, over wall time",
        "font-size=\"14\" font-weight=\"bold\"");
    axes(b, time, bytes);
    int i = 0;
    for (Map.Entry<String, List<Step>> s : series.entrySet()) {
      String color = COLORS[i % COLORS.length];
      String dash = DASHES[(i / COLORS.length) % DASHES.length];
      List<Step> steps = s.getValue();
      StringBuilder d = new StringBuilder(String.format(Locale.ROOT, "M%.1f %.1f", x(time, 0), y(bytes, 0)));
      for (Step st : steps.subList(1, steps.size())) {
        d.append(String.format(Locale.ROOT, " H%.1f V%.1f", x(time, st.t()), y(bytes, st.bytes())));
      }
      d.append(String.format(Locale.ROOT, " H%.1f", x(time, end)));
      b.append("<path class=\"residency\" data-process=\"").append(esc(s.getKey())).append("\" d=\"").append(d)
          .append("\" fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\"")
          .append(dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"").append("><title>").append(esc(s.getKey())).append("</title></path>");
      for (int k = 1; k < steps.size(); k++) {
        if (steps.get(k).lost()) {
          cross(b, x(time, steps.get(k).t()), y(bytes, steps.get(k).bytes()), s.getKey() + ": pages lost with " + steps.get(k).subject());
        }
      }
      int[] at = legendSlot(i, columns);
      b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>", at[0],
          at[1] - 4, at[0] + 24, at[1] - 4, color, dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\""));
      text(b, at[0] + 30, at[1], entries.get(s.getKey()), "class=\"legend\"");
      i++;
    }
    if (anyLost) {
      int[] at = legendSlot(i, columns);
      cross(b, at[0] + 12, at[1] - 4, "pages lost");
      text(b, at[0] + 30, at[1], "pages lost: the device died holding them", "class=\"legend\"");
    }
    return b.append("</svg>").toString();
  }

  /** "n1/P (gpu0): peak 2 MiB, at end 0 B, lost 1 MiB": the process, its pgmap owners, its peak, final and lost bytes. */
  private static String legend(String process, List<Step> steps, Set<String> owners) {
    long lost = 0;
    for (int k = 1; k < steps.size(); k++) {
      lost += steps.get(k).lost() ? steps.get(k - 1).bytes() - steps.get(k).bytes() : 0;
    }
    long max = steps.stream().mapToLong(Step::bytes).max().orElse(0);
    return process + (owners.isEmpty() ? "" : " (" + String.join(", ", owners) + ")") + ": peak " + human(max) + ", at end "
        + human(steps.get(steps.size() - 1).bytes()) + (lost > 0 ? ", lost " + human(lost) : "");
  }

  private static boolean counts(TraceEvent e) {
    return e.getKind() == EventKind.MARK && e.getBytes() > 0
        && (e.getName().equals(TO_DEVICE) || e.getName().equals(TO_RAM) || e.getName().equals(LOST));
  }

  /** Grid, ticks with their labels and the axis titles. */
  private static void axes(StringBuilder b, Axis time, Axis bytes) {
    int bottom = TOP + PLOT_H;
    for (int k = 0; k <= Math.round(time.top() / time.step()); k++) {
      double x = LEFT + k * time.step() / time.top() * PLOT_W;
      b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>", x, TOP, x, bottom + 5));
      text(b, x, bottom + 19, time.label(k * time.step()), "class=\"tick\" text-anchor=\"middle\"");
    }
    for (int k = 0; k <= Math.round(bytes.top() / bytes.step()); k++) {
      double y = bottom - k * bytes.step() / bytes.top() * PLOT_H;
      b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", LEFT - 5, y, W - RIGHT, y));
      text(b, LEFT - 8, y + 4, bytes.label(k * bytes.step()), "class=\"tick\" text-anchor=\"end\"");
    }
    b.append(String.format(Locale.ROOT, "<path d=\"M%d %d V%d H%d\" fill=\"none\" stroke=\"#333\"/>", LEFT, TOP, bottom, W - RIGHT));
    text(b, LEFT + PLOT_W / 2.0, bottom + 40, "time since the run's start (wall clock)", "text-anchor=\"middle\"");
    b.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">"
        + "device-private bytes</text>", TOP + PLOT_H / 2.0, TOP + PLOT_H / 2.0));
  }

  private static int[] legendSlot(int i, int columns) {
    return new int[] {LEFT + (i % columns) * (PLOT_W / 2), TOP + PLOT_H + BOTTOM + (i / columns) * ROW + 12};
  }

  private static void cross(StringBuilder b, double x, double y, String title) {
    b.append(String.format(Locale.ROOT, "<path class=\"lost\" d=\"M%.1f %.1f l8 8 m0 -8 l-8 8\" fill=\"none\" stroke=\"#d62728\" "
        + "stroke-width=\"2.5\">", x - 4, y - 4)).append("<title>").append(esc(title)).append("</title></path>");
  }

  private static double x(Axis time, long nanos) {
    return LEFT + time.frac(nanos) * PLOT_W;
  }

  private static double y(Axis bytes, long n) {
    return TOP + PLOT_H - bytes.frac(n) * PLOT_H;
  }

  /** Seconds, milliseconds, microseconds or nanoseconds, whichever the run's span reaches; about 8 ticks. */
  private static Axis timeAxis(long end) {
    double unit = end >= 1_000_000_000L ? 1e9 : end >= 1_000_000L ? 1e6 : end >= 1_000L ? 1e3 : 1;
    String suffix = unit == 1e9 ? "s" : unit == 1e6 ? "ms" : unit == 1e3 ? "µs" : "ns";
    return axis(end / unit, unit, suffix, 8);
  }

  /** The largest binary unit the peak reaches; about 5 ticks, whole bytes at least, 5% headroom over the peak. */
  private static Axis byteAxis(long peak) {
    int u = Math.min(BYTE_UNITS.length - 1, (63 - Long.numberOfLeadingZeros(peak)) / 10);
    return axis(peak * 1.05 / Math.pow(1024, u), Math.pow(1024, u), BYTE_UNITS[u], 5);
  }

  private static Axis axis(double scaled, double unit, String suffix, int ticks) {
    double raw = scaled / ticks;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double n = raw / mag;
    double step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
    if (unit == 1) {
      step = Math.max(1, step); // no fractions of a byte or a nanosecond
    }
    return new Axis(unit, suffix, step, Math.max(1, Math.ceil(scaled / step - 1e-9)) * step);
  }

  /** "0", "0.25", "1.5", "200": at most three decimals, no trailing zeros. */
  private static String number(double v) {
    String s = String.format(Locale.ROOT, "%.3f", v);
    return s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }

  /** Bytes in binary units: "0 B", "512 B", "1.5 MiB". */
  static String human(long n) {
    int u = Math.min(BYTE_UNITS.length - 1, (63 - Long.numberOfLeadingZeros(Math.max(1, n))) / 10);
    return number(Math.round(n / Math.pow(1024, u) * 100) / 100.0) + " " + BYTE_UNITS[u];
  }

  private static void text(StringBuilder b, double x, double y, String s, String attributes) {
    b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attributes)).append(esc(s)).append("</text>");
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&apos;");
  }
}
