package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.BufferChecksum;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.NamedFence;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Judges a run over its collected trace (not over what the runner was told): the checks every run gets — every
 * fence completed exactly once and none left pending, every wait ended, the fences of a dead or unplugged device
 * ended with an error as their waiters saw them (and jobs that depended on them failed with it), no contract
 * violation unless expected, surviving buffers intact — then the scenario's own expectations. A pending wait or fence
 * is explained by its wait-for chain, down to the dead node, the hung engine, the timeline nobody advanced, or the
 * cycle.
 */
public final class VerdictChecker {
  /** One failed check: which, what, and the causal chain that explains it. */
  public record Failure(String check, String message, List<String> chain) {
    public Failure {
      chain = List.copyOf(chain);
    }
  }

  public record Verdict(boolean pass, List<Failure> failures, List<String> facts) {
    public Verdict {
      failures = List.copyOf(failures);
      facts = List.copyOf(facts);
    }
  }

  private final Scenario s;
  private final RunIndex x;
  private final Latencies latencies;
  private final List<Failure> failures = new ArrayList<>();
  private final List<String> facts = new ArrayList<>();
  private final WaitChains chains;

  private VerdictChecker(Scenario s, RunIndex x, Latencies latencies) {
    this.s = s;
    this.x = x;
    this.latencies = latencies;
    this.chains = new WaitChains(x);
  }

  public static Verdict check(Scenario scenario, RunIndex index, Latencies latencies) {
    VerdictChecker c = new VerdictChecker(scenario, index, latencies);
    c.run();
    FenceNamer names = new FenceNamer(index.record);
    return new Verdict(c.failures.isEmpty(), c.failures.stream().map(f -> new Failure(f.check(), names.name(f.message()),
        f.chain().stream().map(names::name).toList())).toList(), c.facts.stream().map(names::name).toList());
  }

  private void fail(String check, String message, List<String> chain) {
    failures.add(new Failure(check, message, chain));
  }

  private void run() {
    if (!x.record.getAborted().isEmpty()) {
      fail("run-aborted", "the run was aborted: " + x.record.getAborted(), List.of());
    }
    steps();
    fencesOnce();
    fencesEnded();
    waitsEnded();
    deadDevices();
    violations();
    intact();
    facts.addAll(TransferFacts.of(x));
    expectations();
    long withError = x.created.keySet().stream().map(x::finalStatus).filter(st -> st != null && st < 0).count();
    long withTheirNode = x.created.keySet().stream().filter(f -> !x.signals.containsKey(f) && x.finalStatus(f) != null).count();
    facts.add(x.created.size() + " fences created: " + (x.signals.size() + withTheirNode) + " ended (" + withError + " with an error"
        + (withTheirNode == 0 ? "" : ", " + withTheirNode + " with their node") + "), " + x.waitBegins.size() + " waits, "
        + x.jobs.size() + " jobs, " + x.violations.size() + " violations, " + x.events.size() + " trace events");
  }

  // --- always

  private void steps() {
    Set<String> expectedFail = new HashSet<>(s.getExpect().getStepsFailList());
    Set<String> expectedWaits = new HashSet<>();
    s.getExpect().getWaitsList().forEach(w -> expectedWaits.add(w.getStep()));
    Map<String, dev.fencelab.protocol.scenario.v1.Step> byId = new java.util.HashMap<>();
    for (int i = 0; i < s.getStepsCount(); i++) {
      byId.put(dev.fencelab.protocol.scenario.ScenarioSteps.id(s, i), s.getSteps(i));
    }
    for (StepOutcome o : x.record.getStepsList()) {
      if (o.getSkipped()) {
        var step = byId.get(o.getId());
        boolean hadChecks = step != null && step.hasExpect() && dev.fencelab.protocol.scenario.StepExpectations.any(step.getExpect())
            || expectedFail.contains(o.getId()) || expectedWaits.contains(o.getId());
        if (hadChecks && x.record.getAborted().isEmpty()) { // what it expects was never checked: no pass (an abort says why)
          fail("not-checked", "step " + o.getId() + " (" + o.getAction() + (o.getSource().isEmpty() ? "" : ", " + o.getSource())
              + ") was skipped, a step it comes after having failed: its expectations were not checked", List.of());
        } else {
          facts.add("step " + o.getId() + " not checked: " + (x.record.getAborted().isEmpty()
              ? "skipped (a step it comes after failed)" : "not run (the run was aborted)"));
        }
        continue;
      }
      if (!o.getUnexpected().isEmpty()) {
        fail("expect", "step " + o.getId() + " (" + o.getAction() + (o.getSource().isEmpty() ? "" : ", " + o.getSource())
            + "): " + o.getUnexpected(), List.of(o.getDetail()));
        continue;
      }
      boolean failed = o.getStatus() != 0;
      if (failed && !expectedFail.contains(o.getId())) {
        fail("step", "step " + o.getId() + " (" + o.getAction() + ") failed: " + o.getDetail(), List.of());
      } else if (!failed && expectedFail.contains(o.getId())) {
        fail("step", "step " + o.getId() + " (" + o.getAction() + ") was expected to fail but succeeded: " + o.getDetail(), List.of());
      }
    }
    for (String note : x.record.getNotesList()) {
      facts.add(note);
    }
  }

  private void fencesOnce() {
    x.signals.forEach((fence, list) -> {
      if (list.size() > 1) {
        fail("signal-once", "fence " + fence + " completed " + list.size() + " times", list.stream()
            .map(e -> e.getNode() + " " + e.getTrack() + ": " + RunIndex.status(e.getStatus())).toList());
      }
    });
  }

  private void fencesEnded() {
    for (Map.Entry<String, TraceEvent> e : x.created.entrySet()) {
      String fence = e.getKey();
      if (x.signals.containsKey(fence) || x.released.contains(fence) || x.nodeDead(e.getValue().getNode())) {
        continue;
      }
      if (inStandingDeadlock(fence)) {
        facts.add("fence " + fence + " never signalled: part of the reported DEADLOCK");
        continue;
      }
      fail("no-pending-fence", "fence " + fence + " (" + e.getValue().getNode() + " " + e.getValue().getTrack()
          + ") never signalled", chain(fence));
    }
  }

  private void waitsEnded() {
    for (Map.Entry<String, TraceEvent> e : x.waitBegins.entrySet()) {
      TraceEvent begin = e.getValue();
      if (x.waitEnds.containsKey(e.getKey()) || x.nodeDead(begin.getNode())) {
        continue;
      }
      if (inStandingDeadlock(begin.getTrack(), begin.getFence())) {
        facts.add(begin.getNode() + " " + begin.getTrack() + " still waits on fence " + begin.getFence() + ": part of the reported DEADLOCK");
        continue;
      }
      fail("every-wait-ends", begin.getNode() + " " + begin.getTrack() + " (" + begin.getName() + ") still waits on fence "
          + begin.getFence(), chain(begin.getFence()));
    }
  }

  /** True if {@code from -> to} is an edge of a reported deadlock that nothing broke: that wait is the deadlock. */
  /** True if {@code vertex} (a fence) is on a reported deadlock's cycle that nothing broke. */
  private boolean inStandingDeadlock(String vertex) {
    return standingDeadlocks().stream().anyMatch(p -> java.util.Arrays.asList(p.split(" -> ")).contains(vertex));
  }

  private List<String> standingDeadlocks() {
    java.util.Set<String> broken = new java.util.HashSet<>();
    List<String> standing = new java.util.ArrayList<>();
    for (TraceEvent v : x.violations) {
      if (v.getName().equals("DEADLOCK_BROKEN_BY_TIMEOUT")) {
        broken.add(v.getSubject());
      }
    }
    for (TraceEvent v : x.violations) {
      if (v.getName().equals("DEADLOCK") && !broken.contains(v.getSubject())) {
        standing.add(v.getSubject());
      }
    }
    return standing;
  }

  private boolean inStandingDeadlock(String from, String to) {
    String edge = from + " -> " + to + " -> ";
    return standingDeadlocks().stream().anyMatch(p -> p.startsWith(edge) || p.contains(" -> " + edge) || p.endsWith(" -> " + from + " -> " + to));
  }

  private void deadDevices() {
    // Waiters of a fence whose node died before it signalled must see an error (ENODEV), never success or a timeout.
    for (Map.Entry<String, List<TraceEvent>> e : x.waitEndsByFence.entrySet()) {
      String fence = e.getKey();
      String owner = x.ownerNode(fence);
      if (owner == null || !x.nodeDead(owner) || x.signals.containsKey(fence)) {
        continue;
      }
      long died = x.killedAt.getOrDefault(owner, 0L); // the runner's NODE_DOWN, on its clock
      for (TraceEvent end : e.getValue()) {
        if (x.nodeDead(end.getNode()) || end.getDetail().equals("cancelled") || x.wall(end) < died) {
          continue; // a wait that ended before the node died saw a live fence
        }
        if (end.getStatus() >= 0) {
          fail("dead-device-fences", end.getNode() + " " + end.getTrack() + " saw fence " + fence + " of dead node " + owner
              + " end as " + RunIndex.status(end.getStatus()) + " (" + end.getDetail() + "), not with an error", List.of());
        }
      }
    }
    // Soft unplug: fences of the device that completed after the unplug began must carry an error.
    for (TraceEvent u : x.ofKind(EventKind.UNPLUG_BEGIN)) {
      String prefix = u.getTrack() + "/";
      long t = x.wall(u);
      for (Map.Entry<String, TraceEvent> c : x.created.entrySet()) {
        if (!c.getValue().getNode().equals(u.getNode()) || !(c.getValue().getTrack().startsWith(prefix))) {
          continue;
        }
        for (TraceEvent sig : x.signals.getOrDefault(c.getKey(), List.of())) {
          if (x.wall(sig) >= t && sig.getStatus() >= 0) {
            fail("dead-device-fences", "fence " + c.getKey() + " of unplugged " + u.getSubject() + " signalled without an error after the unplug",
                List.of());
          }
        }
      }
    }
    // A job whose dependency failed must fail with it (the scheduler propagates the error), not run.
    for (Map.Entry<String, RunIndex.Job> e : x.jobs.entrySet()) {
      RunIndex.Job job = e.getValue();
      if (job.deps == null || job.end == null) {
        continue;
      }
      for (String dep : job.deps.getDepsList()) {
        Integer st = x.finalStatus(dep);
        if (st != null && st < 0 && job.end.getStatus() > 0) {
          fail("error-propagation", "job " + job.end.getName() + " (" + job.end.getNode() + " " + job.end.getTrack()
              + ") completed successfully although its dependency " + dep + " failed with " + RunIndex.status(st), List.of());
        }
      }
    }
  }

  private void violations() {
    Set<String> expected = new HashSet<>(s.getExpect().getViolations().getExpectedList());
    Set<String> forbidden = new HashSet<>(s.getExpect().getViolations().getForbiddenList());
    Set<String> seen = new HashSet<>();
    for (TraceEvent v : x.violations) {
      seen.add(v.getName());
      List<String> subjects = s.getExpect().getViolations().getSubjectsList();
      String untagged = untagged(v.getSubject(), x.record.getTag());
      boolean subjectOk = subjects.isEmpty() || subjects.stream().anyMatch(x -> untagged.equals(x) || untagged.startsWith(x + "-"));
      if (!expected.contains(v.getName()) || forbidden.contains(v.getName()) || !subjectOk) {
        fail("no-violation", v.getName() + " on " + v.getNode() + ": " + v.getSubject()
            + (subjectOk ? "" : " (violations are expected only on " + subjects + ")"), List.of(v.getDetail()));
      }
    }
    for (String kind : expected) {
      if (!seen.contains(kind)) {
        fail("expected-violation", "expected a " + kind + " violation; none was recorded", List.of());
      } else {
        facts.add("expected violation " + kind + " recorded: " + x.violations.stream().filter(v -> v.getName().equals(kind))
            .map(v -> untagged(v.getSubject(), x.record.getTag()) + (v.getNode().equals("runner") ? "" : " (" + v.getNode() + ")"))
            .distinct().limit(3).collect(java.util.stream.Collectors.joining("; ")));
      }
    }
  }

  /** The last checksum of each buffer per point ({@code final} last). */
  private Map<String, BufferChecksum> finals() {
    Map<String, BufferChecksum> out = new HashMap<>();
    for (BufferChecksum c : x.record.getChecksumsList()) {
      if (c.getAt().equals("final")) {
        out.put(c.getBuffer(), c);
      }
    }
    return out;
  }

  private void intact() {
    if (!x.record.getAborted().isEmpty()) {
      return; // an aborted run takes no final checksums: there is nothing to compare
    }
    Map<String, BufferChecksum> finals = finals();
    for (var b : s.getBuffersList()) {
      String node = x.record.getDeviceNodesMap().get(b.getDevice());
      boolean survived = node != null && !x.nodeDead(node) && !x.record.getUnpluggedDevicesList().contains(b.getDevice());
      if (!survived) {
        continue;
      }
      BufferChecksum fin = finals.get(b.getName());
      if (fin == null || fin.getStatus() != 0) {
        fail("surviving-data", "buffer " + b.getName() + " on surviving " + b.getDevice() + " (" + node + ") could not be read at the end: "
            + (fin == null ? "no final checksum" : RunIndex.errno(fin.getStatus())), List.of());
        continue;
      }
      // Compare with its last checksum step, unless a job that writes it completed successfully after that step.
      BufferChecksum last = null;
      for (BufferChecksum c : x.record.getChecksumsList()) {
        if (c.getBuffer().equals(b.getName()) && !c.getAt().equals("final") && c.getStatus() == 0) {
          last = c;
        }
      }
      if (last == null) {
        continue;
      }
      boolean rewritten = false;
      for (StepOutcome o : x.record.getStepsList()) {
        if (o.getWritesList().contains(b.getName()) && o.getStatus() == 0 && !o.getFence().isEmpty()) {
          Integer st = x.finalStatus(o.getFence());
          TraceEvent end = x.jobs.containsKey(o.getFence()) ? x.jobs.get(o.getFence()).end : null;
          if (st != null && st == 1 && end != null && x.wall(end) > last.getWallNanos()) {
            rewritten = true;
          }
        }
      }
      if (!rewritten && !fin.getChecksum().equals(last.getChecksum())) {
        fail("surviving-data", "buffer " + b.getName() + " on surviving " + b.getDevice() + " changed without a successful writer: "
            + last.getChecksum() + " at step " + last.getAt() + ", " + fin.getChecksum() + " at the end", List.of());
      } else if (!rewritten) {
        facts.add("buffer " + b.getName() + " intact (" + fin.getChecksum() + ")");
      }
    }
  }

  // --- the scenario's expectations

  private void expectations() {
    Map<String, NamedFence> fences = new HashMap<>();
    x.record.getFencesList().forEach(f -> fences.put(f.getName(), f));
    Map<String, StepOutcome> steps = new HashMap<>();
    x.record.getStepsList().forEach(o -> steps.put(o.getId(), o));
    for (var fe : s.getExpect().getFencesList()) {
      String id = fences.containsKey(fe.getFence()) ? fences.get(fe.getFence()).getFence()
          : steps.containsKey(fe.getFence()) ? steps.get(fe.getFence()).getFence() : "";
      if (id.isEmpty()) {
        fail("expect.fences", "fence " + fe.getFence() + " was never created (its step failed or did not run)", List.of());
        continue;
      }
      Integer st = x.finalStatus(id);
      String got = st == null ? "unknown" : RunIndex.status(st);
      if (!matches(fe.getStatus(), st)) {
        fail("expect.fences", "fence " + fe.getFence() + " (" + id + ") ended " + got + ", expected " + fe.getStatus(),
            st != null && st == 0 ? chain(id) : List.of());
      } else {
        facts.add("fence " + fe.getFence() + " ended " + got + " as expected");
      }
    }
    for (var we : s.getExpect().getWaitsList()) {
      StepOutcome o = steps.get(we.getStep());
      if (o == null || !o.getIsWait()) {
        fail("expect.waits", "wait step " + we.getStep() + " did not run" + (o == null ? "" : ": " + o.getDetail()), List.of());
        continue;
      }
      String result = o.getWaitResult() > 0 ? "signaled" : o.getWaitResult() == 0 ? "timeout" : "error";
      if (!we.getResult().isEmpty() && !we.getResult().equals(result)) {
        fail("expect.waits", "wait " + we.getStep() + " ended " + result + ", expected " + we.getResult(), List.of(o.getDetail()));
      }
      if (!we.getStatus().isEmpty() && !matches(we.getStatus(), o.getWaitStatus())) {
        fail("expect.waits", "wait " + we.getStep() + " saw status " + RunIndex.status(o.getWaitStatus()) + ", expected " + we.getStatus(),
            List.of(o.getDetail()));
      }
    }
    Map<String, BufferChecksum> finals = finals();
    Map<String, BufferChecksum> latest = new HashMap<>();
    for (BufferChecksum c : x.record.getChecksumsList()) {
      if (c.getStatus() == 0) {
        latest.put(c.getBuffer(), c);
      }
    }
    finals.forEach((k, v) -> {
      if (v.getStatus() == 0) {
        latest.put(k, v);
      }
    });
    for (var ce : s.getExpect().getChecksumsList()) {
      List<String> eq = ce.getEqualList();
      for (String b : eq) {
        if (!latest.containsKey(b)) {
          fail("expect.checksums", "buffer " + b + " has no checksum (its device is gone or the checksum failed)", List.of());
        }
      }
      Set<String> values = new LinkedHashSet<>();
      eq.stream().filter(latest::containsKey).forEach(b -> values.add(latest.get(b).getChecksum()));
      if (values.size() > 1) {
        fail("expect.checksums", "buffers " + eq + " differ", eq.stream().filter(latest::containsKey)
            .map(b -> b + " = " + latest.get(b).getChecksum() + " (" + latest.get(b).getAt() + ")").toList());
      } else if (!eq.isEmpty() && values.size() == 1) {
        facts.add("buffers " + eq + " equal: " + values.iterator().next());
      }
      List<String> ne = ce.getUnequalList();
      Set<String> distinct = new HashSet<>();
      boolean all = true;
      for (String b : ne) {
        if (!latest.containsKey(b)) {
          all = false;
          fail("expect.checksums", "buffer " + b + " has no checksum", List.of());
        } else {
          distinct.add(latest.get(b).getChecksum());
        }
      }
      if (all && !ne.isEmpty() && distinct.size() < ne.size()) {
        fail("expect.checksums", "buffers " + ne + " were expected to differ", ne.stream()
            .map(b -> b + " = " + latest.get(b).getChecksum()).toList());
      }
    }
    for (var lb : s.getExpect().getLatencyList()) {
      Latencies.Stat stat = latencies.get(lb.getKind(), "model");
      long max = lb.getMax().isEmpty() ? Long.MAX_VALUE : Units.nanos(lb.getMax());
      long min = lb.getMin().isEmpty() ? 0 : Units.nanos(lb.getMin());
      if (stat == null || stat.count() == 0) {
        fail("expect.latency", "no " + lb.getKind() + " samples in model time", List.of());
        continue;
      }
      long v = stat.histogram().getValueAtPercentile(lb.getPercentile());
      String bound = (min > 0 ? "at least " + Units.human(min) : "") + (min > 0 && !lb.getMax().isEmpty() ? ", " : "")
          + (lb.getMax().isEmpty() ? "" : "at most " + Units.human(max));
      String line = lb.getKind() + " p" + fmt(lb.getPercentile()) + " = " + Units.human(v) + " model time";
      if (v > max) {
        fail("expect.latency", line + ", above the bound " + Units.human(max), List.of());
      } else if (v < min) {
        fail("expect.latency", line + ", below the bound " + Units.human(min), List.of());
      } else {
        facts.add(line + " (" + bound + ")");
      }
    }
  }

  private static String fmt(double p) {
    return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
  }

  private static boolean matches(String expected, Integer status) {
    if (status == null) {
      return false;
    }
    return switch (expected) {
      case "signaled" -> status == 1;
      case "error" -> status < 0;
      case "pending" -> status == 0;
      default -> status < 0 && RunIndex.errno(status).equals(expected);
    };
  }

  // --- wait-for chains

  /** Why {@code fence} is (or was) not signalled, link by link. */
  List<String> chain(String fence) {
    return chains.explain(fence);
  }

  /** A subject as the scenario names it: the run's tag ({@code -<tag>}) taken off every part (a run on a shared cluster tags names). */
  static String untagged(String subject, String tag) {
    return tag.isEmpty() ? subject : subject.replace("-" + tag, "");
  }
}
