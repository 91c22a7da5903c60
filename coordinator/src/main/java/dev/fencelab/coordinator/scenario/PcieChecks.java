package dev.fencelab.coordinator.scenario;

/**
 * The checks of a scenario's {@code pcie} section (kernel-semantics §1.13): unique names, parents of the right kind (a
 * root port on a host bridge, a switch's upstream port under a root port or a downstream port, a downstream port under
 * an upstream port), no cycle, endpoints at a root or downstream port, known kinds and buses; then the PCI functions the
 * p2p steps may name. Reports through its {@link ScenarioValidator}.
 */
final class PcieChecks {
  private final ScenarioValidator v;
  private final dev.fencelab.protocol.scenario.v1.Pcie pc;
  private final String at;
  /** Bridge and port names of every host's section (one drawing, one trace: names are unique across hosts). */
  private final java.util.Set<String> names;

  /** The checks of {@code pcie} at {@code path} ({@code pcie}, or {@code hosts[i].pcie}). */
  PcieChecks(ScenarioValidator v, dev.fencelab.protocol.scenario.v1.Pcie pcie, String path, java.util.Set<String> names) {
    this.v = v;
    this.pc = pcie;
    this.at = path;
    this.names = names;
  }

  /**
   * The section: unique names, known parents of the right kinds, known kinds and buses, no cycle; then its functions and
   * {@code devices} (the host's) join the PCI functions the p2p steps may name.
   */
  void check(java.util.Collection<String> devices) {
    if (!pc.getCpuVendor().isEmpty() && !pc.getCpuVendor().matches("intel|amd")) {
      v.problem(at + ".cpu_vendor", "cpu_vendor must be intel or amd, not '" + pc.getCpuVendor() + "'");
    }
    java.util.Set<String> bridges = new java.util.HashSet<>();
    java.util.Map<String, String> ports = new java.util.HashMap<>();
    for (int i = 0; i < pc.getHostBridgesCount(); i++) {
      if (!bridges.add(pc.getHostBridges(i).getName()) || !names.add(pc.getHostBridges(i).getName())) {
        v.problem(at + ".host_bridges[" + i + "].name", "host bridge name '" + pc.getHostBridges(i).getName() + "' is used twice");
      }
    }
    for (int i = 0; i < pc.getPortsCount(); i++) {
      var p = pc.getPorts(i);
      if (!p.getKind().matches("root_port|switch_upstream|switch_downstream")) {
        v.problem(at + ".ports[" + i + "].kind", "kind must be root_port, switch_upstream or switch_downstream, not '" + p.getKind() + "'");
      }
      if (ports.put(p.getName(), p.getKind()) != null || bridges.contains(p.getName()) || !names.add(p.getName())) {
        v.problem(at + ".ports[" + i + "].name", "PCI name '" + p.getName() + "' is used twice");
      }
    }
    for (int i = 0; i < pc.getPortsCount(); i++) {
      var p = pc.getPorts(i);
      String parentKind = ports.get(p.getParent());
      boolean ok = switch (p.getKind()) {
        case "root_port" -> bridges.contains(p.getParent());
        case "switch_upstream" -> parentKind != null && !parentKind.equals("switch_upstream");
        case "switch_downstream" -> "switch_upstream".equals(parentKind);
        default -> true;
      };
      if (!ok) {
        v.problem(at + ".ports[" + i + "].parent", "a " + p.getKind() + "'s parent is " + switch (p.getKind()) {
          case "root_port" -> "a host bridge";
          case "switch_upstream" -> "a root port or a switch's downstream port";
          default -> "a switch's upstream port";
        } + ", not '" + p.getParent() + "'");
      }
    }
    for (int i = 0; i < pc.getEndpointsCount(); i++) {
      var e = pc.getEndpoints(i);
      if (!ports.containsKey(e.getPort()) || "switch_upstream".equals(ports.get(e.getPort()))) {
        v.problem(at + ".endpoints[" + i + "].port", "endpoint '" + e.getName() + "' sits at a root port or a switch's downstream port, not '"
            + e.getPort() + "'");
      }
      if (!e.getBus().isEmpty() && !e.getBus().matches("pci|platform")) {
        v.problem(at + ".endpoints[" + i + "].bus", "bus must be pci or platform, not '" + e.getBus() + "'");
      }
      if (!v.pciFunctions.add(e.getName())) {
        v.problem(at + ".endpoints[" + i + "].name", "PCI function '" + e.getName() + "' is placed twice");
      }
    }
    links();
    java.util.Map<String, String> parents = new java.util.HashMap<>();
    pc.getPortsList().forEach(p -> parents.put(p.getName(), p.getParent()));
    for (String start : parents.keySet()) {
      java.util.List<String> chain = new java.util.ArrayList<>();
      for (String at = start; parents.containsKey(at); at = parents.get(at)) {
        if (chain.contains(at)) {
          v.problem(at + ".ports", "PCI ports form a cycle: " + String.join(" -> ", chain) + " -> " + at);
          return;
        }
        chain.add(at);
      }
    }
    v.pciFunctions.addAll(devices);
  }

  /** The transfer model's figures: link generations and widths, rates, the per-link latency. */
  private void links() {
    for (int i = 0; i < pc.getPortsCount(); i++) {
      link(at + ".ports[" + i + "]", pc.getPorts(i).getGen(), pc.getPorts(i).getWidth());
    }
    for (int i = 0; i < pc.getEndpointsCount(); i++) {
      link(at + ".endpoints[" + i + "]", pc.getEndpoints(i).getGen(), pc.getEndpoints(i).getWidth());
      v.size(at + ".endpoints[" + i + "].bar", pc.getEndpoints(i).getBar(), true);
    }
    for (int i = 0; i < pc.getHostBridgesCount(); i++) {
      rate(at + ".host_bridges[" + i + "].p2p_bandwidth", pc.getHostBridges(i).getP2PBandwidth());
    }
    rate(at + ".dram_bandwidth", pc.getDramBandwidth());
    rate(at + ".vram_bandwidth", pc.getVramBandwidth());
    v.duration(at + ".link_latency", pc.getLinkLatency(), true);
  }

  private void link(String path, int gen, int width) {
    if (gen > 6) {
      v.problem(path + ".gen", "a PCIe generation is 1..6, not " + gen);
    }
    if (width != 0 && !java.util.Set.of(1, 2, 4, 8, 12, 16, 32).contains(width)) {
      v.problem(path + ".width", "a PCIe link is x1, x2, x4, x8, x12, x16 or x32, not x" + width);
    }
  }

  private void rate(String path, String value) {
    if (!value.isEmpty() && dev.fencelab.protocol.scenario.Units.rate(value) <= 0) {
      v.problem(path, "'" + value + "' is not a rate (e.g. 32GB/s, 100Gbit)");
    }
  }
}
