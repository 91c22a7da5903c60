package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A seeded-random chaos schedule is reproducible: the same seed gives the same schedule, another seed another one. */
class ChaosSeedIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  private JsonNode run(String seed, String tag) throws Exception {
    Path out = logs.track(TestCluster.newRunDir("seed-" + tag));
    LauncherIT.Run run = LauncherIT.fencelab("run", ScenarioLibraryIT.scenario("hot-unplug-exporter").toString(), "--seed", seed,
        "--out", out.toString(), LauncherIT.SERIALIZE_ON);
    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("#1 +") && run.stdout().contains("kill_node n1"), "the schedule is printed: " + run.all());
    assertTrue(Files.readString(out.resolve("trace.json")).contains("FAULT kill_node n1"), "the fault is in the trace");
    return new ObjectMapper().readTree(out.resolve("verdict.json").toFile()).get("fault_schedule");
  }

  @Test
  @Timeout(value = 480, unit = TimeUnit.SECONDS)
  void shouldDrawTheSameFaultScheduleForTheSameSeedAndAnotherForAnotherSeed() throws Exception {
    JsonNode first = run("7", "7a");
    JsonNode again = run("7", "7b");
    JsonNode other = run("8", "8");

    assertEquals(1, first.size(), first.toString());
    assertEquals(first, again, "same seed, same schedule");
    assertNotEquals(first, other, "another seed, another schedule");
  }
}
