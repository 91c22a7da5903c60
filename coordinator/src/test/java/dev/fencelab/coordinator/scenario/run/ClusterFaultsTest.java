package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.control.Ack;
import dev.fencelab.protocol.control.Blackhole;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.PauseMember;
import dev.fencelab.protocol.control.SetLinkDelay;
import dev.fencelab.protocol.scenario.v1.LinkDelay;
import dev.fencelab.protocol.scenario.v1.Node;
import dev.fencelab.protocol.scenario.v1.NodeGroup;
import dev.fencelab.protocol.scenario.v1.Partition;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the cluster faults send to which node agent, and which steps they hold; probes stand in for the agents. */
class ClusterFaultsTest {
  private static final String CONTROL = "pekko://fencelab@10.0.0.9:2552";
  private static ActorTestKit testKit;
  private final Map<String, TestProbe<NodeControl>> agents = new java.util.LinkedHashMap<>();
  private RunDirectory names;
  private ClusterFaults faults;
  private final List<Integer> armed = new ArrayList<>();

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("cluster-faults-test", ConfigFactory.load("application-test"));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void cluster() {
    Scenario.Builder s = Scenario.newBuilder();
    Map<String, org.apache.pekko.actor.typed.ActorRef<NodeControl>> refs = new java.util.HashMap<>();
    for (String n : List.of("n1", "n2", "n3")) {
      s.addNodes(Node.newBuilder().setName(n));
      TestProbe<NodeControl> probe = testKit.createTestProbe();
      agents.put(n, probe);
      refs.put(n, probe.ref());
    }
    names = new RunDirectory(s.build(), refs);
    TestProbe<Ack> acks = testKit.createTestProbe();
    RunLog log = new RunLog(line -> { });
    faults = new ClusterFaults(names, log, new Faults(names, (node, agent) -> "killed", log), acks.ref(), (id, d) -> armed.add(id),
        () -> List.of(CONTROL), this::address);
  }

  private static Partition partition(List<String>... sides) {
    Partition.Builder p = Partition.newBuilder().setFor("2s");
    for (List<String> side : sides) {
      p.addBetween(NodeGroup.newBuilder().addAllNodes(side));
    }
    return p.build();
  }

  private String address(String node) {
    return "pekko://fencelab@10.0.0." + node.substring(1) + ":2552"; // the probes are local: one address for all
  }

  private Set<String> dropped(String node, boolean on) {
    Blackhole b = agents.get(node).expectMessageClass(Blackhole.class);
    assertEquals(on, b.on());
    return new HashSet<>(b.addresses());
  }

  @Test
  void theSmallerSideIsCutOffFromTheOtherSideAndFromTheControlPlane() {
    faults.partition(partition(List.of("n1"), List.of("n2", "n3")), List.of(CONTROL), "step");
    assertEquals(Set.of(address("n2"), address("n3"), CONTROL), dropped("n1", true));
    assertEquals(Set.of(address("n1")), dropped("n2", true)); // the control plane is on n2's side
    assertEquals(Set.of(address("n1")), dropped("n3", true));
  }

  @Test
  void onATieTheControlPlaneIsWithTheFirstSideAndANodeNoSideNamesToo() {
    faults.partition(partition(List.of("n2"), List.of("n1")), List.of(CONTROL), "step");
    assertEquals(Set.of(address("n2"), address("n3"), CONTROL), dropped("n1", true));
    assertEquals(Set.of(address("n1")), dropped("n3", true)); // unnamed: with the control plane, on n2's side
  }

  @Test
  void aStepForACutOffNodeIsHeldUntilThePartitionHeals() {
    faults.partition(partition(List.of("n1"), List.of("n2", "n3")), List.of(CONTROL), "step");
    CompletableFuture<Void> toN1 = faults.whenReachable("n1").toCompletableFuture();
    assertTrue(faults.whenReachable("n2").toCompletableFuture().isDone(), "n2 is with the runner");
    assertFalse(toN1.isDone());
    assertTrue(faults.active(), "the run waits for the partition to end");
    faults.end(armed.get(0));
    assertTrue(toN1.isDone(), "healed: the held step goes");
    assertFalse(faults.active());
    dropped("n1", true);
    assertEquals(Set.of(address("n2"), address("n3"), CONTROL), dropped("n1", false));
  }

  @Test
  void aStepHeldForANodeTheClusterRemovedGoesOnAtOnce() {
    faults.partition(partition(List.of("n1"), List.of("n2", "n3")), List.of(CONTROL), "step");
    CompletableFuture<Void> toN1 = faults.whenReachable("n1").toCompletableFuture();
    names.kill("n1");
    faults.nodeGone("n1");
    assertTrue(toN1.isDone(), "released; the step client then fails it with -ENODEV");
  }

  @Test
  void aPauseTellsTheNodeHowLongAndEndsAfterIt() {
    faults.pause("n2", "1500ms", "step");
    assertEquals(1_500_000_000L, agents.get("n2").expectMessageClass(PauseMember.class).nanos());
    assertTrue(faults.active());
    faults.end(armed.get(0));
    assertFalse(faults.active());
  }

  @Test
  void aLinkDelayIsSetAtBothEndsAndRemovedAfterItsDuration() {
    faults.linkDelay(LinkDelay.newBuilder().addBetween("n1").addBetween("n3").setLatency("200us").setFor("1s").build(), "step");
    SetLinkDelay at1 = agents.get("n1").expectMessageClass(SetLinkDelay.class);
    SetLinkDelay at3 = agents.get("n3").expectMessageClass(SetLinkDelay.class);
    assertEquals(address("n3"), at1.peer());
    assertEquals(address("n1"), at3.peer());
    assertEquals(200_000L, at1.latencyNanos());
    faults.end(armed.get(0));
    assertEquals(0L, agents.get("n1").expectMessageClass(SetLinkDelay.class).latencyNanos());
    agents.get("n2").expectNoMessage(Duration.ofMillis(50));
  }
}
