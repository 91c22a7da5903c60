package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Hosts;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Pcie;
import dev.fencelab.protocol.scenario.v1.PciEndpoint;
import dev.fencelab.protocol.scenario.v1.PciPort;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The host's PCIe fabric as an inline SVG for the run report (kernel-semantics §1.13): host memory over the host bridges
 * (vendor:device), their root ports, switches (their ports in one frame, ACS-redirect ports marked), and the endpoint
 * devices with the member each runs on. Every physical link (a device's slot to its port, a switch's upstream link) is
 * labelled with its generation and width; one that carried "pcie transfer"s is drawn thick and orange with the bytes that
 * went up (towards the root) and down, and the bytes through each root complex, DRAM and device memory are shown. A
 * device the scenario's {@code pcie} section does not place is drawn where the fabric puts it: behind a root port of its
 * own on the default host bridge. The load comes from {@link PcieLoad}. Pure: same scenario and events, same string.
 */
final class TopologyDrawing {
  private static final String DEFAULT_BRIDGE = "default-host-bridge";
  private static final int GAP = 24;
  private static final int BAND = 64;
  private static final int MARGIN = 16;
  private static final int LINE = 15;
  private static final int LEGEND = 70;
  private static final String HOT = "#e07020";
  private static final String MIDDLE = "text-anchor=\"middle\" ";
  private static final String START = "text-anchor=\"start\" font-size=\"11\"";
  private static final Map<String, String> FILLS = Map.of("dram", "#fdf3e1", "host_bridge", "#e6edf8", "endpoint", "#eaf6ea");

  /** One box of the tree; {@code link}: the resource id of its physical link to its parent, null inside a switch or a root complex. */
  private static final class Box {
    final String kind;
    final List<String> lines = new ArrayList<>();
    final List<Box> children = new ArrayList<>();
    String link;
    String linkLabel;
    boolean acs;
    boolean hot;
    int span;
    int depth;
    int x;
    int y;

    Box(String kind, String title) {
      this.kind = kind;
      lines.add(title);
    }

    int w() {
      return Math.max(lines.get(0).length() * 8, lines.stream().mapToInt(String::length).max().orElse(0) * 7) + 20; // the title is bold
    }

    int h() {
      return lines.size() * LINE + 10;
    }
  }

  /** The host's section and devices (in scenario order). */
  private final Pcie pcie;
  private final List<Device> hostDevices;
  private final Map<String, Device> devices = new HashMap<>();
  private final PcieLoad load;
  private final List<Box> all = new ArrayList<>();
  private final Map<Integer, Integer> rowHeights = new HashMap<>();
  private final StringBuilder out = new StringBuilder();

  private TopologyDrawing(Scenario scenario, String host, PcieLoad load) {
    this.pcie = Hosts.pcie(scenario, host);
    this.hostDevices = scenario.getDevicesList().stream().filter(d -> Hosts.ofNode(scenario, d.getNode()).equals(host)).toList();
    this.load = load;
    hostDevices.forEach(d -> devices.put(d.getName(), d));
  }

  /** The default host's drawing (the only one of a scenario without {@code hosts}). */
  static String svg(Scenario scenario, List<TraceEvent> events) {
    return svg(scenario, Hosts.DEFAULT, events);
  }

  /**
   * The drawing of {@code host}, with the transfers recorded on its members; "" when they made no PCIe transfer and the
   * host has no {@code pcie} section, or nothing is placed.
   */
  static String svg(Scenario scenario, String host, List<TraceEvent> events) {
    PcieLoad load = new PcieLoad(events.stream().filter(e -> Hosts.ofNode(scenario, e.getNode()).equals(host)).toList());
    if (load.transfers().isEmpty() && Hosts.pcie(scenario, host).equals(Pcie.getDefaultInstance())) {
      return "";
    }
    TopologyDrawing d = new TopologyDrawing(scenario, host, load);
    Box root = d.tree();
    return root.children.isEmpty() ? "" : d.draw(root);
  }

  /** Every host's drawing that is not empty, by host ({@code ""}: the default host), in the order of the scenario. */
  static Map<String, String> svgs(Scenario scenario, List<TraceEvent> events) {
    Map<String, String> out = new LinkedHashMap<>();
    List<String> hosts = new ArrayList<>();
    hosts.add(Hosts.DEFAULT);
    scenario.getHostsList().forEach(h -> hosts.add(h.getName()));
    for (String h : hosts) {
      String svg = svg(scenario, h, events);
      if (!svg.isEmpty()) {
        out.put(h, svg);
      }
    }
    return out;
  }

  /** DRAM over the host bridges, in the order the scenario lists them, the default bridge of unplaced devices last. */
  private Box tree() {
    Pcie pc = pcie;
    Box dram = new Box("dram", "host memory (DRAM)");
    traffic(dram, "dram", "traffic ");
    Map<String, Box> bridges = new LinkedHashMap<>();
    pc.getHostBridgesList().forEach(h -> bridges.put(h.getName(), bridge(h.getName(), h.getVendor(), h.getDevice())));
    Map<String, Box> ports = new HashMap<>();
    pc.getPortsList().forEach(p -> ports.put(p.getName(), port(p)));
    for (PciPort p : pc.getPortsList()) {
      Box parent = (p.getKind().equals("root_port") ? bridges : ports).get(p.getParent());
      if (parent != null) {
        parent.children.add(ports.get(p.getName()));
      }
    }
    Map<String, List<PciEndpoint>> slots = new LinkedHashMap<>();
    pc.getEndpointsList().forEach(e -> slots.computeIfAbsent(e.getSlot().isEmpty() ? e.getName() : e.getSlot(), k -> new ArrayList<>()).add(e));
    slots.forEach((slot, functions) -> {
      Box port = ports.get(functions.get(0).getPort());
      if (port != null) {
        port.children.add(endpoint(slot, functions));
      }
    });
    unplaced(bridges);
    dram.children.addAll(bridges.values());
    return dram;
  }

  /** Each scenario device the section does not place: behind a root port of its own on the default host bridge, as the fabric puts it. */
  private void unplaced(Map<String, Box> bridges) {
    for (Device d : hostDevices) {
      if (pcie.getEndpointsList().stream().noneMatch(e -> e.getName().equals(d.getName()))) {
        Box rootPort = new Box("root_port", "rp-" + d.getName());
        rootPort.lines.add("root port");
        rootPort.children.add(endpoint(d.getName(), List.of(PciEndpoint.newBuilder().setName(d.getName()).build())));
        bridges.computeIfAbsent(DEFAULT_BRIDGE, k -> bridge(k, 0x8086, 0x2030)).children.add(rootPort);
      }
    }
  }

  private Box bridge(String name, int vendor, int device) {
    Box b = new Box("host_bridge", name);
    b.lines.add(String.format(Locale.ROOT, "host bridge %04x:%04x", vendor, device));
    traffic(b, "rc:" + name, "P2P via root complex ");
    return b;
  }

  private static Box port(PciPort p) {
    Box b = new Box(p.getKind(), p.getName());
    b.lines.add(p.getKind().replace('_', ' '));
    b.acs = p.getAcsRedirect();
    if (p.getKind().equals("switch_upstream")) {
      link(b, p.getName(), p.getGen(), p.getWidth());
    }
    return b;
  }

  /** A device's slot: its functions (each with its kind and member when it is a scenario device) and their memory's traffic. */
  private Box endpoint(String slot, List<PciEndpoint> functions) {
    boolean multi = functions.size() > 1;
    Box b = new Box("endpoint", multi ? slot : functions.get(0).getName());
    for (PciEndpoint f : functions) {
      Device d = devices.get(f.getName());
      String about = Stream.of(multi ? "fn" + f.getFunction() + " " + f.getName() : "", d == null ? "" : d.getKind() + " on " + d.getNode(),
          f.getP2Pmem() ? "p2pmem" : "", f.getBus().equals("platform") ? "platform" : "").filter(t -> !t.isEmpty()).collect(Collectors.joining(" · "));
      if (!about.isEmpty()) {
        b.lines.add(about);
      }
      traffic(b, "vram:" + f.getName(), multi ? "vram " + f.getName() + " " : "vram ");
    }
    link(b, slot, functions.get(0).getGen(), functions.get(0).getWidth());
    return b;
  }

  private static void link(Box b, String id, int gen, int width) {
    b.link = "link:" + id;
    b.linkLabel = "gen" + (gen == 0 ? 4 : gen) + " x" + (width == 0 ? 16 : width);
  }

  /** A line with the bytes through {@code resource}, and the box marked hot, when any went through it. */
  private void traffic(Box b, String resource, String prefix) {
    long bytes = load.through(resource);
    if (bytes > 0) {
      b.lines.add(prefix + bytes(bytes));
      b.hot = true;
    }
  }

  private List<String> linkLines(Box b) {
    return b.link == null ? List.of() : load.through(b.link) == 0 ? List.of(b.linkLabel)
        : List.of(b.linkLabel, "↑ " + bytes(load.up(b.link)) + " ↓ " + bytes(load.down(b.link)));
  }

  private int linkWidth(Box b) {
    return linkLines(b).stream().mapToInt(String::length).max().orElse(0) * 7 + 10;
  }

  /** Each subtree's width: its box (and the label of its link) or its children side by side, whichever is wider. */
  private int span(Box b) {
    int children = b.children.stream().mapToInt(this::span).sum();
    b.span = Math.max(Math.max(b.w(), linkWidth(b)) + GAP, children);
    return b.span;
  }

  /** Children side by side under their parent, centred; a parent centred over its first and last child. */
  private void place(Box b, int left, int depth) {
    all.add(b);
    b.depth = depth;
    rowHeights.merge(depth, b.h(), Math::max);
    int at = left + (b.span - b.children.stream().mapToInt(c -> c.span).sum()) / 2;
    for (Box c : b.children) {
      place(c, at, depth + 1);
      at += c.span;
    }
    b.x = b.children.isEmpty() ? left + b.span / 2 : (b.children.get(0).x + b.children.get(b.children.size() - 1).x) / 2;
  }

  private String draw(Box root) {
    span(root);
    place(root, MARGIN, 0);
    int[] top = new int[rowHeights.size() + 1];
    top[0] = MARGIN;
    for (int d = 0; d < rowHeights.size(); d++) {
      top[d + 1] = top[d] + rowHeights.get(d) + BAND;
    }
    all.forEach(b -> b.y = top[b.depth]);
    int width = Math.max(root.span + 2 * MARGIN, 680);
    int height = top[rowHeights.size()] - BAND + LEGEND;
    out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(height)
        .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
        .append("\" font-family=\"sans-serif\" font-size=\"12\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    all.stream().filter(b -> b.kind.equals("switch_upstream")).forEach(this::frame);
    long heaviest = all.stream().mapToLong(b -> b.link == null ? 0 : load.through(b.link)).max().orElse(0);
    for (boolean hot : new boolean[] {false, true}) {
      all.forEach(p -> p.children.stream().filter(c -> (c.link != null && load.through(c.link) > 0) == hot).forEach(c -> edge(p, c, heaviest)));
    }
    all.stream().filter(b -> b.link != null).forEach(this::linkLabel);
    all.forEach(this::box);
    legend(load.transfers(), height - LEGEND + 18);
    return out.append("</svg>").toString();
  }

  /** A switch: its upstream port and its downstream ports in one frame. */
  private void frame(Box up) {
    List<Box> ports = new ArrayList<>(up.children.stream().filter(c -> c.kind.equals("switch_downstream")).toList());
    ports.add(up);
    int left = ports.stream().mapToInt(b -> b.x - b.w() / 2).min().orElseThrow() - 8;
    int right = ports.stream().mapToInt(b -> b.x + b.w() / 2).max().orElseThrow() + 8;
    int bottom = ports.stream().mapToInt(b -> b.y + b.h()).max().orElseThrow() + 8;
    out.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\" fill=\"#f3f5f9\" stroke=\"#9aa6b8\"/>",
        left, up.y - 8, right - left, bottom - up.y + 8));
  }

  /** An elbow from the parent's bottom to the child's top: dashed inside a switch or root complex, thick and orange under load. */
  private void edge(Box parent, Box child, long heaviest) {
    int turn = parent.y + parent.h() + 12;
    long bytes = child.link == null ? 0 : load.through(child.link);
    String style = child.link == null ? "stroke=\"#999\" stroke-width=\"1\" stroke-dasharray=\"4 3\""
        : bytes == 0 ? "stroke=\"#445\" stroke-width=\"1.5\""
        : String.format(Locale.ROOT, "stroke=\"%s\" stroke-width=\"%.1f\"", HOT, 2.5 + 4.5 * bytes / heaviest);
    out.append(String.format(Locale.ROOT, "<path d=\"M%d %d V%d H%d V%d\" fill=\"none\" %s/>", parent.x, parent.y + parent.h(), turn,
        child.x, child.y, style));
  }

  /** The link's generation and width, and the bytes it carried each way, on its vertical run above the child. */
  private void linkLabel(Box b) {
    List<String> lines = linkLines(b);
    int w = linkWidth(b);
    int h = lines.size() * 13 + 4;
    int y = b.y - 26 - h / 2;
    out.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" fill-opacity=\"0.9\"/>",
        b.x - w / 2, y, w, h));
    for (int i = 0; i < lines.size(); i++) {
      text(b.x, y + 13 + i * 13, lines.get(i), MIDDLE + "font-size=\"11\" fill=\"" + (i == 0 ? "#333" : "#a4460f") + "\"");
    }
  }

  private void box(Box b) {
    String fill = b.hot ? "#ffe4c8" : FILLS.getOrDefault(b.kind, "#ffffff");
    int left = b.x - b.w() / 2;
    out.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"5\" fill=\"%s\" stroke=\"#556\"/>",
        left, b.y, b.w(), b.h(), fill));
    for (int i = 0; i < b.lines.size(); i++) {
      text(b.x, b.y + 17 + i * LINE, b.lines.get(i), MIDDLE + (i == 0 ? "font-weight=\"bold\"" : "fill=\"#333\""));
    }
    if (b.acs) {
      int x = left + b.w() - 26;
      out.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"32\" height=\"14\" rx=\"3\" fill=\"#c33\"/>", x, b.y - 7));
      text(x + 16, b.y + 4, "ACS", MIDDLE + "font-size=\"10\" fill=\"white\"");
    }
  }

  private void legend(List<TraceEvent> transfers, int y) {
    long moved = transfers.stream().mapToLong(TraceEvent::getBytes).sum();
    text(MARGIN, y, transfers.isEmpty() ? "No pcie transfer in this run."
        : transfers.size() + " pcie transfer" + (transfers.size() == 1 ? "" : "s") + ", " + bytes(moved) + " moved.", START);
    text(MARGIN, y + 15, "Thick orange: a link that carried transfers (↑ towards the root complex, ↓ away from it).", START);
    text(MARGIN, y + 30, "Dashed: a hop inside a switch or a root complex. ACS: the port redirects peer-to-peer requests upstream.", START);
  }

  private void text(int x, int y, String s, String attributes) {
    out.append("<text x=\"").append(x).append("\" y=\"").append(y).append("\" ").append(attributes).append('>')
        .append(esc(s)).append("</text>");
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&apos;");
  }

  /** Bytes in binary units: "0", "512 B", "64 MiB", "1.5 GiB". */
  private static String bytes(long n) {
    int unit = (63 - Long.numberOfLeadingZeros(Math.max(1, n))) / 10;
    String number = String.format(Locale.ROOT, "%.1f", n / Math.pow(1024, unit)).replace(".0", "");
    return n == 0 ? "0" : number + " " + List.of("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB").get(unit);
  }
}
