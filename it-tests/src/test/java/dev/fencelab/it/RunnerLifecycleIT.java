package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.deploy.local.ClusterManifest;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestClient;
import dev.fencelab.testkit.TestCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@code fencelab run} and the members it depends on: the members it started go when it goes, however it goes
 * (SIGKILL, SIGTERM); and a run whose own client member is downed fails within seconds, naming its log.
 */
class RunnerLifecycleIT {
  /** A leave takes a few seconds; an owner watch that did not fire would leave the members up for good. */
  private static final Duration GONE_BOUND = Duration.ofSeconds(45);

  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  /** A scenario that runs for two minutes unless stopped: the test acts while it runs. */
  private static Path longScenario() throws IOException {
    Path file = Files.createTempFile("long-run", ".yaml");
    Files.writeString(file, """
        name: long-run
        nodes: [{name: n1}]
        processes: [{name: p, node: n1}]
        steps:
          - {id: tl, process: p, timeline: {name: t}}
          - {id: hold, pause: {duration: 120s}}
        """);
    return file;
  }

  /** Starts {@code fencelab run} as its own JVM (as the launcher does: exec java -jar). */
  private static Process run(Path out, Path err, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-jar",
        TestCluster.jar().toString(), "run"));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
  }

  /** The live members of the local cluster a run started in {@code dir}, once it is running. */
  private static List<ClusterManifest.MemberEntry> runningMembers(Path dir, Process cli) {
    return Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
      assertTrue(cli.isAlive(), "the run ended before its cluster was up");
      return ClusterManifest.read(dir).filter(m -> m.state().equals(ClusterManifest.RUNNING)).map(ClusterManifest::liveMembers)
          .orElse(List.of());
    }, members -> members.size() == 2);
  }

  private static void assertAllGone(List<ClusterManifest.MemberEntry> members) {
    Awaitility.await().atMost(GONE_BOUND).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
        members.forEach(m -> assertTrue(m.process().isEmpty(), "member " + m.name() + " (pid " + m.pid() + ") is still running")));
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void theMembersOfARunGoWhenItsCommandIsKilled() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("owner-kill"));
    Process cli = run(Files.createTempFile("run", ".out"), Files.createTempFile("run", ".err"), longScenario().toString(),
        "--out", dir.toString());
    List<ClusterManifest.MemberEntry> members = runningMembers(dir, cli);

    cli.destroyForcibly(); // SIGKILL: no hook runs in the command

    assertAllGone(members);
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aTerminatedRunStopsItsMembersAndSaysSo() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("owner-term"));
    Path err = Files.createTempFile("run", ".err");
    Process cli = run(Files.createTempFile("run", ".out"), err, longScenario().toString(), "--out", dir.toString());
    List<ClusterManifest.MemberEntry> members = runningMembers(dir, cli);

    cli.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the command's shutdown runs

    assertTrue(cli.waitFor(60, TimeUnit.SECONDS), "the run did not exit after SIGTERM");
    assertAllGone(members);
    assertTrue(Files.readString(err, StandardCharsets.UTF_8).contains("interrupted: stopped the local cluster"),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void anInterruptedRunWritesItsReportWithWhatItHas() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("owner-int"));
    Path out = Files.createTempFile("run", ".out");
    Process cli = run(out, Files.createTempFile("run", ".err"), longScenario().toString(), "--out", dir.toString());
    runningMembers(dir, cli);
    Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
        Files.readString(out, StandardCharsets.UTF_8).contains("step tl")); // the run is under way

    cli.destroy(); // SIGTERM, as Ctrl-C's SIGINT

    assertTrue(cli.waitFor(60, TimeUnit.SECONDS), "the run did not exit after SIGTERM");
    JsonNode verdict = new ObjectMapper().readTree(dir.resolve("verdict.json").toFile());
    assertEquals("FAIL", verdict.get("verdict").asText());
    assertTrue(verdict.get("failures").toString().contains("run-aborted") && verdict.get("failures").toString().contains("interrupted"),
        verdict.get("failures").toString());
    assertTrue(Files.isRegularFile(dir.resolve("report.html")), "the report of what it had");
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aRunWhoseClientMemberIsDownedFailsWithinSecondsNamingItsLog() throws Exception {
    TestCluster cluster = logs.track(TestCluster.builder("runner-downed").nodes(1).start());
    var coordinator = cluster.member("coordinator");
    Path dir = logs.track(TestCluster.newRunDir("runner-downed-out"));
    Path err = Files.createTempFile("run", ".err");
    Path out = Files.createTempFile("run", ".out");
    Process cli = run(out, err, longScenario().toString(), "--out", dir.toString(),
        "--cluster", coordinator.host() + ":" + coordinator.port());
    Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
        Files.readString(out, StandardCharsets.UTF_8).contains("step tl")); // the run is under way
    try (TestClient client = TestClient.join(cluster)) {
      Cluster view = Cluster.get(client.testKit().system());
      String own = view.selfMember().address().toString();
      Member runner = Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
          java.util.stream.StreamSupport.stream(view.state().getMembers().spliterator(), false)
              .filter(m -> m.hasRole("client") && !m.address().toString().equals(own) && m.status().toString().equals("Up"))
              .findFirst().orElse(null), m -> m != null);

      view.manager().tell(Down.apply(runner.address()));

      assertTrue(cli.waitFor(30, TimeUnit.SECONDS), "the run did not end within 30 s of its client member being downed");
    }
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertEquals(1, cli.exitValue(), stderr);
    assertTrue(stderr.contains("error: this runner was removed from the cluster"), stderr);
    assertTrue(stderr.contains("log: ") && stderr.contains(".log"), stderr);
  }
}
