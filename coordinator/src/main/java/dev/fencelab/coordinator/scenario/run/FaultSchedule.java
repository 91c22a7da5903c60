package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Fault;
import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The chaos schedule's faults and when each becomes due: at its time from the start of the steps, or that long after
 * the step it names ends. Each fires once. Arming goes through {@code arm} (index, delay): the run starts its timers.
 */
final class FaultSchedule {
  private final List<Fault> faults;
  private final boolean[] fired;
  private final boolean[] armed;
  private final BiConsumer<Integer, Duration> arm;

  FaultSchedule(List<Fault> faults, BiConsumer<Integer, Duration> arm) {
    this.faults = List.copyOf(faults);
    this.fired = new boolean[faults.size()];
    this.armed = new boolean[faults.size()];
    this.arm = arm;
  }

  /** Arms the faults due at a time (the steps start now). */
  void stepsStart() {
    for (int i = 0; i < faults.size(); i++) {
      if (faults.get(i).getAfterStep().isEmpty()) {
        arm(i);
      }
    }
  }

  /** Arms the faults due after step {@code id}. */
  void stepEnded(String id) {
    for (int i = 0; i < faults.size(); i++) {
      if (faults.get(i).getAfterStep().equals(id)) {
        arm(i);
      }
    }
  }

  private void arm(int i) {
    armed[i] = true;
    arm.accept(i, Duration.ofNanos(Units.nanos(faults.get(i).getAt())));
  }

  /** The fault to inject now, or null if it already fired. */
  Fault fire(int i) {
    if (fired[i]) {
      return null;
    }
    fired[i] = true;
    return faults.get(i);
  }

  /**
   * Once the steps are done: the faults that can no longer become due (their step never ran) are given up, each
   * reported to {@code never}; true while an armed fault has not fired yet (the run ends after it).
   */
  boolean pending(BiConsumer<Integer, Fault> never) {
    boolean waiting = false;
    for (int i = 0; i < faults.size(); i++) {
      if (fired[i]) {
        continue;
      }
      if (armed[i]) {
        waiting = true;
      } else {
        fired[i] = true;
        never.accept(i, faults.get(i));
      }
    }
    return waiting;
  }
}
