package dev.fencelab.node.p2p;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The p2pdma distance rules of drivers/pci/p2pdma.c over one {@link PciTopology} (kernel-semantics §1.13), cached per
 * (provider, client) as the kernel's xarray caches them.
 */
public final class P2pDma {
  public enum MapType { BUS_ADDR, THRU_HOST_BRIDGE, NOT_SUPPORTED }

  /** One pair's result: the map type, the distance, and the bridges whose ACS redirect forced the host-bridge path. */
  public record Path(MapType map, int distance, List<String> acsRedirects) {
    public Path {
      acsRedirects = List.copyOf(acsRedirects);
    }
  }

  /** A {@code find_many} answer: the provider (null: none) and its distance sum. */
  public record Found(String provider, int distance) {}

  /** {@code host_bridge_whitelist}: Intel root ids; the first four need both devices under the same host bridge. */
  private record Entry(int vendor, int device, boolean sameHostBridge) {}

  private static final List<Entry> WHITELIST = List.of(
      new Entry(0x8086, 0x3c00, true), new Entry(0x8086, 0x3c01, true), new Entry(0x8086, 0x2f00, true), new Entry(0x8086, 0x2f01, true),
      new Entry(0x8086, 0x2030, false), new Entry(0x8086, 0x2031, false), new Entry(0x8086, 0x2032, false), new Entry(0x8086, 0x2033, false),
      new Entry(0x8086, 0x2020, false), new Entry(0x8086, 0x09a2, false));

  private final PciTopology topology;
  private final Map<String, Path> cache = new HashMap<>();

  public P2pDma(PciTopology topology) {
    this.topology = topology;
  }

  public PciTopology topology() {
    return topology;
  }

  /** {@code calc_map_type_and_dist(provider, client)}. Both must be PCI endpoints of the topology. */
  public Path path(String provider, String client) {
    return cache.computeIfAbsent(provider + "\u0000" + client, k -> calc(topology.endpoint(provider).node(), topology.endpoint(client).node()));
  }

  private Path calc(PciTopology.Node provider, PciTopology.Node client) {
    List<String> acs = new ArrayList<>();
    int distA = 0;
    int distB = 0;
    PciTopology.Node common = null;
    for (PciTopology.Node a = provider; a != null && common == null; ) {
      distB = 0;
      if (a.acsRedirect()) {
        acs.add(a.name());
      }
      for (PciTopology.Node bb = client; bb != null; bb = bb.upstream()) {
        if (a == bb) {
          common = a;
          break;
        }
        distB++;
      }
      if (common == null) {
        a = a.upstream();
        distA++;
      }
    }
    int dist = distA + distB;
    boolean acsRedirects = false;
    if (common != null) {
      for (PciTopology.Node bb = client; bb != null && bb != common; bb = bb.upstream()) {
        if (bb.acsRedirect()) {
          acs.add(bb.name());
        }
      }
      if (acs.isEmpty()) {
        return new Path(MapType.BUS_ADDR, dist, acs); // a switch routes the TLPs by bus address
      }
      acsRedirects = true; // "to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=…"
    }
    boolean allowed = topology.amdZen() || whitelisted(provider.host(), client.host());
    return new Path(allowed ? MapType.THRU_HOST_BRIDGE : MapType.NOT_SUPPORTED, dist, acsRedirects ? acs : List.of());
  }

  /** {@code host_bridge_whitelist}: one host bridge needs an entry; two need entries that do not require the same one. */
  private static boolean whitelisted(PciTopology.HostBridge a, PciTopology.HostBridge b) {
    if (a == b) {
      return listed(a, true);
    }
    return listed(a, false) && listed(b, false);
  }

  private static boolean listed(PciTopology.HostBridge h, boolean sameHostBridge) {
    for (Entry e : WHITELIST) {
      if (e.vendor() == h.vendor() && e.device() == h.device()) {
        return !e.sameHostBridge() || sameHostBridge;
      }
    }
    return false;
  }

  /**
   * {@code pci_p2pdma_distance_many(provider, clients)}: -1 for no clients, a client that is not a PCI device or a pair
   * that is not supported; otherwise the sum of the distances.
   */
  public int distanceMany(String provider, List<String> clients) {
    if (clients.isEmpty()) {
      return -1;
    }
    int total = 0;
    for (String c : clients) {
      PciTopology.Endpoint e = topology.endpoint(c);
      if (e == null || !e.pci()) {
        return -1; // "cannot be used for peer-to-peer DMA as it is not a PCI device"
      }
      Path p = path(provider, c);
      if (p.map() == MapType.NOT_SUPPORTED) {
        return -1;
      }
      total += p.distance();
    }
    return total;
  }

  /**
   * {@code pci_p2pmem_find_many(clients)}: among the functions that publish P2P memory, the one with the smallest distance
   * sum; a tie is broken at random ({@code get_random_u32_below}) — here by {@code seed}, so a run is reproducible.
   */
  public Found findMany(List<String> clients, long seed) {
    int closest = Integer.MAX_VALUE;
    List<String> best = new ArrayList<>();
    for (PciTopology.Endpoint e : topology.endpoints()) {
      if (!e.p2pmem() || !e.pci()) {
        continue;
      }
      int d = distanceMany(e.name(), clients);
      if (d < 0 || d > closest) {
        continue;
      }
      if (d < closest) {
        best.clear();
        closest = d;
      }
      best.add(e.name());
    }
    return best.isEmpty() ? new Found(null, -1) : new Found(best.get(new SplittableRandom(seed).nextInt(best.size())), closest);
  }
}
