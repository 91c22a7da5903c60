package dev.fencelab.node.p2p;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * Transfers sharing links in model time, as a fluid: at every moment the transfers in flight get max-min fair rates
 * (progressive filling: all rates grow together until a resource is full; the transfers crossing it keep that rate),
 * and a transfer crossing a resource twice (a bounce through DRAM) uses twice its rate there. Two copies through one
 * upstream port each get half of it; a transfer alone gets its route's slowest resource.
 *
 * <p>Transfers are {@linkplain #add added} when they start and {@linkplain #finish finished} when their owner needs
 * the end time: the schedule of every open transfer is computed together, the finished one's use of each resource is
 * committed, and later transfers get what is left of it. An answer is never revised: a transfer that starts (in model
 * time) in the middle of committed ones shares only what they left. Pure; not thread-safe.
 */
public final class FluidShare {
  private static final double EPS = 1e-6;

  private record Flow(long id, long start, long bytes, Map<String, Integer> crossings) {}

  private record Segment(double from, double to, double rate) {}

  private final ToDoubleFunction<String> capacity;
  private final Map<Long, Flow> open = new LinkedHashMap<>();
  /** Per resource: its committed use (bytes per ns) from each breakpoint until the next. */
  private final Map<String, TreeMap<Long, Double>> committed = new HashMap<>();

  public FluidShare(ToDoubleFunction<String> capacity) {
    this.capacity = capacity;
  }

  /** A transfer of {@code bytes} starting at model time {@code start}, crossing each resource as often as {@code crossings} says. */
  public void add(long id, long start, long bytes, Map<String, Integer> crossings) {
    if (crossings.isEmpty()) {
      throw new IllegalArgumentException("a transfer crosses at least one resource");
    }
    open.put(id, new Flow(id, start, bytes, Map.copyOf(crossings)));
  }

  /** Drops an open transfer (it failed): it used nothing. */
  public void cancel(long id) {
    open.remove(id);
  }

  public int open() {
    return open.size();
  }

  /**
   * The model time at which transfer {@code id} ends (latency excluded), sharing with every open transfer and with what
   * finished ones committed; commits its use. -1 for an unknown id.
   */
  public long finish(long id) {
    Flow flow = open.get(id);
    if (flow == null) {
      return -1;
    }
    if (flow.bytes == 0) {
      open.remove(id);
      return flow.start;
    }
    Map<Long, List<Segment>> profiles = schedule();
    List<Segment> mine = profiles.get(id);
    open.remove(id);
    double end = flow.start;
    for (Segment s : mine) {
      for (var c : flow.crossings.entrySet()) {
        commit(c.getKey(), s.from, s.to, s.rate * c.getValue());
      }
      end = Math.max(end, s.to);
    }
    return (long) Math.ceil(end - EPS);
  }

  private void commit(String resource, double from, double to, double use) {
    long a = Math.round(from);
    long b = Math.round(to);
    if (b <= a) {
      return;
    }
    TreeMap<Long, Double> steps = committed.computeIfAbsent(resource, k -> new TreeMap<>());
    split(steps, a);
    split(steps, b);
    steps.subMap(a, true, b, false).replaceAll((k, v) -> v + use);
  }

  private static void split(TreeMap<Long, Double> steps, long at) {
    if (!steps.containsKey(at)) {
      Map.Entry<Long, Double> floor = steps.floorEntry(at);
      steps.put(at, floor == null ? 0.0 : floor.getValue());
    }
  }

  private double committedAt(String resource, double t) {
    TreeMap<Long, Double> steps = committed.get(resource);
    if (steps == null) {
      return 0;
    }
    Map.Entry<Long, Double> e = steps.floorEntry((long) Math.floor(t + EPS));
    return e == null ? 0 : e.getValue();
  }

  private double nextBreak(String resource, double t) {
    TreeMap<Long, Double> steps = committed.get(resource);
    if (steps == null) {
      return Double.MAX_VALUE;
    }
    Long k = steps.higherKey((long) Math.floor(t + EPS));
    return k == null ? Double.MAX_VALUE : k;
  }

  /** Every open transfer's rate profile, simulated from the earliest start until all are done. */
  private Map<Long, List<Segment>> schedule() {
    Map<Long, List<Segment>> profiles = new HashMap<>();
    Map<Long, Double> left = new HashMap<>();
    double t = Double.MAX_VALUE;
    for (Flow f : open.values()) {
      profiles.put(f.id, new ArrayList<>());
      left.put(f.id, (double) f.bytes);
      t = Math.min(t, f.start);
    }
    while (left.values().stream().anyMatch(v -> v > EPS)) {
      final double now = t;
      List<Flow> active = open.values().stream().filter(f -> f.start <= now + EPS && left.get(f.id) > EPS).toList();
      double next = open.values().stream().filter(f -> f.start > now + EPS).mapToDouble(Flow::start).min().orElse(Double.MAX_VALUE);
      if (active.isEmpty()) {
        t = next;
        continue;
      }
      Map<Long, Double> rates = rates(active, now);
      for (Flow f : active) {
        next = Math.min(next, now + left.get(f.id) / rates.get(f.id));
        for (String r : f.crossings.keySet()) {
          next = Math.min(next, nextBreak(r, now));
        }
      }
      double dt = next - now;
      for (Flow f : active) {
        double rate = rates.get(f.id);
        double moved = Math.min(left.get(f.id), rate * dt);
        left.put(f.id, left.get(f.id) - moved);
        profiles.get(f.id).add(new Segment(now, next, rate));
      }
      t = next;
    }
    return profiles;
  }

  /** Max-min fair rates by progressive filling over what the committed transfers left of each resource. */
  private Map<Long, Double> rates(List<Flow> active, double now) {
    Map<String, Double> free = new HashMap<>();
    for (Flow f : active) {
      for (String r : f.crossings.keySet()) {
        free.computeIfAbsent(r, k -> Math.max(capacity.applyAsDouble(k) - committedAt(k, now), capacity.applyAsDouble(k) * 1e-6));
      }
    }
    Map<Long, Double> rates = new HashMap<>();
    List<Flow> growing = new ArrayList<>(active);
    double level = 0;
    while (!growing.isEmpty()) {
      double step = Double.MAX_VALUE;
      String full = null;
      for (var e : free.entrySet()) {
        double weight = 0;
        for (Flow f : growing) {
          weight += f.crossings.getOrDefault(e.getKey(), 0);
        }
        if (weight > 0 && e.getValue() / weight < step) {
          step = e.getValue() / weight;
          full = e.getKey();
        }
      }
      level += step;
      for (var e : free.entrySet()) {
        double weight = 0;
        for (Flow f : growing) {
          weight += f.crossings.getOrDefault(e.getKey(), 0);
        }
        e.setValue(e.getValue() - step * weight);
      }
      final String saturated = full;
      final double at = level;
      growing.removeIf(f -> {
        if (f.crossings.containsKey(saturated)) {
          rates.put(f.id, at);
          return true;
        }
        return false;
      });
    }
    return rates;
  }
}
