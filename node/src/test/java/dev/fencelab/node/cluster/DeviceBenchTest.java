package dev.fencelab.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import dev.fencelab.protocol.control.NodeControl;
import org.junit.jupiter.api.Test;

/** The device bench's shape on one member (its own peer): it ends with every figure, whatever their values. */
class DeviceBenchTest {
  @Test
  void shouldReportJobRateCopyThroughputInvalidationRoundsAndHmmPagesWithTheirBaselines() {
    ActorTestKit testKit = ActorTestKit.create("device-bench-test", ConfigFactory.load("application-test"));
    try {
      Cluster cluster = Cluster.get(testKit.system());
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      ActorRef<NodeControl> agent = testKit.spawn(NodeAgent.create(new NodeAgent.Identity("n1", 1, 0, "test")));
      TestProbe<FenceControl.BenchReport> probe = testKit.createTestProbe();

      agent.tell(new DeviceControl.RunDeviceBench(50, 16 << 20, 9, agent, probe.ref()));

      FenceControl.BenchReport report = probe.receiveMessage(Duration.ofSeconds(60));
      assertEquals(List.of("jobs.remote_in_fence.rate", "copy.cross_node.throughput", "invalidate.round.1_subscriber.p50",
          "invalidate.round.100_subscribers.p50", "hmm.fault.100k_pages.rate", "hmm.migrate.100k_pages.rate"),
          report.figures().stream().map(f -> f.name()).toList());
      report.figures().forEach(f -> assertTrue(f.value() > 0 && f.baseline() > 0, f.toString()));
    } finally {
      testKit.shutdownTestKit();
    }
  }
}
