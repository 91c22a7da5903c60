package dev.fencelab.node.p2p;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Pcie;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The path a DMA transfer takes through one host's PCIe fabric, and the resources it crosses (kernel-semantics §1.13
 * for the path, §4 for the figures). A device's engine reads from where the source is and writes to where the
 * destination is; each of those legs is one of:
 * <ul>
 *   <li>{@code local}: the engine's own device memory ({@code vram:<device>});
 *   <li>{@code bus_addr}: another device's memory through its BAR, routed by the switch under the two devices' common
 *       upstream bridge (p2pdma {@code BUS_ADDR}): up the provider's links to the common bridge, down the client's;
 *   <li>{@code thru_host_bridge}: the same through the root complex ({@code rc:<host bridge>}), up to the root and down;
 *   <li>{@code host_memory}: host DRAM ({@code dram}) down the engine's chain;
 *   <li>{@code bounce}: the pair cannot do P2P (p2pdma {@code NOT_SUPPORTED}): the provider's memory goes up to host
 *       DRAM and back down to the engine: PCIe twice, DRAM twice.
 * </ul>
 * Links are directional ({@code link:<slot>/up} and {@code /down}: PCIe is full duplex); DRAM, a root complex and a
 * device's memory are shared by both directions. Pure and immutable.
 */
public final class PcieRoutes {
  /**
   * Where memory is: a device's own memory, or host memory ({@code device} null). {@code bounce}: the engine may not use
   * that device's BAR (its attachment is not peer2peer), so the data goes through host memory.
   */
  public record Location(String device, boolean bounce) {
    public static final Location HOST = new Location(null, false);

    public Location(String device) {
      this(device, false);
    }

    public boolean host() {
      return device == null;
    }
  }

  /**
   * A transfer's route: its kind (the most remote leg), how many times it crosses each resource, its latency and how it
   * reads ("gpuB ← link:gpuB ← sw-up …").
   */
  public record Route(String kind, Map<String, Integer> crossings, long latencyNanos, String path) {
    public Route {
      crossings = Map.copyOf(crossings);
    }
  }

  /** Leg kinds, from nearest to most remote: a route's kind is its most remote leg's. */
  static final List<String> KINDS = List.of("local", "bus_addr", "host_memory", "thru_host_bridge", "bounce");

  private final PciTopology topology;
  private final P2pDma dma;
  private final double dramRate;
  private final double vramRate;
  private final long linkLatency;

  public PcieRoutes(P2pDma dma, Pcie pcie) {
    this.dma = dma;
    this.topology = dma.topology();
    this.dramRate = rate(pcie.getDramBandwidth(), 100.0, "dram_bandwidth");
    this.vramRate = rate(pcie.getVramBandwidth(), 1000.0, "vram_bandwidth");
    this.linkLatency = pcie.getLinkLatency().isEmpty() ? 100 : Units.nanos(pcie.getLinkLatency());
  }

  private static double rate(String text, double fallback, String what) {
    if (text.isEmpty()) {
      return fallback;
    }
    double r = Units.rate(text);
    if (r <= 0) {
      throw new IllegalArgumentException("pcie." + what + " '" + text + "' is not a rate");
    }
    return r;
  }

  public P2pDma dma() {
    return dma;
  }

  /** A resource's capacity in bytes per nanosecond. */
  public double capacity(String resource) {
    if (resource.equals("dram")) {
      return dramRate;
    }
    if (resource.startsWith("vram:")) {
      return vramRate;
    }
    if (resource.startsWith("rc:")) {
      for (PciTopology.Endpoint e : topology.endpoints()) {
        for (PciTopology.Node n = e.node(); n != null; n = n.upstream()) {
          if (n.upstream() == null && resource.equals("rc:" + n.host().name())) {
            return n.host().p2pRate();
          }
        }
      }
      return PciTopology.DEFAULT_RC_RATE;
    }
    String link = resource.substring(0, resource.lastIndexOf('/'));
    for (PciTopology.Endpoint e : topology.endpoints()) {
      for (PciTopology.Node n = e.node(); n != null; n = n.upstream()) {
        if (link.equals(n.link())) {
          return n.linkRate();
        }
      }
    }
    throw new IllegalArgumentException("no PCIe resource " + resource);
  }

  /** The route of a transfer by {@code engine}'s DMA from {@code src} to {@code dst}. */
  public Route route(Location src, String engine, Location dst) {
    Leg read = leg(src, engine, true);
    Leg write = leg(dst, engine, false);
    Map<String, Integer> crossings = new LinkedHashMap<>(read.crossings);
    write.crossings.forEach((k, v) -> crossings.merge(k, v, Integer::sum));
    String kind = KINDS.get(Math.max(KINDS.indexOf(read.kind), KINDS.indexOf(write.kind)));
    return new Route(kind, crossings, Math.max(read.latency, write.latency), read.path + " => " + write.path);
  }

  /**
   * One leg: between memory at {@code at} and {@code engine} ({@code toEngine}: data flows from the memory to the engine)
   * — a NIC's DMA of a GPU's BAR for the wire (GPUDirect), or of host memory.
   */
  public Route reach(Location at, String engine, boolean toEngine) {
    Leg leg = leg(at, engine, toEngine);
    return new Route(leg.kind, leg.crossings, leg.latency, leg.path);
  }

  /** The time a transfer of {@code bytes} takes alone on its route, in nanoseconds. */
  public long aloneNanos(Route route, long bytes) {
    return route.latencyNanos() + serialNanos(route, bytes);
  }

  /** The time its slowest resource takes to carry {@code bytes} (a chunk of a pipelined transfer: no latency). */
  public long serialNanos(Route route, long bytes) {
    double slowest = Double.MAX_VALUE;
    for (var e : route.crossings().entrySet()) {
      slowest = Math.min(slowest, capacity(e.getKey()) / e.getValue());
    }
    return (long) Math.ceil(bytes / slowest);
  }

  private record Leg(String kind, Map<String, Integer> crossings, long latency, String path) {}

  /** One leg between memory at {@code at} and {@code engine}; {@code toEngine}: data flows from the memory to the engine. */
  private Leg leg(Location at, String engine, boolean toEngine) {
    Map<String, Integer> c = new LinkedHashMap<>();
    PciTopology.Node eng = node(engine);
    if (at.host()) {
      c.put("dram", 1);
      int links = chain(eng, null, c, !toEngine);
      return new Leg("host_memory", c, (links + 1) * linkLatency, "dram " + arrow(toEngine) + " " + engine);
    }
    c.put("vram:" + at.device(), 1);
    if (at.device().equals(engine)) {
      return new Leg("local", c, 0, "vram:" + engine);
    }
    PciTopology.Node mem = node(at.device());
    P2pDma.Path p = dma.path(at.device(), engine); // the memory's device is the provider, the engine the client
    String via = at.device() + " " + arrow(toEngine) + " " + engine;
    return switch (at.bounce() ? P2pDma.MapType.NOT_SUPPORTED : p.map()) {
      case BUS_ADDR -> {
        PciTopology.Node common = common(mem, eng);
        Map<String, Integer> up = new LinkedHashMap<>();
        Map<String, Integer> down = new LinkedHashMap<>();
        int links = chain(mem, common, up, toEngine) + chain(eng, common, down, !toEngine);
        // two functions of one device share its link: their traffic never crosses it
        up.keySet().removeIf(k -> down.remove(k.substring(0, k.lastIndexOf('/')) + (toEngine ? "/down" : "/up")) != null);
        c.putAll(up);
        c.putAll(down);
        yield new Leg("bus_addr", c, links * linkLatency, via + " (switch " + common.name() + ")");
      }
      case THRU_HOST_BRIDGE -> {
        int links = chain(mem, null, c, toEngine) + chain(eng, null, c, !toEngine);
        c.merge("rc:" + root(mem).host().name(), 1, Integer::sum);
        if (root(eng).host() != root(mem).host()) {
          c.merge("rc:" + root(eng).host().name(), 1, Integer::sum);
        }
        yield new Leg("thru_host_bridge", c, (links + 1) * linkLatency, via + " (root complex)");
      }
      case NOT_SUPPORTED -> {
        int links = chain(mem, null, c, toEngine) + chain(eng, null, c, !toEngine);
        c.put("dram", 2);
        yield new Leg("bounce", c, (links + 2) * linkLatency, via + " (bounce through host memory)");
      }
    };
  }

  private static String arrow(boolean toEngine) {
    return toEngine ? "->" : "<-";
  }

  private PciTopology.Node node(String device) {
    PciTopology.Endpoint e = topology.endpoint(device);
    if (e == null) {
      throw new IllegalArgumentException("no PCI function named '" + device + "' in the fabric");
    }
    return e.node();
  }

  /** Adds the physical links from {@code from} up to {@code stop} (exclusive; null: the root) in one direction; returns how many. */
  private static int chain(PciTopology.Node from, PciTopology.Node stop, Map<String, Integer> out, boolean upward) {
    int n = 0;
    for (PciTopology.Node at = from; at != null && at != stop; at = at.upstream()) {
      if (at.link() != null) {
        out.merge(at.link() + (upward ? "/up" : "/down"), 1, Integer::sum);
        n++;
      }
    }
    return n;
  }

  private static PciTopology.Node common(PciTopology.Node a, PciTopology.Node b) {
    List<PciTopology.Node> chainB = new ArrayList<>();
    for (PciTopology.Node x = b; x != null; x = x.upstream()) {
      chainB.add(x);
    }
    for (PciTopology.Node x = a; x != null; x = x.upstream()) {
      if (chainB.contains(x)) {
        return x;
      }
    }
    throw new IllegalStateException("BUS_ADDR without a common upstream bridge");
  }

  private static PciTopology.Node root(PciTopology.Node n) {
    PciTopology.Node at = n;
    while (at.upstream() != null) {
      at = at.upstream();
    }
    return at;
  }
}
