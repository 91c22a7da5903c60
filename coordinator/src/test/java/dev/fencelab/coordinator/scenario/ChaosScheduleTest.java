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

  @Test
  void aRandomPartitionCutsTheDrawnNodeOffFromEveryOtherNodeOnceForADrawnTime() {
    Scenario s = random(3, List.of("partition"), List.of("n1", "n2", "n3")).toBuilder()
        .setChaos(random(3, List.of("partition"), List.of("n1", "n2", "n3")).getChaos().toBuilder()
            .setRandom(random(3, List.of("partition"), List.of("n1", "n2", "n3")).getChaos().getRandom().toBuilder().setForFrom("2s").setForTo("4s")))
        .build();
    List<Fault> plan = ChaosSchedule.plan(s, 11);
    assertEquals(1, plan.size(), "at most one partition a run: " + plan);
    var p = plan.get(0).getPartition();
    assertEquals(1, p.getBetween(0).getNodesCount());
    assertEquals(2, p.getBetween(1).getNodesCount());
    assertTrue(!p.getBetween(1).getNodesList().contains(p.getBetween(0).getNodes(0)), p.toString());
    long lasts = dev.fencelab.protocol.scenario.Units.nanos(p.getFor());
    assertTrue(lasts >= 2_000_000_000L && lasts <= 4_000_000_000L, p.getFor());
  }

  @Test
  void aRandomLinkDelayJoinsTheDrawnNodeAndAnotherWithTheGivenLatency() {
    Scenario s = random(5, List.of("link_delay"), List.of("n1", "n2", "n3"));
    for (Fault f : ChaosSchedule.plan(s, 4)) {
      assertEquals(2, f.getLinkDelay().getBetweenList().stream().distinct().count(), f.toString());
      assertEquals("1ms", f.getLinkDelay().getLatency());
    }
    assertEquals(5, ChaosSchedule.plan(s, 4).size(), "a link may be delayed again");
  }

  @Test
  void theCoordinatorIsKilledAtMostOnceAndNeedsNoTarget() {
    Scenario s = random(4, List.of("kill_coordinator"), List.of());
    assertEquals(1, ChaosSchedule.plan(s, 2).size());
    assertTrue(ChaosSchedule.plan(s, 2).get(0).getKillCoordinator());
  }

  @Test
  void aRandomPauseNamesItsNodeAndLengthWhenDescribed() {
    Scenario s = random(1, List.of("pause_node"), List.of("n2"));
    String line = ChaosSchedule.describe(ChaosSchedule.plan(s, 9).get(0));
    assertTrue(line.contains("pause_node n2 for "), line);
  }

  @Test
  void addingTheNewKindsLeavesTheSchedulesOfTheOldOnesAsTheyWere() {
    Scenario s = random(2, List.of("kill_node"), List.of("n1", "n2", "n3"));
    assertEquals("[+2.19ms after start: kill_node n3, +4.34ms after start: kill_node n1]",
        ChaosSchedule.plan(s, 42).stream().map(ChaosSchedule::describe).toList().toString());
  }
}
