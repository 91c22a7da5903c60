package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.LinkDelay;
import dev.fencelab.protocol.scenario.v1.Partition;
import dev.fencelab.protocol.scenario.v1.PauseNode;
import java.util.HashSet;
import java.util.Set;

/**
 * The checks of the faults of the cluster itself, as steps or chaos faults: {@code pause_node} (a known node, a
 * duration), {@code partition} (two or more disjoint sides of known nodes, a duration) and {@code link_delay} (two
 * distinct known nodes, a latency). Bounds keep a typo from freezing a run for hours.
 */
final class ClusterFaultChecks {
  /** A pause or a partition longer than this is a typo (the run's steps have a 30 s bound by default). */
  static final long MAX_FOR_NANOS = 600_000_000_000L;
  /** A link latency above this is not a link. */
  static final long MAX_LATENCY_NANOS = 1_000_000_000L;

  private final ScenarioValidator v;

  ClusterFaultChecks(ScenarioValidator v) {
    this.v = v;
  }

  void pauseNode(String path, PauseNode p) {
    v.nodeRef(path + ".node", p.getNode());
    duration(path + ".for", p.getFor(), false);
  }

  void partition(String path, Partition p) {
    if (p.getBetweenCount() < 2) {
      v.problem(path + ".between", "a partition has two sides or more, e.g. between: [[n1], [n2, n3]]");
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < p.getBetweenCount(); i++) {
      var side = p.getBetween(i);
      if (side.getNodesCount() == 0) {
        v.problem(path + ".between[" + i + "]", "a side names one node or more");
      }
      for (String n : side.getNodesList()) {
        v.nodeRef(path + ".between[" + i + "]", n);
        if (!seen.add(n)) {
          v.problem(path + ".between[" + i + "]", "node '" + n + "' is on two sides");
        }
      }
    }
    duration(path + ".for", p.getFor(), false);
  }

  void linkDelay(String path, LinkDelay d) {
    if (d.getBetweenCount() != 2 || d.getBetween(0).equals(d.getBetween(1))) {
      v.problem(path + ".between", "a link is between two different nodes, e.g. between: [n1, n2]");
    }
    d.getBetweenList().forEach(n -> v.nodeRef(path + ".between", n));
    v.duration(path + ".latency", d.getLatency(), false);
    if (!d.getLatency().isEmpty() && Units.nanos(d.getLatency()) > MAX_LATENCY_NANOS) {
      v.problem(path + ".latency", "a link latency is at most 1s, was " + d.getLatency());
    }
    duration(path + ".for", d.getFor(), true);
  }

  private void duration(String path, String value, boolean optional) {
    v.duration(path, value, optional);
    long nanos = value.isEmpty() ? 0 : Units.nanos(value);
    if (!value.isEmpty() && nanos == 0) {
      v.problem(path, "must be longer than 0");
    }
    if (nanos > MAX_FOR_NANOS) {
      v.problem(path, "must be at most 10min, was " + value);
    }
  }
}
