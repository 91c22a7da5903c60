package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import java.util.List;

/**
 * Every bundled scenario, run as a user runs it on real JVMs with {@code serialize-messages = on}: the verdict is PASS,
 * and every output file is there and well formed — a Chrome trace with a process track per node, flow arrows where a
 * signal woke a waiter, the latency tables, the report, the verdict. Scenarios that kill a member each get a cluster of
 * their own ({@code ./fencelab run scenarios/X.yaml --out DIR}, with the members' logs); the others share one realtime
 * cluster, one after the other ({@code --cluster}), as users run a library on a long-lived cluster (a run's node memory
 * limit ends with it). The signalling-section variants ({@code scenarios/signalling/}) run there as one batch.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScenarioLibraryIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs(false); // the shared cluster outlives each case
  private TestCluster shared;

  @AfterAll
  void stop() {
    stopShared();
  }

  private void stopShared() {
    if (shared != null) {
      shared.close();
      shared = null;
    }
  }

  static Path scenario(String name) {
    return Path.of(System.getProperty("fencelab.repo", ".."), "scenarios", name + ".yaml").toAbsolutePath().normalize();
  }

  /** The bundled scenarios that kill no member: one batch on the shared realtime cluster, as a user runs a library. */
  static final List<String> SHARED = List.of("pipeline-two-gpus", "soft-unplug", "gpu-reset", "sync-file-across-processes",
      "resv-replace-hazard", "userptr-policies", "oom-reaper-nonblock", "userptr-revalidate-in-signalling", "indefinite-fence-reclaim",
      "link-delay");

  @Test
  @Order(1)
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void theBundledScenariosOfASharedClusterPassWithEveryOutputFile() throws Exception {
    Path out = logs.track(TestCluster.newRunDir("library"));
    var coordinator = shared().member("coordinator");
    List<String> args = new java.util.ArrayList<>(List.of("run"));
    SHARED.forEach(n -> args.add(scenario(n).toString()));
    args.addAll(List.of("--out", out.toString(), "--cluster", coordinator.host() + ":" + coordinator.port()));
    LauncherIT.Run run = LauncherIT.fencelab(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains(SHARED.size() + " passed, 0 failed"), run.all());
    try (var dirs = Files.list(out)) {
      List<Path> each = dirs.filter(Files::isDirectory).sorted().toList();
      assertEquals(SHARED.size(), each.size(), each.toString());
      for (Path d : each) {
        outputs(d.getFileName().toString(), d);
      }
    }
  }

  private TestCluster shared() throws Exception {
    if (shared == null) {
      shared = TestCluster.builder("library").nodes(3).jvmOption("-Dfencelab.device.pacing=realtime").start();
      logs.track(shared.dir());
    }
    return shared;
  }

  @Test
  @Order(1)
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void eachSignallingVariantIsReportedByLockdepAndItsFixedTwinIsClean() throws Exception {
    Path dir = scenario("signalling/x").getParent();
    Path out = logs.track(TestCluster.newRunDir("signalling"));
    var coordinator = shared().member("coordinator");
    LauncherIT.Run run = LauncherIT.fencelab("run", dir.toString(), "--out", out.toString(),
        "--cluster", coordinator.host() + ":" + coordinator.port());
    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("17 passed, 0 failed"), run.all()); // 10 scenarios, and d1-mitigations' 7 variants
    assertTrue(run.stdout().contains("[preallocated]") && run.stdout().contains("reported: nothing"), run.all());
    ObjectMapper json = new ObjectMapper();
    try (var dirs = Files.list(out)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        JsonNode verdict = json.readTree(d.resolve("verdict.json").toFile());
        assertEquals("PASS", verdict.get("verdict").asText(), d + ": " + verdict.toPrettyString());
        if (!d.getFileName().toString().contains("mitigations")) { // the matrix's variants carry their own expectations
          boolean reported = verdict.get("facts").toString().contains("expected violation SIGNALLING_");
          assertEquals(!d.getFileName().toString().endsWith("fixed"), reported, d + ": " + verdict.get("facts"));
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  // demo: MultiHostTlsIT (through run --cluster) and CI's ./fencelab demo; hot-unplug-exporter: ChaosCampaignIT; the cluster
  // faults: ClusterFaultsIT
  @ValueSource(strings = {"hmm-unplug-soft-vs-hard"})
  @Order(2)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void aBundledScenarioThatKillsAMemberPassesOnItsOwnClusterWithEveryOutputFile(String name) throws Exception {
    stopShared(); // two clusters side by side on two cores only make start-ups flaky
    Path out = logs.track(TestCluster.newRunDir("scenario-" + name));
    LauncherIT.Run run = LauncherIT.fencelab("run", scenario(name).toString(), "--out", out.toString(), LauncherIT.SERIALIZE_ON);
    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("verdict: PASS"), run.all());
    outputs(name, out);
    assertTrue(Files.isRegularFile(out.resolve("n1.log")) && Files.isRegularFile(out.resolve("n2.log")), "per-node logs");
  }

  static void outputs(String name, Path out) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode verdict = json.readTree(out.resolve("verdict.json").toFile());
    assertEquals("PASS", verdict.get("verdict").asText(), verdict.toPrettyString());
    JsonNode trace = json.readTree(out.resolve("trace.json").toFile());
    Set<String> processes = new HashSet<>();
    boolean flowStart = false;
    boolean flowEnd = false;
    for (JsonNode e : trace.get("traceEvents")) {
      if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("process_name")) {
        processes.add(e.get("args").get("name").asText());
      }
      flowStart |= e.get("ph").asText().equals("s");
      flowEnd |= e.get("ph").asText().equals("f");
    }
    assertTrue(processes.contains("node n1") && processes.contains("node n2"), "a process track per node: " + processes);
    boolean waits = false;
    for (JsonNode step : verdict.get("steps")) {
      waits |= step.get("action").asText().equals("wait") && step.get("status").asText().equals("ok")
          && !step.get("detail").asText().contains("(-"); // a wait that ended with an error had no signal to draw from
    }
    if (waits) { // waits inside the kernel (an invalidate callback's) have arrows too, so only this direction is a rule
      assertTrue(flowStart && flowEnd, "signal -> waiter flow arrows in " + name);
    }
    assertTrue(trace.get("otherData").get("clock_alignment").has("n1"), "clock alignment recorded");
    assertTrue(json.readTree(out.resolve("trace-wall.json").toFile()).get("traceEvents").size() > 0);
    assertTrue(Files.readString(out.resolve("latency.txt")).contains("p99"), "latency table");
    JsonNode latencies = json.readTree(out.resolve("latency.json").toFile()).get("latencies");
    assertTrue(latencies != null && latencies.isArray(), "latency json"); // empty when nothing completed (a standing deadlock)
    String report = Files.readString(out.resolve("report.html"));
    assertTrue(report.contains("PASS"), "report with the verdict");
    assertEquals(latencies.size() > 0, report.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"latency\""),
        "latency plots exactly when something completed");
    assertTrue(report.contains("class=\"timeline\"") && report.contains("class=\"bar "), "a timeline with its slices in " + name);
  }
}
