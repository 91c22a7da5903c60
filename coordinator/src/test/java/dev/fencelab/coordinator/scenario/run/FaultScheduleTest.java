package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.Fault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
  private final List<String> armed = new ArrayList<>();
  private final FaultSchedule schedule = new FaultSchedule(List.of(
      Fault.newBuilder().setAt("2ms").setUnplug("gpuA").build(),
      Fault.newBuilder().setAt("5ms").setAfterStep("copy").setKillNode("n2").build()),
      (i, delay) -> armed.add(i + "@" + delay.toMillis()));

  @Test
  void aTimedFaultIsArmedWhenTheStepsStartAndAStepFaultWhenItsStepEnds() {
    schedule.stepsStart();
    assertEquals(List.of("0@2"), armed);
    schedule.stepEnded("copy");
    assertEquals(List.of("0@2", "1@5"), armed);
  }

  @Test
  void aFaultFiresOnce() {
    schedule.stepsStart();
    assertEquals("gpuA", schedule.fire(0).getUnplug());
    assertNull(schedule.fire(0));
  }

  @Test
  void aFaultWhoseStepNeverRanIsGivenUpAndReported() {
    schedule.stepsStart();
    schedule.fire(0);
    List<Integer> never = new ArrayList<>();
    assertFalse(schedule.pending((i, f) -> never.add(i)));
    assertEquals(List.of(1), never);
  }

  @Test
  void theRunWaitsForAnArmedFaultThatHasNotFired() {
    schedule.stepsStart();
    assertTrue(schedule.pending((i, f) -> {}));
    assertEquals(Duration.ofMillis(2).toMillis(), Long.parseLong(armed.get(0).split("@")[1]));
  }
}
