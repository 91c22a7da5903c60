package dev.fencelab.coordinator.scenario.run;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The run's wait-for graph across every member (kernel-semantics §3 model): vertices are waiters, fences, jobs, locks
 * and invalidate callbacks, as the members name them; an edge is "from waits for to", reported by the member where the
 * wait is. Each added edge is checked at once for a path back from its target to its source: a cycle is a deadlock,
 * found when it closes, with every edge and the member that reported it. A reported cycle that later loses an edge
 * was broken by something outside it (a timeout, a reset, a node's death) and is reported again as such.
 */
public final class WaitForGraph {
  /** One wait: {@code from} waits for {@code to} ({@code reason}), reported by {@code node} under its wait id. */
  public record Edge(String node, long id, String from, String to, String reason) {
    String key() {
      return node + "#" + id;
    }

    @Override
    public String toString() {
      return from + " -> " + to + " (" + reason + ", on " + node + ")";
    }
  }

  /** A cycle of waits, in order: each edge's {@code to} is the next edge's {@code from}, the last one's the first's. */
  public record Cycle(List<Edge> edges) {
    Set<String> keys() {
      Set<String> keys = new TreeSet<>();
      edges.forEach(e -> keys.add(e.key()));
      return keys;
    }

    /** The vertices around the cycle: {@code a -> b -> c -> a}. */
    public String path() {
      StringBuilder b = new StringBuilder();
      edges.forEach(e -> b.append(e.from()).append(" -> "));
      return b.append(edges.get(0).from()).toString();
    }

    /** One line per edge, with its reason and member. */
    String chain() {
      StringBuilder b = new StringBuilder();
      for (Edge e : edges) {
        b.append(b.length() == 0 ? "" : "; ").append(e);
      }
      return b.toString();
    }
  }

  /** A reported cycle that lost {@code edge}. */
  record Broken(Cycle cycle, Edge edge) {}

  /** Beyond this many vertices visited, a search stops (a bound, never a hang). */
  static final int MAX_VISIT = 100_000;

  private final Map<String, Edge> edges = new HashMap<>();
  private final Map<String, Map<String, Edge>> out = new HashMap<>();
  private final Map<Set<String>, Cycle> reported = new LinkedHashMap<>();

  int size() {
    return edges.size();
  }

  /** Adds {@code e}; returns the cycle it closes if that cycle was not reported before, else null. */
  public Cycle add(Edge e) {
    Edge old = edges.get(e.key());
    if (e.equals(old)) {
      return null; // the same wait again (a snapshot after a batch): nothing new
    }
    if (old != null) {
      remove(e.key());
    }
    edges.put(e.key(), e);
    out.computeIfAbsent(e.from(), k -> new LinkedHashMap<>()).put(e.key(), e);
    List<Edge> path = path(e.to(), e.from());
    if (path == null) {
      return null;
    }
    List<Edge> cycle = new ArrayList<>();
    cycle.add(e);
    cycle.addAll(path);
    Cycle c = new Cycle(Collections.unmodifiableList(cycle));
    return reported.putIfAbsent(c.keys(), c) == null ? c : null;
  }

  /** Removes the edge {@code key}; returns the reported cycles it was part of (now broken). */
  List<Broken> remove(String key) {
    Edge e = edges.remove(key);
    if (e == null) {
      return List.of();
    }
    Map<String, Edge> from = out.get(e.from());
    if (from != null) {
      from.remove(key);
      if (from.isEmpty()) {
        out.remove(e.from());
      }
    }
    List<Broken> broken = new ArrayList<>();
    reported.entrySet().removeIf(r -> {
      if (r.getKey().contains(key)) {
        broken.add(new Broken(r.getValue(), e));
        return true;
      }
      return false;
    });
    return broken;
  }

  /** Every edge a member reported, by its key: for removing all of a member's edges when it dies. */
  List<String> keysOf(String node) {
    return edges.values().stream().filter(e -> e.node().equals(node)).map(Edge::key).toList();
  }

  /** A shortest path of edges from {@code start} to {@code goal}, or null. */
  private List<Edge> path(String start, String goal) {
    Map<String, Edge> via = new HashMap<>();
    ArrayDeque<String> queue = new ArrayDeque<>();
    queue.add(start);
    via.put(start, null);
    while (!queue.isEmpty() && via.size() < MAX_VISIT) {
      String v = queue.poll();
      if (v.equals(goal)) {
        List<Edge> path = new ArrayList<>();
        for (Edge e = via.get(v); e != null; e = via.get(e.from())) {
          path.add(0, e);
        }
        return path;
      }
      for (Edge e : out.getOrDefault(v, Map.of()).values()) {
        if (!via.containsKey(e.to())) {
          via.put(e.to(), e);
          queue.add(e.to());
        }
      }
    }
    return null;
  }
}
