package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.deploy.local.StatusClient;
import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * The {@code kubernetes} profile's way in, without Kubernetes: three {@code fencelab node --profile kubernetes} members on
 * 127.0.0.2, .3 and .4, no seed anywhere, find each other through Pekko Management's Cluster Bootstrap. The only change
 * from a pod is the discovery method — config discovery listing the three management endpoints instead of the Kubernetes
 * API — so the bootstrap code (contact-point probing, the lowest address forming the cluster, the others joining it) and
 * the health probes the manifests use are the ones that run in a cluster.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterBootstrapIT {
  private static final List<String> HOSTS = List.of("127.0.0.2", "127.0.0.3", "127.0.0.4");

  @RegisterExtension final ClusterLogs logs = new ClusterLogs(false);
  private final List<Process> members = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private Path dir;
  private int management;

  @BeforeAll
  void start() throws Exception {
    dir = Files.createDirectories(logs.track(TestCluster.newRunDir("cluster-bootstrap")));
    management = portFreeOnEvery(HOSTS);
    StringBuilder endpoints = new StringBuilder();
    for (String host : HOSTS) {
      endpoints.append(endpoints.length() == 0 ? "" : ", ").append("{ host = \"").append(host).append("\", port = ").append(management).append(" }");
    }
    Path conf = dir.resolve("bootstrap.conf");
    Files.writeString(conf, """
        # What differs from a pod: contact points from config discovery instead of the Kubernetes API.
        pekko.management.cluster.bootstrap.contact-point-discovery {
          discovery-method = config
          port-name = ""
          required-contact-point-nr = 3
          stable-margin = 2s
        }
        pekko.discovery.config.services.fencelab.endpoints = [ %s ]
        """.formatted(endpoints));
    for (int i = 0; i < HOSTS.size(); i++) {
      List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
          "-Dfencelab.member.owner-pid=" + ProcessHandle.current().pid(), "-jar", TestCluster.jar().toString(),
          "node", "--name", "n" + (i + 1), "--host", HOSTS.get(i), "--port", "0", "--profile", "kubernetes", "--config", conf.toString(),
          "--management-port", String.valueOf(management), "--run-dir", dir.toString(), "--roles", i == 0 ? "coordinator,node" : "node"));
      if (i == 0) {
        command.addAll(List.of("--http-port", "0"));
      }
      members.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("n" + (i + 1) + ".out").toFile()).start());
    }
  }

  @AfterAll
  void stop() {
    members.forEach(Process::destroyForcibly);
  }

  /** A port free on each of {@code hosts} now: bootstrap's contact points share one management port. */
  private static int portFreeOnEvery(List<String> hosts) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(hosts.get(0)))) {
        port = s.getLocalPort();
      }
      boolean free = true;
      for (String host : hosts) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (IOException taken) {
          free = false;
        }
      }
      if (free) {
        return port;
      }
    }
    throw new IOException("no port free on all of " + hosts);
  }

  /** The coordinator API's port, once n1 has bound it ({@code n1.ports}: {@code http=Q}). */
  private int httpPort(Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      Path ports = dir.resolve("n1.ports");
      if (Files.isRegularFile(ports)) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("http=(\\d+)").matcher(Files.readString(ports));
        if (m.find() && Integer.parseInt(m.group(1)) > 0) {
          return Integer.parseInt(m.group(1));
        }
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling a file another process writes, not synchronising actors
    }
    throw new AssertionError("n1 did not report its API port within " + within + "; see " + dir.resolve("n1.out"));
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Order(0)
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void threeMembersWithoutSeedNodesFormOneClusterThroughClusterBootstrap() throws Exception {
    StatusClient api = new StatusClient(HOSTS.get(0), httpPort(Duration.ofSeconds(90)));
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    ClusterStatus status = null;
    while (System.nanoTime() < deadline) { // bootstrap takes its stable margin; the API says when everyone is Up
      status = api.tryStatus(Duration.ofSeconds(5)).orElse(null);
      if (status != null && dev.fencelab.deploy.local.StatusTable.formed(status, 3, 3)) {
        break;
      }
      TimeUnit.MILLISECONDS.sleep(250); // polling another process's HTTP API, not synchronising actors
    }
    assertTrue(status != null && status.members().size() == 3 && status.members().stream().allMatch(x -> x.status().equals("Up")),
        "three members Up: " + status);
    assertEquals(List.of("n1", "n2", "n3"), status.nodes().stream().map(ClusterStatus.Node::nodeName).sorted().toList());
    int formed = 0;
    for (int i = 1; i <= 3; i++) {
      String log = Files.readString(dir.resolve("n" + i + ".log"));
      assertTrue(log.contains("No seed nodes found in configuration, relying on Cluster Bootstrap"), "n" + i + " had no seed");
      if (log.contains("Initiating new cluster, self-joining")) {
        formed++;
        assertTrue(log.contains("self-joining [pekko://fencelab@127.0.0.2:"), "the lowest contact point forms the cluster");
      }
    }
    assertEquals(1, formed, "exactly one member formed the cluster; the others joined it");
  }

  @Test
  @Order(1)
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void everyMembersManagementProbesAnswerReadyAndAliveOnItsOwnAddress() throws Exception {
    for (String host : HOSTS) {
      String base = "http://" + host + ":" + management;
      assertEquals(200, get(base + "/alive").statusCode(), base + "/alive");
      // a member learns it is Up by gossip, a moment after the coordinator does: probed as the kubelet does, until ready
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      HttpResponse<String> ready = get(base + "/ready");
      while (ready.statusCode() != 200 && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(250); // polling another process's HTTP API, not synchronising actors
        ready = get(base + "/ready");
      }
      assertEquals(200, ready.statusCode(), base + "/ready: the member is Up, so the pod is ready: " + ready.body());
    }
  }

  @Test
  @Order(2)
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void theWaitsEndpointAsksEveryNodeOfTheCluster() throws Exception {
    HttpResponse<String> r = get("http://" + HOSTS.get(0) + ":" + httpPort(Duration.ofSeconds(5)) + "/api/v1/waits");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode graph = new ObjectMapper().readTree(r.body());
    List<String> answered = new ArrayList<>();
    graph.get("nodes").forEach(n -> {
      if (n.get("answered").asBoolean()) {
        answered.add(n.get("node").asText());
      }
    });
    assertEquals(List.of("n1", "n2", "n3"), answered, r.body());
    assertEquals(0, graph.get("edges").size(), "an idle cluster has no open wait: " + r.body());
    assertFalse(graph.get("cycles").elements().hasNext(), r.body());
  }
}
