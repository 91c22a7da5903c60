package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Fault;
import java.util.List;

/**
 * The checks of a scenario's chaos (every fault one kind, on a known node or device, at a time or after a known step;
 * the random schedule's bounds) and of its run expectations (known fences, waits, buffers, violation and latency
 * kinds, statuses). Reports through its {@link ScenarioValidator}.
 */
final class RunChecks {
  /** More random faults than this is a typo, not a campaign (a campaign is many seeded runs). */
  static final long MAX_RANDOM_FAULTS = 1000;

  private final ScenarioValidator v;

  RunChecks(ScenarioValidator v) {
    this.v = v;
  }

  void check() {
    chaos();
    expect();
  }

  private void chaos() {
    for (int i = 0; i < v.s.getChaos().getFaultsCount(); i++) {
      Fault f = v.s.getChaos().getFaults(i);
      String path = "chaos.faults[" + i + "]";
      int kinds = (f.getKillNode().isEmpty() ? 0 : 1) + (f.getUnplug().isEmpty() ? 0 : 1) + (f.getHang().isEmpty() ? 0 : 1)
          + (f.getFailReset().isEmpty() ? 0 : 1) + (f.hasPauseNode() ? 1 : 0) + (f.hasPartition() ? 1 : 0)
          + (f.getKillCoordinator() ? 1 : 0) + (f.hasLinkDelay() ? 1 : 0);
      if (kinds != 1) {
        v.problem(path, "a fault is exactly one of kill_node, unplug, hang, fail_reset, pause_node, partition, kill_coordinator, "
            + "link_delay");
      }
      if (!f.getKillNode().isEmpty()) v.nodeRef(path + ".kill_node", f.getKillNode());
      ClusterFaultChecks cluster = new ClusterFaultChecks(v);
      if (f.hasPauseNode()) cluster.pauseNode(path + ".pause_node", f.getPauseNode());
      if (f.hasPartition()) cluster.partition(path + ".partition", f.getPartition());
      if (f.hasLinkDelay()) cluster.linkDelay(path + ".link_delay", f.getLinkDelay());
      for (String dev : List.of(f.getUnplug(), f.getHang(), f.getFailReset())) {
        if (!dev.isEmpty() && !v.devices.containsKey(dev)) {
          v.problem(path, "unknown device '" + dev + "' (devices: " + ScenarioValidator.some(v.devices.keySet()) + ")");
        }
      }
      v.duration(path + ".at", f.getAt(), true);
      if (!f.getAfterStep().isEmpty() && !v.stepIndex.containsKey(f.getAfterStep())) {
        v.problem(path + ".after_step", "unknown step '" + f.getAfterStep() + "'");
      }
    }
    if (v.s.getChaos().hasRandom()) {
      var r = v.s.getChaos().getRandom();
      String path = "chaos.random";
      if (r.getCount() == 0) v.problem(path + ".count", "count must be at least 1");
      if (Integer.toUnsignedLong(r.getCount()) > MAX_RANDOM_FAULTS) {
        v.problem(path + ".count", "count must be at most " + MAX_RANDOM_FAULTS + ", was " + Integer.toUnsignedString(r.getCount()));
      }
      String kinds = "kill_node, unplug, hang, pause_node, partition, link_delay, kill_coordinator";
      if (r.getKindsCount() == 0) v.problem(path + ".kinds", "name the fault kinds to draw from (" + kinds + ")");
      for (String k : r.getKindsList()) {
        if (!k.matches("kill_node|unplug|hang|pause_node|partition|link_delay|kill_coordinator")) {
          v.problem(path + ".kinds", "unknown fault kind '" + k + "' (" + kinds + ")");
        }
      }
      boolean onlyCoordinator = r.getKindsList().stream().allMatch("kill_coordinator"::equals) && r.getKindsCount() > 0;
      if (r.getTargetsCount() == 0 && !onlyCoordinator) v.problem(path + ".targets", "name the nodes or devices faults may hit");
      v.duration(path + ".for_from", r.getForFrom(), true);
      v.duration(path + ".for_to", r.getForTo(), true);
      if (!r.getForFrom().isEmpty() && !r.getForTo().isEmpty() && Units.nanos(r.getForFrom()) > Units.nanos(r.getForTo())) {
        v.problem(path, "'for_from' is after 'for_to'");
      }
      for (String d : List.of(r.getForFrom(), r.getForTo())) {
        if (!d.isEmpty() && Units.nanos(d) > 600_000_000_000L) v.problem(path, "a fault lasts at most 10m, not " + d);
      }
      if (!r.getLatency().isEmpty()) {
        v.duration(path + ".latency", r.getLatency(), false);
        if (Units.nanos(r.getLatency()) > 1_000_000_000L) v.problem(path + ".latency", "a link latency is at most 1s, not " + r.getLatency());
      }
      for (String t : r.getTargetsList()) {
        boolean node = v.nodes.contains(t);
        boolean dev = v.devices.containsKey(t);
        if (!node && !dev) {
          v.problem(path + ".targets", "unknown target '" + t + "' (a node or a device)");
        }
      }
      v.duration(path + ".from", r.getFrom(), false);
      v.duration(path + ".to", r.getTo(), false);
      if (Units.nanos(r.getFrom()) > Units.nanos(r.getTo())) v.problem(path, "'from' is after 'to'");
      if (!r.getAfterStep().isEmpty() && !v.stepIndex.containsKey(r.getAfterStep())) {
        v.problem(path + ".after_step", "unknown step '" + r.getAfterStep() + "'");
      }
    }
  }

  private void expect() {
    var e = v.s.getExpect();
    for (int i = 0; i < e.getFencesCount(); i++) {
      var f = e.getFences(i);
      if (!v.fenceProducers.containsKey(f.getFence()) && !v.stepIndex.containsKey(f.getFence())) {
        v.problem("expect.fences[" + i + "].fence", "unknown fence '" + f.getFence() + "' (fences: " + ScenarioValidator.some(v.fenceProducers.keySet()) + ")");
      }
      status("expect.fences[" + i + "].status", f.getStatus());
    }
    for (int i = 0; i < e.getWaitsCount(); i++) {
      var w = e.getWaits(i);
      Integer idx = v.stepIndex.get(w.getStep());
      if (idx == null || !v.s.getSteps(idx).hasWait()) {
        v.problem("expect.waits[" + i + "].step", "'" + w.getStep() + "' is not a wait step");
      }
      if (!w.getResult().isEmpty() && !w.getResult().matches("signaled|timeout")) {
        v.problem("expect.waits[" + i + "].result", "result must be signaled or timeout");
      }
      if (!w.getStatus().isEmpty()) status("expect.waits[" + i + "].status", w.getStatus());
    }
    for (int i = 0; i < e.getChecksumsCount(); i++) {
      var c = e.getChecksums(i);
      if (c.getEqualCount() == 0 && c.getUnequalCount() == 0) v.problem("expect.checksums[" + i + "]", "name buffers in equal or unequal");
      for (String b : c.getEqualList()) checksummed(i, "equal", b);
      for (String b : c.getUnequalList()) checksummed(i, "unequal", b);
    }
    for (String kind : e.getViolations().getExpectedList()) {
      if (!ScenarioValidator.VIOLATION_KINDS.contains(kind)) v.problem("expect.violations.expected", "unknown violation kind '" + kind + "' (" + ScenarioValidator.VIOLATION_KINDS + ")");
    }
    for (String kind : e.getViolations().getForbiddenList()) {
      if (!ScenarioValidator.VIOLATION_KINDS.contains(kind)) v.problem("expect.violations.forbidden", "unknown violation kind '" + kind + "'");
    }
    for (int i = 0; i < e.getLatencyCount(); i++) {
      var l = e.getLatency(i);
      if (!ScenarioValidator.LATENCY_KINDS.contains(l.getKind())) v.problem("expect.latency[" + i + "].kind", "unknown latency kind '" + l.getKind() + "' (" + ScenarioValidator.LATENCY_KINDS + ")");
      if (l.getPercentile() <= 0 || l.getPercentile() > 100) v.problem("expect.latency[" + i + "].percentile", "percentile must be in (0, 100]");
      v.duration("expect.latency[" + i + "].max", l.getMax(), !l.getMin().isEmpty());
      v.duration("expect.latency[" + i + "].min", l.getMin(), true);
    }
    for (String id : e.getStepsFailList()) {
      if (!v.stepIndex.containsKey(id)) v.problem("expect.steps_fail", "unknown step '" + id + "'");
    }
  }

  private void status(String path, String status) {
    if (!ScenarioValidator.STATUSES.contains(status)) {
      v.problem(path, "status must be one of " + ScenarioValidator.STATUSES + ", not '" + status + "'");
    }
  }

  /** A name a checksum expectation compares: a buffer, or a region a cpu_read step reads. */
  private void checksummed(int i, String field, String name) {
    boolean read = v.s.getStepsList().stream().anyMatch(st -> st.hasCpuRead() && (st.getCpuRead().getAs().isEmpty()
        ? st.getCpuRead().getRegion() : st.getCpuRead().getAs()).equals(name)
        || st.hasDmirror() && st.getDmirror().getAs().equals(name));
    if (!v.buffers.containsKey(name) && !read) {
      v.problem("expect.checksums[" + i + "]." + field, "unknown buffer '" + name + "' (nor a region a cpu_read step reads, nor "
          + "a dmirror step's 'as')");
    }
  }
}
