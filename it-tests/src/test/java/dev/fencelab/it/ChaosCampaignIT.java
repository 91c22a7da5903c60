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

/** {@code fencelab chaos}: seeded runs, a verdict per seed, the replay command of each failing one, the exit code. */
class ChaosCampaignIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  private static Path scenario(String extra) throws Exception {
    Path file = Files.createTempFile("campaign", ".yaml");
    Files.writeString(file, """
        name: campaign
        nodes: [{name: n1}]
        processes: [{name: p, node: n1}]
        steps:
          - {id: tl, process: p, timeline: {name: t}}
          - {id: pt, process: p, point: {timeline: t, value: 1, as: f}}
          - {id: inc, process: p, inc: {timeline: t, by: 1}}
          - {id: w, process: p, wait: {fence: f, timeout: 5s}, expect: {result: signaled}}
        """ + extra);
    return file;
  }

  /**
   * A campaign's run of a seed carries out the schedule that seed draws (printed, in the trace, in the verdict), and
   * keeps one result per seed; that a seed always draws the same schedule is the pure function's ({@code ChaosScheduleTest}).
   */
  @Test
  @Timeout(value = 280, unit = TimeUnit.SECONDS)
  void aCampaignRunsEachSeedsDrawnScheduleAndKeepsOneResultPerSeed() throws Exception {
    Path scenario = ScenarioLibraryIT.scenario("hot-unplug-exporter");
    Path out = logs.track(TestCluster.newRunDir("campaign-pass"));
    LauncherIT.Run run = LauncherIT.fencelab("chaos", scenario.toString(), "--seeds", "7..7", "--out", out.toString(),
        LauncherIT.SERIALIZE_ON);
    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("1 run(s): 1 PASS, 0 not PASS"), run.all());
    JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    assertEquals(1, summary.get("results").size(), summary.toString());
    assertEquals(7, summary.get("results").get(0).get("seed").asLong());
    Path seed = out.resolve("seed-7");
    List<String> drawn = ChaosSchedule.plan(ScenarioLoader.load(scenario).scenario(), 7).stream().map(ChaosSchedule::describe).toList();
    assertEquals(1, drawn.size(), drawn.toString());
    assertTrue(Files.readString(seed.resolve("console.txt")).contains("#1 " + drawn.get(0)), "the schedule is printed: " + drawn);
    assertTrue(Files.readString(seed.resolve("trace.json")).contains("FAULT kill_node n1"), "the fault is in the trace");
    JsonNode recorded = new ObjectMapper().readTree(seed.resolve("verdict.json").toFile()).get("fault_schedule");
    assertEquals(List.of(drawn.get(0)), List.of(recorded.get(0).asText()), "the verdict records the drawn schedule");
  }

  @Test
  @Timeout(value = 280, unit = TimeUnit.SECONDS)
  void aFailingSeedIsListedWithItsReplayCommandAndTheCampaignExitsOne() throws Exception {
    Path out = logs.track(TestCluster.newRunDir("campaign-fail"));
    Path file = scenario("expect: {steps_fail: [inc]}\n"); // inc succeeds: every run FAILs
    LauncherIT.Run run = LauncherIT.fencelab("chaos", file.toString(), "--runs", "1", "--out", out.toString(), LauncherIT.SERIALIZE_ON);
    assertEquals(1, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("fencelab run " + file + " --seed 1"), run.all());
    assertTrue(run.stdout().contains("[step] step inc (inc) was expected to fail"), run.all());
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aSeedRangeBackwardsIsBadInput() throws Exception {
    LauncherIT.Run run = LauncherIT.fencelab("chaos", scenario("").toString(), "--seeds", "9..3");
    assertEquals(2, run.exitCode(), run.all());
    assertTrue(run.stderr().startsWith("error: --seeds 9..3"), run.all());
  }
}
