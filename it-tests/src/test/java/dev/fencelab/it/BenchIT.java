package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code fencelab bench fences}, {@code rdma} and {@code scale} run end to end on a real cluster and report every figure
 * with its raw-Pekko baseline in the documented JSON shape. It checks shape only: speed is measured, never asserted.
 */
class BenchIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void shouldReportEveryFenceFigureWithItsRawPekkoBaselineAsJson() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("bench"));
    Path json = dir.resolve("fences.json");

    LauncherIT.Run run = LauncherIT.fencelab("bench", "fences", "--dir", dir.toString(), "--json", json.toString(),
        "--iterations", "200", "--waiters", "100", "--cross", "700", "--pending", "50000", "--member-heap", "1g"); // 700 waits: two pages of the peer's list; 50,000 fences: the heap figure above the noise of a full GC's reading (±10 MB once)

    assertEquals(0, run.exitCode(), run.all());
    JsonNode doc = new ObjectMapper().readTree(json.toFile());
    assertEquals(2, doc.get("machine").get("nodes").asInt());
    Set<String> names = new HashSet<>();
    for (JsonNode f : doc.get("figures")) {
      names.add(f.get("name").asText());
      assertTrue(f.get("baseline").asDouble() > 0, "a raw baseline for " + f);
      assertTrue(Double.isFinite(f.get("ratio").asDouble()), f.toString());
      assertTrue(f.has("unit") && f.has("higherIsBetter") && f.has("value"), f.toString());
    }
    for (String expected : new String[] {"local.wake.1waiter.p50", "local.signal.100waiters.rate", "local.fences.created_signalled.rate",
        "local.signal.pipelined.rate",
        "cross.signal_wake_roundtrip.p50", "cross.signal_wake.rate", "heap.bytes_per_pending_fence"}) {
      assertTrue(names.contains(expected), expected + " in " + names);
    }
    assertTrue(run.stdout().contains("RAW PEKKO"), run.all());
    assertTrue(run.stdout().contains("n1's log lists every round (" + dir.resolve("n1.log") + ")"), run.all());
  }

  /** One run stands for both: the rdma suite's figures, measured over plaintext and then over mutual TLS ({@code --tls-cost}). */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void shouldReportTheRdmaFiguresOverPlaintextAndOverTlsWithWhatTlsCostsEach() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("bench-rdma"));
    Path json = dir.resolve("rdma.json");

    LauncherIT.Run run = LauncherIT.fencelab("bench", "rdma", "--tls-cost", "--dir", dir.toString(), "--json", json.toString(),
        "--rdma-mib", "1", "--rdma-writes", "2", "--small", "100", "--member-heap", "1g");

    assertEquals(0, run.exitCode(), run.all());
    JsonNode doc = new ObjectMapper().readTree(json.toFile());
    assertEquals("tls-tcp", doc.get("transport").asText());
    for (String list : List.of("figures", "plaintextFigures")) {
      Set<String> names = new HashSet<>();
      for (JsonNode f : doc.get(list)) {
        names.add(f.get("name").asText());
        assertTrue(f.get("value").asDouble() > 0 && f.get("baseline").asDouble() > 0, "a figure and its raw baseline: " + f);
      }
      assertEquals(Set.of("rdma.write.throughput", "rdma.write.small.rate"), names, list);
    }
    String table = run.stdout().substring(run.stdout().indexOf("TLS AGAINST PLAINTEXT"));
    assertTrue(table.lines().anyMatch(l -> l.matches("rdma\\.write\\.throughput(\\s+[\\d,.]+){6}")), table);
    assertTrue(table.lines().anyMatch(l -> l.matches("rdma\\.write\\.small\\.rate(\\s+[\\d,.]+){6}")), table);
    assertTrue(java.nio.file.Files.readString(dir.resolve("n1.log")).contains("Remoting started with transport [Artery tls-tcp]"),
        "the second run's members spoke TLS");
  }

  /** The scale suite at toy size: every member holds its share of the pending fences; the chain's head wakes the peer. */
  @Test
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void shouldHoldPendingFencesOnEveryMemberAndWakeTheChainHeadsRemoteWaiter() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("bench-scale"));
    Path json = dir.resolve("scale.json");

    LauncherIT.Run run = LauncherIT.fencelab("bench", "scale", "--nodes", "2", "--pending", "2001", "--chain", "200", "--dir",
        dir.toString(), "--json", json.toString(), "--member-heap", "512m");

    assertEquals(0, run.exitCode(), run.all());
    java.util.Map<String, Double> figures = new java.util.HashMap<>();
    for (JsonNode f : new ObjectMapper().readTree(json.toFile()).get("figures")) {
      figures.put(f.get("name").asText(), f.get("value").asDouble());
    }
    assertEquals(1001.0, figures.get("scale.pending.n1.fences"), figures.toString());
    assertEquals(1000.0, figures.get("scale.pending.n2.fences"), figures.toString());
    assertEquals(2001.0, figures.get("scale.pending.total.fences"), figures.toString());
    assertTrue(figures.get("scale.pending.n2.heap_used") > 0, figures.toString());
    assertEquals(200.0, figures.get("scale.chain.points"), figures.toString());
    assertEquals(1.0, figures.get("scale.chain.remote_wait.status"), "the head signalled without an error: " + figures);
    assertTrue(run.stdout().lines().anyMatch(l -> l.matches("scale\\.chain\\.signal_to_remote_wake\\s+[\\d,.]+\\s+-\\s+-\\s+ms")),
        run.all());
  }

  @Test
  void shouldRejectUnknownSuiteWithExitCode2() throws Exception {
    LauncherIT.Run run = LauncherIT.fencelab("bench", "teleports");

    assertEquals(2, run.exitCode(), run.all());
    assertTrue(run.stderr().contains("unknown benchmark suite 'teleports'"), run.all());
  }
}
