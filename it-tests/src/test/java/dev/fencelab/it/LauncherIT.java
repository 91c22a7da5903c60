package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.deploy.local.ClusterManifest;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code ./fencelab cluster up/status/down} driven as a user drives it: through the launcher script. */
class LauncherIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  record Run(int exitCode, String stdout, String stderr) {
    String all() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  /** Runs the launcher script with a hard limit; the jar is already built by this reactor. */
  static Run fencelab(String... args) throws IOException, InterruptedException {
    String launcher = System.getProperty("fencelab.launcher");
    List<String> command = new ArrayList<>(List.of("bash", launcher));
    command.addAll(List.of(args));
    Path out = Files.createTempFile("fencelab-out", ".txt");
    Path err = Files.createTempFile("fencelab-err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectOutput(out.toFile())
        .redirectError(err.toFile());
    pb.environment().put("FENCELAB_NO_BUILD", "1");
    pb.environment().putIfAbsent("FENCELAB_MEMBER_JAVA_OPTS", TestCluster.SHORT_LIVED_JIT);
    Process p = pb.start();
    if (!p.waitFor(150, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("fencelab " + String.join(" ", args) + " did not finish within 150 s");
    }
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  static final String SERIALIZE_ON = "--jvm-opt=-Dpekko.actor.serialize-messages=on";

  @Test
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void shouldBringClusterUpReportStatusAndBringItDownThroughTheLauncher() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("launcher"));

    Run up = fencelab("cluster", "up", "--nodes", "2", "--dir", dir.toString(), SERIALIZE_ON);
    assertEquals(0, up.exitCode(), up.all());
    assertTrue(up.stdout().contains("is Up: 3 members formed in"), up.all());
    ClusterManifest manifest = ClusterManifest.read(dir).orElseThrow();
    assertEquals(3, manifest.liveMembers().size(), "three live member processes");

    Run status = fencelab("cluster", "status", "--dir", dir.toString(), "--json");
    assertEquals(0, status.exitCode(), status.all());
    JsonNode json = new ObjectMapper().readTree(status.stdout());
    assertEquals(3, json.get("members").size(), status.stdout());
    json.get("members").forEach(m -> assertEquals("Up", m.get("status").asText(), m.toString()));
    assertEquals(2, json.get("nodes").size(), status.stdout());
    json.get("nodes").forEach(n -> assertTrue(n.get("responded").asBoolean(), n.toString()));

    Run table = fencelab("cluster", "status", "--dir", dir.toString());
    assertEquals(0, table.exitCode(), table.all());
    assertTrue(table.stdout().lines().anyMatch(l -> l.startsWith("n1") && l.contains(" ms")), table.all());

    Run down = fencelab("cluster", "down", "--dir", dir.toString());
    assertEquals(0, down.exitCode(), down.all());
    assertTrue(down.stdout().contains("stopped 3 members"), down.all());
    manifest.members().forEach(m -> assertFalse(m.process().isPresent(), m.name() + " still running"));

    Run again = fencelab("cluster", "down", "--dir", dir.toString());
    assertEquals(0, again.exitCode(), again.all());
    assertTrue(again.stdout().contains("already down"), again.all());
  }

  @Test
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void shouldKillMemberThatIgnoresStopRequestAfterGracePeriod() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("launcher-grace"));
    Run up = fencelab("cluster", "up", "--nodes", "1", "--dir", dir.toString(), SERIALIZE_ON);
    assertEquals(0, up.exitCode(), up.all());
    ClusterManifest manifest = ClusterManifest.read(dir).orElseThrow();
    ClusterManifest.MemberEntry n1 = manifest.members().get(1);
    long frozen = n1.pid();
    // A stopped process cannot act on SIGTERM: it stands for a member that ignores the request.
    assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(frozen)).start().waitFor());

    Run down = fencelab("cluster", "down", "--dir", dir.toString(), "--grace", "2s");

    // The coordinator may be killed too: its graceful leave cannot converge while n1 is frozen.
    assertEquals(0, down.exitCode(), down.all());
    assertTrue(down.stdout().matches("(?s).*killed after the 2s grace period \\(.*n1.*\\).*"), down.all());
    manifest.members().forEach(m -> assertFalse(m.process().isPresent(), m.name() + " still running"));
  }

  @Test
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void shouldRefuseToStartASecondClusterInARunDirectoryThatHoldsARunningOne() throws Exception {
    Path dir = logs.track(TestCluster.newRunDir("launcher-twice"));
    assertEquals(0, fencelab("cluster", "up", "--nodes", "1", "--dir", dir.toString(), SERIALIZE_ON).exitCode());

    Run second = fencelab("cluster", "up", "--nodes", "1", "--dir", dir.toString());

    assertEquals(1, second.exitCode(), second.all());
    assertTrue(second.stderr().contains("already holds a running cluster"), second.all());
  }

  @Test
  void shouldExitWithUsageCodeOnUnknownCommandOrOption() throws Exception {
    Run unknownCommand = fencelab("teleport");
    Run unknownOption = fencelab("cluster", "up", "--warp-speed");

    assertEquals(2, unknownCommand.exitCode(), unknownCommand.all());
    assertTrue(unknownCommand.stderr().startsWith("error: Unmatched argument at index 0: 'teleport' (see 'fencelab --help')"),
        unknownCommand.all());
    assertTrue(!unknownCommand.stderr().contains("Usage:"), "one error line, not the whole help: " + unknownCommand.all());
    assertEquals(2, unknownOption.exitCode(), unknownOption.all());
    assertTrue(unknownOption.stderr().contains("Unknown option: '--warp-speed'"), unknownOption.all());
  }

  @Test
  void shouldFailStatusWithClearErrorWhenNoClusterRuns() throws Exception {
    Path dir = TestCluster.newRunDir("launcher-none");

    Run status = fencelab("cluster", "status", "--dir", dir.toString());

    assertEquals(1, status.exitCode(), status.all());
    assertTrue(status.stderr().startsWith("error: no cluster in " + dir), status.all());
  }

  @Test
  void shouldRejectMalformedConfigFileWithExitCode2NamingFileAndLine() throws Exception {
    Path bad = Files.createTempFile("bad", ".conf");
    Files.writeString(bad, "pekko {\n  cluster.roles = [node\n}\n");

    Run up = fencelab("cluster", "up", "--config", bad.toString(), "--dir", TestCluster.newRunDir("bad-config").toString());

    assertEquals(2, up.exitCode(), up.all());
    assertTrue(up.stderr().contains("malformed configuration file " + bad.toAbsolutePath() + ": 3:")
        || up.stderr().contains("malformed configuration file " + bad + ": 3:"), up.all());
  }

  @Test
  void shouldFailWithClearErrorWhenSeedIsUnreachable() throws Exception {
    Path dir = TestCluster.newRunDir("seedless");
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }

    Run node = fencelab("node", "--name", "lonely", "--port", "0", "--seed", "127.0.0.1:" + port,
        "--profile", "local", "--join-timeout", "3s", "--run-dir", dir.toString());

    assertEquals(1, node.exitCode(), node.all());
    assertTrue(node.stderr().contains("error: member lonely could not join the cluster through [pekko://fencelab@127.0.0.1:" + port + "] within 3 s"), node.all());
    assertTrue(node.stderr().contains("log: " + dir.resolve("lonely.log")), node.all());
  }
}
