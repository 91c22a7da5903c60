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
  private final boolean[] started;
  private int done;

  StepSchedule(Scenario s) {
    this.deps = ScenarioSteps.dependencies(s);
    this.outcomes = new StepOutcome[s.getStepsCount()];
    this.started = new boolean[s.getStepsCount()];
  }

  /** A step that may start now (marked started), or -1. */
  int next() {
    for (int i = 0; i < outcomes.length; i++) {
      if (!started[i] && deps.get(i).stream().allMatch(d -> outcomes[d] != null)) {
        started[i] = true;
        return i;
      }
    }
    return -1;
  }

  /** True if a step {@code i} comes after failed (it is to be skipped). */
  boolean blocked(int i) {
    return deps.get(i).stream().anyMatch(d -> outcomes[d] != null && outcomes[d].getStatus() != 0);
  }

  void done(int i, StepOutcome outcome) {
    if (outcomes[i] == null) {
      done++;
    }
    outcomes[i] = Objects.requireNonNull(outcome, "outcome");
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
