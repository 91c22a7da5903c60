package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.lockdep.LockClass;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * lockdep over a run (kernel-semantics §1.18): the dependencies every member saw for the first time ({@code LOCK_DEP}
 * events), merged per emulated host — one machine's lockdep, even when the machine spans several cluster members, so a
 * cycle whose halves were seen on two members is found — after the priming chain that {@code dma_resv_lockdep()} teaches
 * at boot. A new dependency that closes a cycle is reported once, at the acquisition that closed it, with the existing
 * chain and where each of its links was first seen; like lockdep, the offending dependency is not added.
 *
 * <p>Kinds: inside a signalling section, an allocation that may reclaim is {@code SIGNALLING_ALLOC} (V1), a dma_resv lock
 * {@code SIGNALLING_RESV} (V2), mmap_lock {@code SIGNALLING_MMAP_LOCK} (V3); a wait holding a lock taken in the same
 * section is {@code SIGNALLING_WAIT_HOLDING} (V5); any other cycle through {@code dma_fence_map} is
 * {@code SIGNALLING_LOCK} (V4); a cycle without it is a plain {@code LOCK_ORDER} inversion.
 */
public final class LockOrder {
  /** One report: its kind, the §1.18 rule, the acquisition that closed the cycle, and the text. */
  public record Finding(String kind, TraceEvent at, String subject, String detail) {}

  /** The chain {@code dma_resv_lockdep()} primes at boot (drivers/dma-buf/dma-resv.c). */
  static final List<List<String>> PRIMING = List.of(
      List.of(LockClass.MMAP_LOCK, LockClass.RESV),
      List.of(LockClass.RESV, LockClass.FS_RECLAIM),
      List.of(LockClass.FS_RECLAIM, LockClass.I_MMAP),
      List.of(LockClass.FS_RECLAIM, LockClass.MMU_NOTIFIER),
      List.of(LockClass.MMU_NOTIFIER, LockClass.DMA_FENCE_MAP));

  /** LOCK_DEP status bits (as the members set them). */
  static final int IN_SECTION = 1;
  static final int FROM_IN_SECTION = 2;

  private record Edge(String from, String to, TraceEvent seen) {}

  private static final class Graph {
    final Map<String, Map<String, Edge>> out = new HashMap<>();

    Graph() {
      PRIMING.forEach(p -> add(new Edge(p.get(0), p.get(1), null)));
    }

    boolean has(String from, String to) {
      return out.getOrDefault(from, Map.of()).containsKey(to);
    }

    void add(Edge e) {
      out.computeIfAbsent(e.from(), k -> new LinkedHashMap<>()).put(e.to(), e);
    }

    /** The shortest chain of edges from {@code a} to {@code b}, or null. */
    List<Edge> path(String a, String b) {
      Map<String, Edge> via = new HashMap<>();
      ArrayDeque<String> queue = new ArrayDeque<>(List.of(a));
      Set<String> seen = new HashSet<>(List.of(a));
      while (!queue.isEmpty()) {
        String at = queue.poll();
        if (at.equals(b)) {
          List<Edge> chain = new ArrayList<>();
          for (String n = b; !n.equals(a); n = via.get(n).from()) {
            chain.add(0, via.get(n));
          }
          return chain;
        }
        for (Edge e : out.getOrDefault(at, Map.of()).values()) {
          if (seen.add(e.to())) {
            via.put(e.to(), e);
            queue.add(e.to());
          }
        }
      }
      return null;
    }
  }

  private LockOrder() {}

  /**
   * The reports for a run's events. {@code hostOf}: a member's emulated host; {@code aligned}: an event's time on one
   * clock for all members (the runner's), which orders the sightings.
   */
  public static List<Finding> check(List<TraceEvent> events, Function<String, String> hostOf, ToLongFunction<TraceEvent> aligned) {
    List<TraceEvent> deps = new ArrayList<>(events.stream().filter(e -> e.getKind() == EventKind.LOCK_DEP).toList());
    deps.sort(Comparator.comparingLong(aligned));
    Map<String, Graph> graphs = new HashMap<>();
    Set<String> reported = new HashSet<>();
    List<Finding> findings = new ArrayList<>();
    for (TraceEvent e : deps) {
      String host = hostOf.apply(e.getNode());
      Graph g = graphs.computeIfAbsent(host, h -> new Graph());
      String from = e.getSubject();
      String to = e.getName();
      if (from.equals(to) || g.has(from, to)) {
        continue;
      }
      List<Edge> back = g.path(to, from);
      if (back == null) {
        g.add(new Edge(from, to, e));
        continue;
      }
      if (reported.add(host + '\u0000' + from + '\u0000' + to)) {
        findings.add(finding(e, back, host));
      }
    }
    return findings;
  }

  /** The kind of report for {@code e}, closing the cycle {@code e} + {@code back}. */
  static String kind(TraceEvent e, List<Edge> back) {
    String to = e.getName();
    boolean section = (e.getStatus() & IN_SECTION) != 0;
    boolean throughMap = to.equals(LockClass.DMA_FENCE_MAP) || e.getSubject().equals(LockClass.DMA_FENCE_MAP)
        || back.stream().anyMatch(x -> x.to().equals(LockClass.DMA_FENCE_MAP));
    if (!throughMap) {
      return "LOCK_ORDER";
    }
    if (to.equals(LockClass.DMA_FENCE_MAP)) {
      return (e.getStatus() & FROM_IN_SECTION) != 0 ? "SIGNALLING_WAIT_HOLDING" : "SIGNALLING_LOCK";
    }
    if (section && (to.equals(LockClass.FS_RECLAIM) || to.equals(LockClass.MMU_NOTIFIER))) {
      return "SIGNALLING_ALLOC";
    }
    if (section && to.equals(LockClass.RESV)) {
      return "SIGNALLING_RESV";
    }
    if (section && to.equals(LockClass.MMAP_LOCK)) {
      return "SIGNALLING_MMAP_LOCK";
    }
    return "SIGNALLING_LOCK";
  }

  /** The kernel's words for each kind (kernel-semantics §1.18). */
  static String rule(String kind) {
    return switch (kind) {
      case "SIGNALLING_ALLOC" -> "§1.18 V1: an allocation that may reclaim (GFP_KERNEL, GFP_NOFS, GFP_NOIO) inside a dma-fence "
          + "signalling section — reclaim can call an mmu notifier that waits on a fence, possibly the one this section must "
          + "signal. GFP_ATOMIC/GFP_NOWAIT, or allocating before the fence is published, avoid it";
      case "SIGNALLING_RESV" -> "§1.18 V2: a dma_resv lock taken inside a dma-fence signalling section — the resv may be held by "
          + "a thread waiting on this section's fence (waiting under the resv lock is allowed)";
      case "SIGNALLING_MMAP_LOCK" -> "§1.18 V3: mmap_lock taken inside a dma-fence signalling section (a fault, GUP, copy_*_user, "
          + "hmm_range_fault) — an munmap holding mmap_lock may wait in an mmu notifier on this section's fence. Fault and "
          + "validate before the fence is published";
      case "SIGNALLING_WAIT_HOLDING" -> "§1.18 V5: a fence wait while holding a lock taken inside the same signalling section";
      case "SIGNALLING_LOCK" -> "§1.18 V4: a lock taken inside a dma-fence signalling section is elsewhere held across a fence "
          + "wait, across reclaim, or inside an mmu notifier that waits on fences";
      default -> "possible circular locking dependency between lock classes";
    };
  }

  private static Finding finding(TraceEvent e, List<Edge> back, String host) {
    String kind = kind(e, back);
    StringBuilder d = new StringBuilder();
    d.append(rule(kind)).append(".\n");
    d.append("new dependency ").append(e.getSubject()).append(" -> ").append(e.getName()).append(": ").append(sighting(e)).append('\n');
    d.append("closes the existing chain ").append(e.getName()).append(" -> … -> ").append(e.getSubject())
        .append(" on ").append(dev.fencelab.protocol.scenario.Hosts.describe(host)).append(":\n");
    for (int i = 0; i < back.size(); i++) {
      Edge x = back.get(i);
      d.append("  #").append(back.size() - 1 - i).append(' ').append(x.from()).append(" -> ").append(x.to()).append(": ")
          .append(x.seen() == null ? "taught at boot (dma_resv_lockdep priming)" : sighting(x.seen())).append('\n');
    }
    String subject = e.getTrack() + ": " + e.getSubject() + " -> " + e.getName();
    return new Finding(kind, e, subject, d.toString().stripTrailing());
  }

  private static String sighting(TraceEvent e) {
    return "first seen on " + e.getNode() + " in " + e.getTrack() + " at model " + String.format("%.3f ms", e.getModelNanos() / 1e6)
        + " (" + e.getDetail() + ")" + ((e.getStatus() & IN_SECTION) != 0 ? ", inside a signalling section" : "")
        + ", holding " + (e.getDepsCount() == 0 ? "nothing" : String.join(", ", e.getDepsList()));
  }
}
