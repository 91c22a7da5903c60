package dev.fencelab.coordinator.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A failure's wait-for chain ({@link WaitChains}: one line per link, indented by depth) drawn as a small tree: each link
 * a box under the one it explains, joined by an elbow, a cycle in red. Plain SVG for report.html.
 */
final class ChainSvg {
  private static final int STEP = 26;
  private static final int ROW = 28;
  private static final int BOX = 20;
  private static final int MAX_TEXT = 150;

  private ChainSvg() {}

  static String svg(List<String> chain) {
    List<Integer> depth = new ArrayList<>();
    List<String> text = new ArrayList<>();
    for (String line : chain) {
      int spaces = line.length() - line.stripLeading().length();
      depth.add(spaces / 2);
      text.add(line.strip());
    }
    int width = 0;
    for (int i = 0; i < text.size(); i++) {
      width = Math.max(width, x(depth.get(i)) + boxWidth(text.get(i)) + 10);
    }
    int height = 8 + text.size() * ROW;
    StringBuilder b = new StringBuilder();
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chain\" width=\"").append(width).append("\" height=\"").append(height)
        .append("\" font-family=\"sans-serif\" font-size=\"11\">");
    for (int i = 0; i < text.size(); i++) {
      int d = depth.get(i);
      int y = y(i);
      for (int j = i - 1; j >= 0; j--) { // the link this one explains: the nearest one above, one level up
        if (depth.get(j) < d) {
          int px = x(depth.get(j)) + 10;
          b.append(String.format(Locale.ROOT, "<path class=\"edge\" d=\"M%d %d V%d H%d\" fill=\"none\" stroke=\"#888\"/>", px, y(j) + BOX,
              y + BOX / 2, x(d)));
          break;
        }
      }
      boolean cycle = text.get(i).startsWith("cycle:");
      String shown = text.get(i).length() > MAX_TEXT ? text.get(i).substring(0, MAX_TEXT - 1) + "…" : text.get(i);
      b.append(String.format(Locale.ROOT, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\" stroke=\"%s\">"
              + "<title>%s</title></rect>", cycle ? "link cycle" : "link", x(d), y, boxWidth(shown), BOX, cycle ? "#fdecea" : "#eef3fb",
          cycle ? "#c33" : "#7a9cc6", TimelineSvg.esc(text.get(i))));
      b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>", x(d) + 6, y + 14, TimelineSvg.esc(shown)));
    }
    b.append("</svg>");
    return b.toString();
  }

  private static int x(int depth) {
    return 8 + depth * STEP;
  }

  private static int y(int row) {
    return 4 + row * ROW;
  }

  private static int boxWidth(String text) {
    return (int) Math.ceil(Math.min(text.length(), MAX_TEXT) * 6.3) + 12;
  }
}
