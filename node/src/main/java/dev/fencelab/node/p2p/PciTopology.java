package dev.fencelab.node.p2p;

import dev.fencelab.protocol.scenario.v1.Pcie;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PCIe fabric of one emulated host: host bridges (vendor and device id of their root), root ports, switch ports
 * (each with its ACS redirect bit) and endpoint functions, as the scenario's {@code pcie} section describes them. A
 * device the section does not place gets the default: an endpoint behind a root port of its own on a whitelisted host
 * bridge (Intel 0x2030), so scenarios without a topology keep working. Pure, immutable.
 */
public final class PciTopology {
  /** A PCI device or bridge in the fabric: what {@code pci_upstream_bridge} walks. */
  public record Node(String name, Node upstream, boolean acsRedirect, HostBridge host, boolean bridge) {}

  public record HostBridge(String name, int vendor, int device) {}

  /** An endpoint function; {@code pci} false for a platform device. */
  public record Endpoint(String name, Node node, boolean p2pmem, boolean pci) {}

  static final HostBridge DEFAULT_BRIDGE = new HostBridge("default-host-bridge", 0x8086, 0x2030);

  private final boolean amdZen;
  private final Map<String, Endpoint> endpoints;

  private PciTopology(boolean amdZen, Map<String, Endpoint> endpoints) {
    this.amdZen = amdZen;
    this.endpoints = endpoints;
  }

  /** {@code cpu_supports_p2pdma}: an AMD CPU of family 0x17 (Zen) or later. */
  public boolean amdZen() {
    return amdZen;
  }

  public Endpoint endpoint(String name) {
    return endpoints.get(name);
  }

  /** Every endpoint, in the order the scenario lists them (the defaults after). */
  public List<Endpoint> endpoints() {
    return List.copyOf(endpoints.values());
  }

  /**
   * The fabric of {@code pcie} with every one of {@code devices} it does not place behind a root port of its own on the
   * default whitelisted host bridge. Throws IllegalArgumentException for a reference to an unknown bridge or port, or a cycle.
   */
  public static PciTopology of(Pcie pcie, List<String> devices) {
    Map<String, HostBridge> bridges = new HashMap<>();
    pcie.getHostBridgesList().forEach(h -> bridges.put(h.getName(), new HostBridge(h.getName(), h.getVendor(), h.getDevice())));
    Map<String, dev.fencelab.protocol.scenario.v1.PciPort> ports = new HashMap<>();
    pcie.getPortsList().forEach(p -> ports.put(p.getName(), p));
    Map<String, Node> built = new HashMap<>();
    Map<String, Node> slots = new HashMap<>();
    Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    for (var e : pcie.getEndpointsList()) {
      Node port = port(e.getPort(), ports, bridges, built, new ArrayList<>());
      // Functions of one device (one slot) share the same bus: each is its own pci_dev under the same bridge.
      String slot = e.getSlot().isEmpty() ? e.getName() : e.getSlot();
      slots.putIfAbsent(slot, port);
      Node fn = new Node(e.getName(), slots.get(slot), false, port.host(), false);
      endpoints.put(e.getName(), new Endpoint(e.getName(), fn, e.getP2Pmem(), !e.getBus().equals("platform")));
    }
    for (String d : devices) {
      if (!endpoints.containsKey(d)) {
        Node rootPort = new Node("rp-" + d, null, false, DEFAULT_BRIDGE, true);
        endpoints.put(d, new Endpoint(d, new Node(d, rootPort, false, DEFAULT_BRIDGE, false), false, true));
      }
    }
    boolean amd = pcie.getCpuVendor().equalsIgnoreCase("amd");
    return new PciTopology(amd && pcie.getCpuFamily() >= 0x17, endpoints);
  }

  private static Node port(String name, Map<String, dev.fencelab.protocol.scenario.v1.PciPort> ports, Map<String, HostBridge> bridges,
      Map<String, Node> built, List<String> path) {
    Node done = built.get(name);
    if (done != null) {
      return done;
    }
    var p = ports.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no PCI port named '" + name + "'");
    }
    if (path.contains(name)) {
      throw new IllegalArgumentException("PCI ports form a cycle: " + path + " -> " + name);
    }
    path.add(name);
    Node node;
    if (p.getKind().equals("root_port")) {
      HostBridge host = bridges.get(p.getParent());
      if (host == null) {
        throw new IllegalArgumentException("root port '" + name + "' names no host bridge ('" + p.getParent() + "')");
      }
      node = new Node(name, null, p.getAcsRedirect(), host, true);
    } else {
      Node parent = port(p.getParent(), ports, bridges, built, path);
      node = new Node(name, parent, p.getAcsRedirect(), parent.host(), true);
    }
    built.put(name, node);
    return node;
  }
}
