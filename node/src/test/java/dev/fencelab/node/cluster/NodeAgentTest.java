package dev.fencelab.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.control.CoordinatorControl;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.control.Register;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NodeAgentTest {
  private static ActorTestKit testKit;
  private static final NodeAgent.Identity IDENTITY = new NodeAgent.Identity("n7", 4242, 1_700_000_000_000L, "test");

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create(
        "node-agent-test",
        ConfigFactory.parseString("pekko.cluster.roles = [node]")
            .withFallback(ConfigFactory.load("application-test")));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldAnswerPingWithPongEchoingSeqAndSendTime() {
    ActorRef<NodeControl> agent = testKit.spawn(NodeAgent.create(IDENTITY));
    TestProbe<Pong> probe = testKit.createTestProbe();

    agent.tell(new Ping(11, 123_456L, probe.ref()));

    Pong pong = probe.receiveMessage();
    assertEquals("n7", pong.nodeName());
    assertEquals(11, pong.seq());
    assertEquals(123_456L, pong.sentMonoNanos());
    assertTrue(pong.nodeWallEpochMicros() > 1_600_000_000_000_000L, "wall clock in epoch micros");
  }

  @Test
  void shouldDescribeItselfWhenRegistered() {
    ActorRef<NodeControl> agent = testKit.spawn(NodeAgent.create(IDENTITY));
    TestProbe<CoordinatorControl> coordinator = testKit.createTestProbe();
    TestProbe<NodeInfo> probe = testKit.createTestProbe();

    agent.tell(new Register(coordinator.ref(), probe.ref()));

    NodeInfo info = probe.receiveMessage();
    assertEquals("n7", info.nodeName());
    assertEquals(4242, info.pid());
    assertEquals(List.of("node"), info.roles());
    assertEquals(Cluster.get(testKit.system()).selfMember().address().toString(), info.address());
  }

  @Test
  void shouldRegisterWithTheReceptionistUnderTheNodeAgentKey() {
    ActorRef<NodeControl> agent = testKit.spawn(NodeAgent.create(IDENTITY));
    TestProbe<Receptionist.Listing> probe = testKit.createTestProbe();

    probe.awaitAssert(Duration.ofSeconds(5), () -> {
      testKit.system().receptionist().tell(Receptionist.find(NodeAgentKey.KEY, probe.ref()));
      Receptionist.Listing listing = probe.receiveMessage();
      assertTrue(listing.getServiceInstances(NodeAgentKey.KEY).contains(agent), "agent listed: " + listing);
      return null;
    });
  }
}
