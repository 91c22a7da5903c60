package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.Node;
import dev.fencelab.protocol.scenario.v1.RandomFaults;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class ChaosScheduleTest {
  private static Scenario random(int count, List<String> kinds, List<String> targets) {
    return Scenario.newBuilder().addNodes(Node.newBuilder().setName("n1")).addNodes(Node.newBuilder().setName("n2"))
        .addNodes(Node.newBuilder().setName("n3"))
        .setChaos(dev.fencelab.protocol.scenario.v1.Chaos.newBuilder().setRandom(RandomFaults.newBuilder().setCount(count)
            .addAllKinds(kinds).addAllTargets(targets).setFrom("1ms").setTo("9ms")))
        .build();
  }

  @Test
  void theSameSeedGivesTheSameSchedule() {
    Scenario s = random(3, List.of("kill_node", "hang"), List.of("n1", "n2", "gpu"));
    assertEquals(ChaosSchedule.plan(s, 7), ChaosSchedule.plan(s, 7));
  }

  @Test
  void anotherSeedGivesAnotherSchedule() {
    Scenario s = random(1, List.of("kill_node"), List.of("n1"));
    assertNotEquals(ChaosSchedule.plan(s, 7), ChaosSchedule.plan(s, 8));
  }

  @Test
  void randomKillsHitDistinctNodes() {
    Scenario s = random(2, List.of("kill_node"), List.of("n1", "n2", "n3"));
    LongStream.range(1, 200).forEach(seed -> {
      List<String> killed = ChaosSchedule.plan(s, seed).stream().map(Fault::getKillNode).toList();
      assertEquals(2, killed.stream().distinct().count(), "seed " + seed + ": " + killed);
    });
  }

  @Test
  void killsBeyondTheNodesThereAreAreDropped() {
    Scenario s = random(5, List.of("kill_node"), List.of("n1", "n2"));
    assertEquals(2, ChaosSchedule.plan(s, 3).size());
  }

  @Test
  void aDeviceMayHangMoreThanOnce() {
    Scenario s = random(4, List.of("hang"), List.of("gpu"));
    assertTrue(ChaosSchedule.plan(s, 5).stream().allMatch(f -> f.getHang().equals("gpu")));
    assertEquals(4, ChaosSchedule.plan(s, 5).size());
  }
}
