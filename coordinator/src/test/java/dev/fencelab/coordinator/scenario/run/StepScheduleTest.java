package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import org.junit.jupiter.api.Test;

class StepScheduleTest {
  private static Scenario scenario(Step.Builder... steps) {
    Scenario.Builder s = Scenario.newBuilder();
    for (Step.Builder st : steps) {
      s.addSteps(st);
    }
    return s.build();
  }

  private static StepOutcome ok() {
    return StepOutcome.newBuilder().setStatus(0).build();
  }

  @Test
  void aStepWithoutAfterStartsOnlyOnceThePreviousOneHasAnOutcome() {
    StepSchedule schedule = new StepSchedule(scenario(Step.newBuilder().setId("a"), Step.newBuilder().setId("b")));
    assertEquals(0, schedule.next());
    assertEquals(-1, schedule.next());
    schedule.done(0, ok());
    assertEquals(1, schedule.next());
  }

  @Test
  void stepsThatStartAtOnceAreAllReadyTogether() {
    StepSchedule schedule = new StepSchedule(scenario(Step.newBuilder().setId("a"), Step.newBuilder().setId("b").setStartAtOnce(true)));
    assertEquals(0, schedule.next());
    assertEquals(1, schedule.next());
  }

  @Test
  void aStepAfterAFailedStepIsBlocked() {
    StepSchedule schedule = new StepSchedule(scenario(Step.newBuilder().setId("a"), Step.newBuilder().setId("b").addAfter("a")));
    schedule.next();
    schedule.done(0, StepOutcome.newBuilder().setStatus(-22).build());
    assertEquals(1, schedule.next());
    assertTrue(schedule.blocked(1));
  }

  @Test
  void theRunIsDoneWhenEveryStepHasAnOutcome() {
    StepSchedule schedule = new StepSchedule(scenario(Step.newBuilder().setId("a"), Step.newBuilder().setId("b")));
    schedule.done(schedule.next(), ok());
    assertFalse(schedule.allDone());
    schedule.done(schedule.next(), ok());
    assertTrue(schedule.allDone());
    assertEquals(2, schedule.outcomes().size());
  }
}
