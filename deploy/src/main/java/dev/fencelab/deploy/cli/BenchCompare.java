package dev.fencelab.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fencelab.deploy.UserError;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code fencelab bench compare A.json B.json}: two saved runs side by side, figure by figure. Raw Pekko's figures
 * move with the machine's load, so the change compared is that of each run's ratio against its own raw baseline
 * (B's ratio / A's ratio), oriented so that above 1 is better; the plain values are shown too.
 */
final class BenchCompare {
  private BenchCompare() {}

  record Figure(String name, String unit, double value, double baseline, double ratio, boolean higherIsBetter) {}

  static Map<String, Figure> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw UserError.badInput("bench compare: no file " + file);
    }
    try {
      JsonNode figures = new ObjectMapper().readTree(file.toFile()).get("figures");
      if (figures == null || !figures.isArray()) {
        throw UserError.badInput("bench compare: " + file + " is not a bench --json file (no \"figures\" list)");
      }
      Map<String, Figure> byName = new LinkedHashMap<>();
      for (JsonNode f : figures) {
        byName.put(f.path("name").asText(), new Figure(f.path("name").asText(), f.path("unit").asText(), f.path("value").asDouble(),
            f.path("baseline").asDouble(), f.path("ratio").asDouble(), f.path("higherIsBetter").asBoolean()));
      }
      return byName;
    } catch (IOException e) {
      throw UserError.badInput("bench compare: " + file + " is not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
  }

  /** B's ratio against A's, oriented: above 1, B is better than A relative to raw Pekko. */
  static double change(Figure a, Figure b) {
    if (a.ratio() <= 0 || b.ratio() <= 0) {
      return Double.NaN;
    }
    return a.higherIsBetter() ? b.ratio() / a.ratio() : a.ratio() / b.ratio();
  }

  static int print(Path a, Path b, PrintStream out) {
    Map<String, Figure> fa = read(a);
    Map<String, Figure> fb = read(b);
    out.printf(Locale.ROOT, "A: %s%nB: %s%n%n%-46s %14s %14s %9s %9s %9s%n", a, b, "FIGURE", "A", "B", "A/RAW", "B/RAW", "CHANGE");
    for (Figure x : fa.values()) {
      Figure y = fb.get(x.name());
      if (y == null) {
        out.printf(Locale.ROOT, "%-46s %14s %14s   (only in A)%n", x.name(), num(x.value()), "-");
        continue;
      }
      double c = change(x, y);
      out.printf(Locale.ROOT, "%-46s %14s %14s %9.2f %9.2f %8.2fx%s%n", x.name(), num(x.value()), num(y.value()), x.ratio(), y.ratio(), c,
          Double.isNaN(c) ? "" : c >= 1.1 ? "  better" : c <= 0.9 ? "  worse" : "");
    }
    fb.keySet().stream().filter(n -> !fa.containsKey(n)).forEach(n -> out.printf(Locale.ROOT, "%-46s %14s %14s   (only in B)%n", n, "-",
        num(fb.get(n).value())));
    out.println("\nCHANGE: B's ratio to raw Pekko against A's, above 1 when B is better (each run against its own raw baseline).");
    return 0;
  }

  private static String num(double v) {
    return Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
