package dev.fencelab.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.protocol.control.CoordinatorControl;
import dev.fencelab.protocol.control.GetStatus;
import dev.fencelab.protocol.control.ListWaits;
import dev.fencelab.protocol.control.WaitsListed;
import dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.control.Register;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CoordinatorTest {
  private ActorTestKit testKit;
  private String selfAddress;

  @BeforeEach
  void start() {
    testKit = ActorTestKit.create(
        "coordinator-test",
        ConfigFactory.parseString("pekko.cluster.roles = [coordinator, node]")
            .withFallback(ConfigFactory.load("application-test")));
    Cluster cluster = Cluster.get(testKit.system());
    selfAddress = cluster.selfMember().address().toString();
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
  }

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  /** A stand-in node agent: a probe listed by the Receptionist under the agent key. */
  private TestProbe<NodeControl> fakeAgent() {
    TestProbe<NodeControl> agent = testKit.createTestProbe();
    TestProbe<Receptionist.Registered> ack = testKit.createTestProbe();
    testKit.system().receptionist().tell(Receptionist.register(NodeAgentKey.KEY, agent.ref(), ack.ref()));
    ack.receiveMessage();
    return agent;
  }

  private static NodeInfo info(String name, String address) {
    return new NodeInfo(name, address, List.of("node"), 99, 1L, "test", "/user/agent");
  }

  private Register awaitRegister(TestProbe<NodeControl> agent) {
    return (Register) agent.fishForMessage(Duration.ofSeconds(5), m ->
        m instanceof Register ? FishingOutcomes.complete()
            : FishingOutcomes.continueAndIgnore()).get(0);
  }

  private Ping awaitPing(TestProbe<NodeControl> agent) {
    return (Ping) agent.fishForMessage(Duration.ofSeconds(5), m ->
        m instanceof Ping ? FishingOutcomes.complete()
            : FishingOutcomes.continueAndIgnore()).get(0);
  }

  @Test
  void shouldRegisterWithEveryListedNodeAgent() {
    TestProbe<NodeControl> agent = fakeAgent();
    ActorRef<CoordinatorControl> coordinator = testKit.spawn(Coordinator.create());

    Register register = awaitRegister(agent);

    assertEquals(coordinator, register.coordinator());
  }

  @Test
  void shouldReportRoundTripOfNodeThatAnswersPing() {
    TestProbe<NodeControl> agent = fakeAgent();
    ActorRef<CoordinatorControl> coordinator = testKit.spawn(Coordinator.create());
    awaitRegister(agent).replyTo().tell(info("n1", selfAddress));
    TestProbe<ClusterStatus> status = testKit.createTestProbe();

    // The registration answer and the status request race; ask until the node is known by name.
    ClusterStatus answered = status.awaitAssert(Duration.ofSeconds(5), () -> {
      coordinator.tell(new GetStatus(Duration.ofSeconds(3), status.ref()));
      Ping ping = awaitPing(agent);
      ping.replyTo().tell(new Pong("n1", ping.seq(), ping.sentMonoNanos(), 0, 0));
      ClusterStatus s = status.receiveMessage();
      assertEquals("n1", s.nodes().get(0).nodeName());
      return s;
    });

    assertEquals(1, answered.nodes().size());
    assertTrue(answered.nodes().get(0).responded());
    assertTrue(answered.nodes().get(0).rttNanos() >= 0);
  }

  @Test
  void shouldReportNodeThatDoesNotAnswerPingAsNotRespondingWithinTheTimeout() {
    TestProbe<NodeControl> agent = fakeAgent();
    ActorRef<CoordinatorControl> coordinator = testKit.spawn(Coordinator.create());
    awaitRegister(agent);
    TestProbe<ClusterStatus> status = testKit.createTestProbe();

    coordinator.tell(new GetStatus(Duration.ofMillis(300), status.ref()));

    ClusterStatus s = status.receiveMessage(Duration.ofSeconds(3));
    assertEquals(1, s.nodes().size());
    assertFalse(s.nodes().get(0).responded());
  }

  @Test
  void shouldRecordMemberUpWithTimestamp() {
    ActorRef<CoordinatorControl> coordinator = testKit.spawn(Coordinator.create());
    TestProbe<ClusterStatus> status = testKit.createTestProbe();

    ClusterStatus s = status.awaitAssert(Duration.ofSeconds(5), () -> {
      coordinator.tell(new GetStatus(Duration.ofMillis(100), status.ref()));
      ClusterStatus answer = status.receiveMessage();
      assertTrue(answer.events().stream().anyMatch(e -> e.kind() == ClusterStatus.Kind.UP), "events: " + answer.events());
      return answer;
    });

    ClusterStatus.MemberEvent up = s.events().stream().filter(e -> e.kind() == ClusterStatus.Kind.UP).findFirst().orElseThrow();
    assertEquals(selfAddress, up.address());
    assertEquals(List.of("coordinator", "node"), up.roles());
    assertTrue(up.epochMillis() > 0);
    assertEquals("Up", s.members().get(0).status());
  }

  /** Spawns a coordinator and binds its HTTP API on a free port. */
  private int startApi() throws Exception {
    return startApi("");
  }

  /** {@code token}: the bearer token the status requires ("" none). */
  private int startApi(String token) throws Exception {
    ActorRef<CoordinatorControl> coordinator = testKit.spawn(Coordinator.create());
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    new CoordinatorApi(testKit.system(), coordinator, token).bind("127.0.0.1", port).toCompletableFuture().get();
    return port;
  }

  private static HttpResponse<String> status(int port, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/status?pingTimeoutMs=200"));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aStatusWithoutTheBearerTokenIsRefusedWith401() throws Exception {
    int port = startApi("s3cret-token");
    assertEquals(401, status(port, null).statusCode());
    assertEquals(401, status(port, "Bearer wrong").statusCode());
  }

  @Test
  void aStatusWithTheBearerTokenIsServed() throws Exception {
    int port = startApi("s3cret-token");
    assertEquals(200, status(port, "Bearer s3cret-token").statusCode());
  }

  @Test
  void shouldServeStatusAsJsonOverHttp() throws Exception {
    int port = startApi();
    HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/status?pingTimeoutMs=200")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertEquals(200, response.statusCode(), response.body());
    ClusterStatus parsed = new ObjectMapper().readValue(response.body(), ClusterStatus.class);
    assertEquals(selfAddress, parsed.coordinatorAddress());
  }

  @Test
  void shouldRejectBadPingTimeoutWith400() throws Exception {
    int port = startApi();

    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/status?pingTimeoutMs=soon")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertEquals(400, response.statusCode());
    assertTrue(response.body().contains("pingTimeoutMs"), response.body());
  }

  private static WaitEdge edge(long id, String waiter, String fence) {
    return WaitEdge.newBuilder().setWaitId(id).setWaiter(waiter).setFence(fence).setReason("wait").setSinceWallNanos(5_000_000L).build();
  }

  /** Answers the next {@link ListWaits} page of {@code agent} from {@code all}, as a node agent does. */
  private static ListWaits answerPage(TestProbe<NodeControl> agent, String node, List<WaitEdge> all) {
    ListWaits ask = (ListWaits) agent.fishForMessage(Duration.ofSeconds(10), m ->
        m instanceof ListWaits ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore()).get(0);
    int to = Math.min(all.size(), ask.offset() + ask.max());
    ask.replyTo().tell(new WaitsListed(node, all.subList(Math.min(ask.offset(), to), to), all.size(), ask.offset()));
    return ask;
  }

  /** Waits until the receptionist lists {@code n} agents (a one-member cluster lists them once it is Up). */
  private void listed(int n) {
    TestProbe<Receptionist.Listing> listing = testKit.createTestProbe();
    listing.awaitAssert(Duration.ofSeconds(20), () -> {
      testKit.system().receptionist().tell(Receptionist.find(NodeAgentKey.KEY, listing.ref()));
      assertEquals(n, listing.receiveMessage().getServiceInstances(NodeAgentKey.KEY).size());
      return null;
    });
  }

  private static java.util.concurrent.CompletableFuture<HttpResponse<String>> get(int port, String pathAndQuery) {
    return HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theWaitsEndpointMergesEveryNodesOpenWaitsAndNamesTheCycleAcrossThem() throws Exception {
    TestProbe<NodeControl> n1 = fakeAgent();
    TestProbe<NodeControl> n2 = fakeAgent();
    listed(2);
    int port = startApi();
    var response = get(port, "/api/v1/waits");
    answerPage(n1, "n1", List.of(edge(1, "job a", "fence b#1"), edge(2, "n1/p", "fence c#1")));
    answerPage(n2, "n2", List.of(edge(7, "fence b#1", "job a")));

    HttpResponse<String> r = response.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.body());
    OpenWaits.Graph graph = new ObjectMapper().readValue(r.body(), OpenWaits.Graph.class);
    assertEquals(List.of("n1", "n2"), graph.nodes().stream().map(OpenWaits.Node::node).toList());
    assertEquals(List.of(2, 1), graph.nodes().stream().map(OpenWaits.Node::total).toList());
    assertEquals(3, graph.edges().size());
    assertEquals(5L, graph.edges().get(0).sinceEpochMillis());
    assertEquals(1, graph.cycles().size(), r.body());
    assertEquals(List.of("n2#7", "n1#1"), graph.cycles().get(0).edges().stream().map(e -> e.node() + "#" + e.id()).toList());
    assertTrue(graph.cycles().get(0).path().contains("job a") && graph.cycles().get(0).path().contains("fence b#1"), graph.cycles().get(0).path());
  }

  @Test
  void theWaitsEndpointPagesANodesWaitsAndStopsAtMaxWhileReportingTheTotal() throws Exception {
    TestProbe<NodeControl> n1 = fakeAgent();
    listed(1);
    int port = startApi();
    List<WaitEdge> many = new java.util.ArrayList<>();
    for (int i = 0; i < 700; i++) {
      many.add(edge(i, "w" + i, "f" + i));
    }
    var response = get(port, "/api/v1/waits?max=600");
    ListWaits first = answerPage(n1, "n1", many);
    ListWaits second = answerPage(n1, "n1", many);

    HttpResponse<String> r = response.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.body());
    OpenWaits.Graph graph = new ObjectMapper().readValue(r.body(), OpenWaits.Graph.class);
    assertEquals(List.of(0, ListWaits.PAGE), List.of(first.offset(), second.offset()));
    assertEquals(100, second.max(), "the last page asks only for what max leaves");
    assertEquals(600, graph.edges().size());
    assertEquals(new OpenWaits.Node("n1", graph.nodes().get(0).address(), true, 700, 600), graph.nodes().get(0));
    assertTrue(graph.cycles().isEmpty());
  }

  @Test
  void theStatusWithWaitsTrueCarriesTheWaitForGraphBesideTheMembers() throws Exception {
    TestProbe<NodeControl> n1 = fakeAgent();
    listed(1);
    int port = startApi();
    var response = get(port, "/api/v1/status?pingTimeoutMs=200&waits=true");
    answerPage(n1, "n1", List.of(edge(3, "n1/p", "fence c#1")));

    HttpResponse<String> r = response.get(15, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.body());
    var json = new ObjectMapper().readTree(r.body());
    assertEquals(selfAddress, json.get("coordinatorAddress").asText());
    assertEquals("fence c#1", json.get("waits").get("edges").get(0).get("to").asText(), r.body());
  }

  @Test
  void aWaitsRequestWithAMaxOutOfRangeIsRefusedWith400() throws Exception {
    int port = startApi();
    HttpResponse<String> r = get(port, "/api/v1/waits?max=0").get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("max must be between 1 and 10000"), r.body());
  }

  @Test
  void theWaitsNeedTheBearerTokenWhenTheStatusDoes() throws Exception {
    int port = startApi("s3cret-token");
    assertEquals(401, get(port, "/api/v1/waits").get(10, java.util.concurrent.TimeUnit.SECONDS).statusCode());
  }
}
