package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Separate member JVMs on 127.0.0.1 form one cluster and speak protobuf over Artery TCP. */
class ClusterFormationIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void shouldFormClusterAndRoundTripProtobufPingFromCoordinatorToEveryNode() {
    TestCluster cluster = logs.track(TestCluster.builder("formation").nodes(3).start());

    ClusterStatus status = cluster.status(Duration.ofSeconds(5));

    assertEquals(4, status.members().size(), "coordinator + 3 nodes: " + status.members());
    assertTrue(status.members().stream().allMatch(m -> m.status().equals("Up") && m.reachable()), status.members().toString());
    assertEquals(List.of("n1", "n2", "n3"), status.nodes().stream().map(ClusterStatus.Node::nodeName).toList());
    for (ClusterStatus.Node node : status.nodes()) {
      assertTrue(node.responded(), node + " answered the coordinator's ping");
      assertTrue(node.rttNanos() > 0, node + " has a measured round trip");
      assertEquals(cluster.member(node.nodeName()).address(), node.address());
      assertEquals(cluster.member(node.nodeName()).pid(), node.pid(), "the agent runs in the member's own JVM");
    }
  }
}
