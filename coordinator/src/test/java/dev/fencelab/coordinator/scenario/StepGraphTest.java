package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepGraphTest {
  private static StepGraph graph(Step.Builder... steps) {
    Scenario.Builder s = Scenario.newBuilder();
    for (Step.Builder st : steps) {
      s.addSteps(st);
    }
    Scenario built = s.build();
    return new StepGraph(built, ScenarioSteps.dependencies(built));
  }

  @Test
  void aStepComesAfterEveryEarlierStepOfItsChain() {
    StepGraph g = graph(Step.newBuilder().setId("a"), Step.newBuilder().setId("b"), Step.newBuilder().setId("c"));
    assertTrue(g.before(0, 2));
    assertFalse(g.before(2, 0));
    assertFalse(g.before(1, 1));
  }

  @Test
  void aStepThatStartsAtOnceComesAfterNothing() {
    StepGraph g = graph(Step.newBuilder().setId("a"), Step.newBuilder().setId("b").setStartAtOnce(true));
    assertFalse(g.before(0, 1));
  }

  @Test
  void comesAfterFollowsAfterListsThroughOtherSteps() {
    StepGraph g = graph(Step.newBuilder().setId("a"), Step.newBuilder().setId("b").setStartAtOnce(true),
        Step.newBuilder().setId("c").addAfter("b"), Step.newBuilder().setId("d").addAfter("c").addAfter("a"));
    assertTrue(g.before(1, 3));
    assertTrue(g.before(0, 3));
    assertFalse(g.before(0, 2));
  }

  @Test
  void theFirstCycleIsGivenWithItsPath() {
    StepGraph g = graph(Step.newBuilder().setId("a").addAfter("b"), Step.newBuilder().setId("b").addAfter("a"));
    StepGraph.Cycle c = g.cycle();
    assertEquals(3, c.ids().size(), c.ids().toString());
    assertEquals(c.ids().get(0), c.ids().get(2), "a cycle ends where it starts: " + c.ids());
    assertTrue(c.ids().containsAll(List.of("a", "b")), c.ids().toString());
  }

  @Test
  void aHundredThousandStepChainHasNoCycleAndNeedsNoDeepStack() {
    Step.Builder[] steps = new Step.Builder[100_000];
    for (int i = 0; i < steps.length; i++) {
      steps[i] = Step.newBuilder().setId("s" + i);
    }
    StepGraph g = graph(steps);
    assertNull(g.cycle());
    assertTrue(g.before(0, 99_999));
  }
}
