package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.coordinator.scenario.ChaosSchedule;
import dev.fencelab.coordinator.scenario.ScenarioLoader;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A seeded-random chaos schedule, as a run carries it out: {@code --seed N} runs exactly the schedule the seed draws
 * (printed, in the trace, in the verdict). That the same seed draws the same schedule and another seed another one is
 * a property of the pure function, tested in {@code ChaosScheduleTest}.
 */
class ChaosSeedIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aRunWithASeedCarriesOutTheScheduleThatSeedDraws() throws Exception {
    Path scenario = ScenarioLibraryIT.scenario("hot-unplug-exporter");
    Path out = logs.track(TestCluster.newRunDir("seed-7"));
    LauncherIT.Run run = LauncherIT.fencelab("run", scenario.toString(), "--seed", "7", "--out", out.toString(), LauncherIT.SERIALIZE_ON);

    assertEquals(0, run.exitCode(), run.all());
    List<String> drawn = ChaosSchedule.plan(ScenarioLoader.load(scenario).scenario(), 7).stream().map(ChaosSchedule::describe).toList();
    assertEquals(1, drawn.size(), drawn.toString());
    assertTrue(run.stdout().contains("#1 " + drawn.get(0)), "the schedule is printed: " + drawn + "\n" + run.all());
    assertTrue(Files.readString(out.resolve("trace.json")).contains("FAULT kill_node n1"), "the fault is in the trace");
    JsonNode recorded = new ObjectMapper().readTree(out.resolve("verdict.json").toFile()).get("fault_schedule");
    assertEquals(1, recorded.size(), recorded.toString());
    assertEquals(drawn.get(0), recorded.get(0).asText(), "the verdict records the drawn schedule");
  }
}
