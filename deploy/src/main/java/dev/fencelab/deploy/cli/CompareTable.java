package dev.fencelab.deploy.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The side-by-side table of {@code fencelab compare}: a column per variant, a row per fact (verdict, violations,
 * failed checks, fences that ended with an error, each latency), the rows whose cells differ marked {@code *}. A pure
 * function of the rows.
 */
final class CompareTable {
  private static final int MAX_CELL = 40;

  private CompareTable() {}

  /** {@code rows}: the label, then one cell per variant (the same count as {@code variants}). */
  static String render(List<String> variants, Map<String, List<String>> rows) {
    List<String> header = new ArrayList<>();
    header.add("");
    header.addAll(variants);
    List<List<String>> table = new ArrayList<>();
    table.add(header);
    List<Boolean> differs = new ArrayList<>();
    differs.add(false);
    rows.forEach((label, cells) -> {
      if (cells.size() != variants.size()) {
        throw new IllegalArgumentException(label + ": " + cells.size() + " cells for " + variants.size() + " variants");
      }
      List<String> row = new ArrayList<>();
      row.add(label);
      cells.forEach(c -> row.add(c.length() > MAX_CELL ? c.substring(0, MAX_CELL - 1) + "…" : c));
      table.add(row);
      differs.add(cells.stream().distinct().count() > 1);
    });
    int[] width = new int[header.size()];
    for (List<String> row : table) {
      for (int i = 0; i < row.size(); i++) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    StringBuilder b = new StringBuilder();
    for (int r = 0; r < table.size(); r++) {
      List<String> row = table.get(r);
      StringBuilder line = new StringBuilder(differs.get(r) ? "* " : "  ");
      for (int i = 0; i < row.size(); i++) {
        line.append(String.format("%-" + (width[i] + 3) + "s", row.get(i)));
      }
      b.append(line.toString().stripTrailing()).append('\n');
    }
    long n = differs.stream().filter(d -> d).count();
    b.append(n == 0 ? "no differences\n" : n + " row(s) differ (*)\n");
    return b.toString();
  }

  /** An ordered map builder for rows. */
  static Map<String, List<String>> rows() {
    return new LinkedHashMap<>();
  }
}
