package dev.fencelab.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fencelab.deploy.member.MemberConfig;
import dev.fencelab.deploy.member.MemberOptions;
import dev.fencelab.protocol.control.Describe;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.awaitility.Awaitility;

/**
 * A cluster member with role {@code client} inside the test JVM: it hosts nothing and drives node agents over
 * the real wire (Artery TCP, protobuf, {@code serialize-messages = on}), as the coordinator does. Probes
 * created from {@link #testKit()} can be reply-to addresses for any member.
 */
public final class TestClient implements AutoCloseable {
  private final ActorTestKit testKit;
  private final Map<String, org.apache.pekko.actor.typed.ActorRef<NodeControl>> agents = new HashMap<>();

  private TestClient(ActorTestKit testKit) {
    this.testKit = testKit;
  }

  /** Joins the cluster through its coordinator member and waits until it is Up and sees every node agent. */
  public static TestClient join(TestCluster cluster) {
    String seed = cluster.member("coordinator").host() + ":" + cluster.member("coordinator").port();
    MemberOptions options = new MemberOptions("client-" + ProcessHandle.current().pid(), "127.0.0.1", 0, List.of(seed),
        List.of("client"), "local", null, cluster.dir(), null, null, Duration.ofSeconds(20));
    Config config = ConfigFactory.parseString("pekko.actor.serialize-messages = on\npekko.loglevel = WARNING")
        .withFallback(MemberConfig.build(options));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "fencelab", config);
    TestClient client = new TestClient(ActorTestKit.create(system));
    Awaitility.await("client member Up").atMost(Duration.ofSeconds(30))
        .until(() -> Cluster.get(system).selfMember().status().equals(MemberStatus.up()));
    long nodes = cluster.manifest().members().stream().filter(m -> m.roles().contains("node")).count();
    client.discoverAgents((int) nodes);
    return client;
  }

  private void discoverAgents(int expected) {
    TestProbe<Receptionist.Listing> listing = testKit.createTestProbe();
    Set<org.apache.pekko.actor.typed.ActorRef<NodeControl>> found = listing.awaitAssert(Duration.ofSeconds(30), () -> {
      testKit.system().receptionist().tell(Receptionist.find(NodeAgentKey.KEY, listing.ref()));
      Set<org.apache.pekko.actor.typed.ActorRef<NodeControl>> instances =
          listing.receiveMessage().getServiceInstances(NodeAgentKey.KEY);
      if (instances.size() != expected) {
        throw new AssertionError("agents listed: " + instances.size() + " of " + expected);
      }
      return instances;
    });
    TestProbe<NodeInfo> info = testKit.createTestProbe();
    for (var agent : found) {
      agent.tell(new Describe(info.ref()));
      NodeInfo described = info.receiveMessage(Duration.ofSeconds(10));
      agents.put(described.nodeName(), agent);
    }
  }

  public ActorTestKit testKit() {
    return testKit;
  }

  /** The agent of node member {@code name} ({@code n1}, {@code n2}…). */
  public org.apache.pekko.actor.typed.ActorRef<NodeControl> agent(String name) {
    var agent = agents.get(name);
    if (agent == null) {
      throw new IllegalArgumentException("no node agent " + name + " (known: " + agents.keySet() + ")");
    }
    return agent;
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
