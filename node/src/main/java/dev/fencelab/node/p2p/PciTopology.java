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
  /**
   * A PCI device or bridge in the fabric: what {@code pci_upstream_bridge} walks. {@code link}: the physical link to its
   * upstream (a device's link to its port, shared by its functions; a switch's upstream link), with its rate in bytes per
   * nanosecond; null where the hop is inside a switch or the root complex.
   */
  public record Node(String name, Node upstream, boolean acsRedirect, HostBridge host, boolean bridge, String link, double linkRate) {
    Node(String name, Node upstream, boolean acsRedirect, HostBridge host, boolean bridge) {
      this(name, upstream, acsRedirect, host, bridge, null, 0);
    }
  }

  /** A host bridge; {@code p2pRate}: what its root complex forwards peer to peer, bytes per nanosecond. */
  public record HostBridge(String name, int vendor, int device, double p2pRate) {
    public HostBridge(String name, int vendor, int device) {
      this(name, vendor, device, DEFAULT_RC_RATE);
    }
  }

  /** PCIe 4.0 x16, ~32 GB/s (kernel-semantics §4): every link's default, and the root complex's (an assumption). */
  public static final double DEFAULT_RC_RATE = 32.0;

  /**
   * The usable rate of a link of PCIe generation {@code gen} (1..6) and {@code width} lanes, bytes per nanosecond: 0.25, 0.5,
   * 1, 2, 4, 8 GB/s per lane, so that 4.0 x16 is the 32 GB/s of §4. 0 means the default (4, 16).
   */
  public static double linkRate(int gen, int width) {
    int g = gen == 0 ? 4 : gen;
    int w = width == 0 ? 16 : width;
    if (g < 1 || g > 6 || w < 1 || w > 32) {
      throw new IllegalArgumentException("a PCIe link is gen 1..6 and x1..x32, not gen " + gen + " x" + width);
    }
    return 0.25 * (1 << (g - 1)) * w;
  }

  /** An endpoint function; {@code pci} false for a platform device; {@code bar}: bytes its BAR exposes (0: all). */
  public record Endpoint(String name, Node node, boolean p2pmem, boolean pci, long bar) {
    public Endpoint(String name, Node node, boolean p2pmem, boolean pci) {
      this(name, node, p2pmem, pci, 0);
    }
  }

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
    for (var h : pcie.getHostBridgesList()) {
      double rc = h.getP2PBandwidth().isEmpty() ? DEFAULT_RC_RATE : dev.fencelab.protocol.scenario.Units.rate(h.getP2PBandwidth());
      if (rc <= 0) {
        throw new IllegalArgumentException("host bridge '" + h.getName() + "': p2p_bandwidth '" + h.getP2PBandwidth() + "' is not a rate");
      }
      bridges.put(h.getName(), new HostBridge(h.getName(), h.getVendor(), h.getDevice(), rc));
    }
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
      Node fn = new Node(e.getName(), slots.get(slot), false, port.host(), false, "link:" + slot, linkRate(e.getGen(), e.getWidth()));
      long bar = e.getBar().isEmpty() ? 0 : dev.fencelab.protocol.scenario.Units.bytes(e.getBar());
      if (bar < 0) {
        throw new IllegalArgumentException("endpoint '" + e.getName() + "': bar '" + e.getBar() + "' is not a size");
      }
      endpoints.put(e.getName(), new Endpoint(e.getName(), fn, e.getP2Pmem(), !e.getBus().equals("platform"), bar));
    }
    for (String d : devices) {
      if (!endpoints.containsKey(d)) {
        Node rootPort = new Node("rp-" + d, null, false, DEFAULT_BRIDGE, true);
        endpoints.put(d, new Endpoint(d, new Node(d, rootPort, false, DEFAULT_BRIDGE, false, "link:" + d, DEFAULT_RC_RATE), false, true));
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
      boolean upstreamLink = p.getKind().equals("switch_upstream"); // a downstream port's hop to its upstream port is inside the switch
      node = new Node(name, parent, p.getAcsRedirect(), parent.host(), true, upstreamLink ? "link:" + name : null,
          upstreamLink ? linkRate(p.getGen(), p.getWidth()) : 0);
    }
    built.put(name, node);
    return node;
  }
}
