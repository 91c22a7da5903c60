package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * The latency plots of report.html: one row per kind, each on its own linear axis from 0 with labelled ticks in its
 * unit. A kind with few samples shows every sample as a dot (three equal bars say nothing); one with many shows its
 * cumulative distribution, with p50 and p99 marked. Plain SVG.
 */
final class LatencyPlot {
  static final int WIDTH = 1100;
  /** Up to this many samples, each one is a dot. */
  static final int DOTS = 40;
  private static final int LEFT = 210;
  private static final int ROW = 78;

  private LatencyPlot() {}

  static String svg(List<Latencies.Stat> stats, String clock) {
    int plotW = WIDTH - LEFT - 30;
    int height = 24 + stats.size() * ROW;
    StringBuilder b = new StringBuilder();
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"latency\" width=\"").append(WIDTH).append("\" height=\"").append(height)
        .append("\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    b.append("<text x=\"8\" y=\"15\" font-size=\"12\">").append(clock).append(" time: each kind on its own linear axis; dots are samples, "
        + "a line is the cumulative share of samples at or below a value</text>");
    int top = 24;
    for (Latencies.Stat s : stats) {
      Histogram h = s.histogram();
      long total = h.getTotalCount();
      double axisMax = niceCeil(Math.max(1_000, h.getMaxValue())); // at least 1 us: whole nanoseconds on every tick
      int base = top + ROW - 26; // the axis line
      int plotTop = top + 8;
      b.append("<text x=\"8\" y=\"").append(top + 24).append("\" font-weight=\"bold\">").append(TimelineSvg.esc(s.kind())).append("</text>");
      b.append("<text x=\"8\" y=\"").append(top + 38).append("\">n = ").append(total).append(", p50 ")
          .append(Units.human(h.getValueAtPercentile(50))).append(", max ").append(Units.human(h.getMaxValue())).append("</text>");
      b.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(base).append("\" x2=\"").append(LEFT + plotW).append("\" y2=\"")
          .append(base).append("\" stroke=\"#444\"/>");
      double step = TimelineSvg.niceStep(axisMax / 5);
      for (double v = 0; v <= axisMax + 1e-9; v += step) {
        double x = LEFT + v / axisMax * plotW;
        b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>", x, base, x, base + 4));
        b.append(String.format(Locale.ROOT, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, base + 15,
            Units.human(Math.round(v))));
      }
      if (total <= DOTS) {
        int i = 0;
        for (HistogramIterationValue v : h.recordedValues()) {
          for (long c = 0; c < v.getCountAtValueIteratedTo(); c++, i++) {
            double x = LEFT + h.highestEquivalentValue(v.getValueIteratedTo()) / axisMax * plotW;
            int y = base - 8 - (i % 4) * 9;
            b.append(String.format(Locale.ROOT, "<circle class=\"sample\" cx=\"%.1f\" cy=\"%d\" r=\"3.5\" fill=\"#4a90d9\"><title>%s</title></circle>",
                x, y, Units.human(h.highestEquivalentValue(v.getValueIteratedTo()))));
          }
        }
      } else {
        StringBuilder pts = new StringBuilder(String.format(Locale.ROOT, "%.1f,%d", (double) LEFT, base));
        long cum = 0;
        for (HistogramIterationValue v : h.recordedValues()) {
          double x = LEFT + h.highestEquivalentValue(v.getValueIteratedTo()) / axisMax * plotW;
          pts.append(String.format(Locale.ROOT, " %.1f,%.1f", x, base - (double) cum / total * (base - plotTop)));
          cum += v.getCountAtValueIteratedTo();
          pts.append(String.format(Locale.ROOT, " %.1f,%.1f", x, base - (double) cum / total * (base - plotTop)));
        }
        b.append("<polyline class=\"cdf\" fill=\"none\" stroke=\"#4a90d9\" stroke-width=\"1.5\" points=\"").append(pts).append("\"/>");
        for (double p : new double[] {50, 99}) {
          long v = h.getValueAtPercentile(p);
          double x = LEFT + v / axisMax * plotW;
          b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d9534f\" stroke-dasharray=\"3 2\"/>",
              x, plotTop, x, base));
          b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#d9534f\">p%d %s</text>", x + 3, plotTop + 9, (int) p,
              Units.human(v)));
        }
      }
      top += ROW;
    }
    b.append("</svg>");
    return b.toString();
  }

  /** The axis's end: the value rounded up to 1, 2 or 5 times a power of ten. */
  static double niceCeil(double v) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }
}
