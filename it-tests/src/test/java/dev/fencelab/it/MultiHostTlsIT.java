package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.deploy.local.StatusClient;
import dev.fencelab.deploy.tls.ClusterCerts;
import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster as on several machines: the coordinator on 127.0.0.2, the nodes on 127.0.0.3 and 127.0.0.4, the runner's
 * client on 127.0.0.5 — so any address hard-coded to 127.0.0.1 breaks it — every member started with {@code fencelab
 * node} and mutual-TLS Artery from {@code fencelab certs}' kind of directory. The bundled demo runs on it through
 * {@code run --cluster --host --tls}; a member with a certificate of another authority cannot join. (It also stands
 * for plain formation: every member Up, every node answering the coordinator's protobuf ping from its own JVM.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiHostTlsIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs(false);
  private final List<Process> members = new ArrayList<>();
  private Path dir;
  private Path certs;
  private int seedPort;

  @BeforeAll
  void start() throws Exception {
    dir = logs.track(TestCluster.newRunDir("multihost-tls"));
    certs = dir.resolve("certs");
    ClusterCerts ca = ClusterCerts.open(certs, Duration.ofDays(1));
    for (String m : List.of("coordinator", "client", "n1", "n2", "n3")) {
      ca.member(m, Duration.ofDays(1));
    }
    ClusterCerts.open(dir.resolve("foreign"), Duration.ofDays(1)).member("n9", Duration.ofDays(1));
    member("coordinator", "127.0.0.2", "coordinator", null);
    seedPort = port("coordinator", Duration.ofSeconds(60));
    member("n1", "127.0.0.3", "node", "127.0.0.2:" + seedPort);
    member("n2", "127.0.0.4", "node", "127.0.0.2:" + seedPort);
    member("n3", "127.0.0.3", "node", "127.0.0.2:" + seedPort);
  }

  @AfterAll
  void stop() {
    members.forEach(Process::destroyForcibly);
  }

  /** {@code fencelab node} as a user starts it on a machine, owned by this test's JVM (it goes when the test goes). */
  private Process member(String name, String host, String role, String seed) throws IOException {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
        "-Dfencelab.member.owner-pid=" + ProcessHandle.current().pid(), "-Dfencelab.device.pacing=realtime", "-jar", TestCluster.jar().toString(),
        "node", "--name", name,
        "--host", host, "--port", "0", "--roles", role, "--profile", "local", "--run-dir", dir.toString(),
        "--tls", certs.toString(), "--join-timeout", "60s"));
    if (seed != null) {
      command.addAll(List.of("--seed", seed));
    } else {
      command.addAll(List.of("--http-host", host, "--http-port", "0")); // the coordinator's API: beside it, on a free port
    }
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile()).start();
    members.add(p);
    return p;
  }

  /** The Artery port a member bound (it reports it in {@code <name>.ports} once bound). */
  private int port(String name, Duration within) throws Exception {
    Path ports = dir.resolve(name + ".ports");
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.isRegularFile(ports)) {
        String text = Files.readString(ports);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("cluster=(\\d+)").matcher(text);
        if (m.find() && Integer.parseInt(m.group(1)) > 0) {
          return Integer.parseInt(m.group(1));
        }
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling a file another process writes, not synchronising actors
    }
    throw new AssertionError(name + " did not report its port within " + within + "; see " + dir.resolve(name + ".out"));
  }

  /** The coordinator API's port, from the coordinator's {@code .ports} file ({@code http=Q}). */
  private int httpPort() throws IOException {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("http=(\\d+)").matcher(Files.readString(dir.resolve("coordinator.ports")));
    assertTrue(m.find(), "the coordinator reports its API port");
    return Integer.parseInt(m.group(1));
  }

  @Test
  @Order(0)
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void everyMemberIsUpAndEveryNodeAnswersTheCoordinatorsProtobufPingOverTls() throws Exception {
    StatusClient api = new StatusClient("127.0.0.2", httpPort());
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    ClusterStatus status = null;
    while (System.nanoTime() < deadline) { // the members join in their own time; the API says when they are Up
      status = api.tryStatus(Duration.ofSeconds(5)).orElse(null);
      if (status != null && status.members().size() == 4 && status.members().stream().allMatch(x -> x.status().equals("Up"))
          && status.nodes().size() == 3 && status.nodes().stream().allMatch(n -> n.responded() && !n.nodeName().equals("?"))) {
        // "?": the node's agent answered the ping before its registration reached the coordinator
        break;
      }
      TimeUnit.MILLISECONDS.sleep(250); // polling another process's HTTP API, not synchronising actors
    }
    assertTrue(status != null && status.members().stream().allMatch(x -> x.status().equals("Up") && x.reachable()), String.valueOf(status));
    assertEquals(4, status.members().size(), "coordinator + 3 nodes: " + status.members());
    assertEquals(List.of("n1", "n2", "n3"), status.nodes().stream().map(ClusterStatus.Node::nodeName).sorted().toList());
    for (ClusterStatus.Node node : status.nodes()) {
      assertTrue(node.responded() && node.rttNanos() > 0, node + " answered the coordinator's ping, with a measured round trip");
      long pid = members.get(List.of("n1", "n2", "n3").indexOf(node.nodeName()) + 1).pid();
      assertEquals(pid, node.pid(), "the agent runs in the member's own JVM");
    }
    assertTrue(status.nodes().stream().anyMatch(x -> x.address().contains("@127.0.0.4:")), "n2 on 127.0.0.4: " + status.nodes());
  }

  @Test
  @Order(1)
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void aMemberWithACertificateOfAnotherAuthorityCannotJoin() throws Exception {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m",
        "-Dfencelab.member.owner-pid=" + ProcessHandle.current().pid(), "-jar", TestCluster.jar().toString(), "node", "--name", "n9",
        "--host", "127.0.0.4", "--port", "0", "--profile", "local", "--run-dir", dir.resolve("n9").toString(),
        "--tls", dir.resolve("foreign").toString(), "--seed", "127.0.0.2:" + seedPort, "--join-timeout", "4s"));
    Process foreign = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("n9.out").toFile()).start();
    members.add(foreign);
    assertTrue(foreign.waitFor(90, TimeUnit.SECONDS), "the foreign member gave up joining");
    String out = Files.readString(dir.resolve("n9.out"));
    assertEquals(1, foreign.exitValue(), out);
    assertTrue(out.contains("could not join the cluster"), out);
    String log = Files.readString(dir.resolve("n9").resolve("n9.log"));
    assertTrue(log.contains("SSLHandshakeException"), "refused at the TLS handshake: " + log);
  }

  @Test
  @Order(2)
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void theDemoRunsThroughMutualTlsWithEveryMemberOnItsOwnLoopbackAddress() throws Exception {
    Path out = dir.resolve("demo");
    LauncherIT.Run run = LauncherIT.fencelab("run", "demo", "--cluster", "127.0.0.2:" + seedPort, "--host", "127.0.0.5", "--tls",
        certs.toString(), "--out", out.toString());
    assertEquals(0, run.exitCode(), run.all());
    assertEquals("PASS", new ObjectMapper().readTree(out.resolve("verdict.json").toFile()).get("verdict").asText());
    for (String m : List.of("coordinator", "n1", "n2", "n3")) {
      String log = Files.readString(dir.resolve(m + ".log"));
      assertTrue(log.contains("Remoting started with transport [Artery tls-tcp]"), m + " speaks TLS");
    }
    assertTrue(Files.readString(dir.resolve("n2.log")).contains("pekko://fencelab@127.0.0.4:"), "n2 bound 127.0.0.4");
    try (var files = Files.list(out)) {
      Path client = files.filter(f -> f.getFileName().toString().startsWith("client-")).findFirst().orElseThrow();
      String log = Files.readString(client);
      assertTrue(log.contains("Cluster Node [pekko://fencelab@127.0.0.5:") && log.contains("Welcome from [pekko://fencelab@127.0.0.2:"),
          "the runner's client on 127.0.0.5 was let in (the cluster speaks TLS only): " + log);
    }
  }
}
