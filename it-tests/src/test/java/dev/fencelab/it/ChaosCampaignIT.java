package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

  @Test
  @Timeout(value = 280, unit = TimeUnit.SECONDS)
  void aCampaignOfPassingRunsExitsZeroWithOneResultPerSeed() throws Exception {
    Path out = logs.track(TestCluster.newRunDir("campaign-pass"));
    LauncherIT.Run run = LauncherIT.fencelab("chaos", scenario("").toString(), "--seeds", "5..6", "--out", out.toString(),
        LauncherIT.SERIALIZE_ON);
    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("2 run(s): 2 PASS, 0 not PASS"), run.all());
    JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    assertEquals(2, summary.get("results").size(), summary.toString());
    assertEquals(5, summary.get("results").get(0).get("seed").asLong());
    assertTrue(Files.isRegularFile(out.resolve("seed-6").resolve("verdict.json")), "each seed keeps its run directory");
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
