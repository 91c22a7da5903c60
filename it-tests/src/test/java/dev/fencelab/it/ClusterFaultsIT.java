package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The faults of the cluster itself, as a user runs their bundled scenarios ({@code fencelab run}, its own cluster of
 * real JVMs, {@code serialize-messages = on}): a member stopped with SIGSTOP, a partition at Artery's transport, the
 * coordinator killed. Each scenario's expectations (fence and wait statuses, steps that must fail) are the verdict's;
 * these tests add what only the run's output and the members' logs show.
 */
class ClusterFaultsIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aPausedNodeTheClusterDownedLeavesWhenItRunsAgainWhileAShortPauseLosesNothing() throws Exception {
    Path out = logs.track(TestCluster.newRunDir("node-paused"));
    LauncherIT.Run run = LauncherIT.fencelab("run", ScenarioLibraryIT.scenario("node-paused").toString(), "--out", out.toString(),
        LauncherIT.SERIALIZE_ON);

    assertEquals(0, run.exitCode(), run.all()); // verdict PASS: fenceA signalled after the short pause, fenceC -ENODEV
    ScenarioLibraryIT.outputs("node-paused", out);
    assertTrue(run.stdout().contains("FAULT kill_coordinator (SIGKILL pid"), run.all());
    assertTrue(run.stdout().contains("NODE_DOWN n3 (removed by the cluster"), run.all());
    assertTrue(run.stdout().contains("RESUMED n3 (SIGCONT after 15.00s (the cluster had removed it meanwhile))"), run.all());
    assertTrue(!run.stdout().contains("NODE_DOWN n1"), "a 1.5 s pause is not a failure: " + run.all());
    String n3 = Files.readString(out.resolve("n3.log"));
    assertTrue(n3.contains("Running CoordinatedShutdown with reason [ClusterDowningReason]"),
        "n3 left the cluster by itself once it ran again:\n" + n3);
    assertTrue(run.stdout().contains("stopped the local cluster (2 members)"), "only n1 and n2 were left to stop: " + run.all());
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aPartitionedMinorityIsDownedByTheSplitBrainResolverAndAStepHeldForItFailsWithEnodev() throws Exception {
    Path out = logs.track(TestCluster.newRunDir("partition-minority"));
    LauncherIT.Run run = LauncherIT.fencelab("run", ScenarioLibraryIT.scenario("partition-minority").toString(), "--out",
        out.toString(), LauncherIT.SERIALIZE_ON);

    assertEquals(0, run.exitCode(), run.all()); // verdict PASS: fences -ENODEV, late-submit and map-revoked failed
    ScenarioLibraryIT.outputs("partition-minority", out);
    assertTrue(run.stdout().contains("holding a step for n1 until the partition heals"), run.all());
    assertTrue(run.stdout().contains("NODE_DOWN n1 (removed by the cluster"), run.all());
    String n1 = Files.readString(out.resolve("n1.log"));
    // the failure detector saw the partition (heartbeats were dropped too) and n1's own resolver downed its side
    assertTrue(n1.contains("Marking node as UNREACHABLE"), n1);
    assertTrue(n1.contains("SBR took decision DownReachable"), n1);
    assertTrue(run.stdout().contains("from 2 live node(s); killed: [n1]"), "the majority side stays: " + run.all());
  }
}
