package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Which steps may start: a step starts once every step it comes after has an outcome ({@link ScenarioSteps#dependencies});
 * it is skipped, not run, when one of them failed. Holds each step's outcome, in scenario order. A pure state
 * machine: the runner asks it and tells it.
 */
final class StepSchedule {
  private final List<List<Integer>> deps;
  private final StepOutcome[] outcomes;
  /** Per step: how many of the steps it comes after have no outcome yet. */
  private final int[] waitingFor;
  /** Per step: the steps that come after it. */
  private final List<List<Integer>> dependents = new ArrayList<>();
  /** Steps that may start, lowest index first. */
  private final java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
  private int done;

  StepSchedule(Scenario s) {
    this.deps = ScenarioSteps.dependencies(s);
    int n = s.getStepsCount();
    this.outcomes = new StepOutcome[n];
    this.waitingFor = new int[n];
    for (int i = 0; i < n; i++) {
      dependents.add(new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      waitingFor[i] = deps.get(i).size();
      for (int d : deps.get(i)) {
        dependents.get(d).add(i);
      }
      if (waitingFor[i] == 0) {
        ready.add(i);
      }
    }
  }

  /** A step that may start now (it leaves the ready set), or -1. */
  int next() {
    Integer i = ready.poll();
    return i == null ? -1 : i;
  }

  /** True if a step {@code i} comes after failed (it is to be skipped). */
  boolean blocked(int i) {
    return deps.get(i).stream().anyMatch(d -> outcomes[d] != null && outcomes[d].getStatus() != 0);
  }

  void done(int i, StepOutcome outcome) {
    if (outcomes[i] == null) {
      done++;
      for (int after : dependents.get(i)) {
        if (--waitingFor[after] == 0) {
          ready.add(after);
        }
      }
    }
    outcomes[i] = Objects.requireNonNull(outcome, "outcome");
  }

  /** Every step without an outcome, which will not run now (the run was aborted): skipped, saying why. */
  void abandon(String why, java.util.function.IntFunction<StepOutcome.Builder> outcome) {
    for (int i = 0; i < outcomes.length; i++) {
      if (outcomes[i] == null) {
        outcomes[i] = outcome.apply(i).setSkipped(true).setDetail(why).build();
        done++;
      }
    }
    ready.clear();
  }

  boolean allDone() {
    return done == outcomes.length;
  }

  int count() {
    return outcomes.length;
  }

  /** The outcomes so far, in scenario order. */
  List<StepOutcome> outcomes() {
    List<StepOutcome> out = new ArrayList<>();
    for (StepOutcome o : outcomes) {
      if (o != null) {
        out.add(o);
      }
    }
    return out;
  }

  /** Wall time per executed step (request to answer, as the runner saw it): median and 99th percentile, or "". */
  String stepTimes() {
    long[] times = Arrays.stream(outcomes).filter(o -> o != null && !o.getSkipped())
        .mapToLong(o -> o.getWallEndNanos() - o.getWallBeginNanos()).sorted().toArray();
    if (times.length == 0) {
      return "";
    }
    return String.format(" (per step: median %.2f ms, p99 %.2f ms)", times[times.length / 2] / 1e6,
        times[Math.min(times.length - 1, (int) Math.ceil(times.length * 0.99) - 1)] / 1e6);
  }
}
