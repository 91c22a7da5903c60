package dev.fencelab.it;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.protocol.Errno;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestClient;
import dev.fencelab.testkit.TestCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The seed pipeline on three real JVMs: GPU A on n1 → dma-buf → GPU B on n2 → sync_file → process on n3. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class DevicePipelineIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs(false);

  private TestCluster cluster;
  private TestClient client;

  @BeforeAll
  void start() {
    cluster = TestCluster.builder("device-pipeline").nodes(3).start();
    logs.track(cluster.dir());
    client = TestClient.join(cluster);
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void shouldDeliverTheProducersContentToTheConsumerOnlyAfterFenceA() {
    SeedPipeline p = new SeedPipeline(client, "ok").place(Duration.ofSeconds(10)).buffers().submit();
    String empty = p.checksum(p.gpuB, p.out).checksum();

    // Job B waits on fence_A through the shared buffer's reservation object alone (no explicit in-fence).
    assertEquals(0, p.waitInC(Duration.ZERO).result());
    p.openGate();
    ProcessProtocol.PollResult done = p.waitInC(Duration.ofSeconds(30));

    assertEquals(1, done.result());
    assertEquals(1, done.status().value());
    String shared = p.checksum(p.gpuA, p.shared).checksum();
    assertEquals(shared, p.checksum(p.gpuB, p.out).checksum());
    assertEquals(shared, p.checksum(p.gpuB, p.imported).checksum());
    assertNotEquals(empty, shared);
  }

  @Test
  void shouldPropagateEtimeFromAHungJobOnNode1ToTheDependentFenceOnNode2() {
    SeedPipeline p = new SeedPipeline(client, "hang").place(Duration.ofSeconds(1)).buffers();
    p.hangA();
    p.submit();
    String before = p.checksum(p.gpuB, p.out).checksum();

    p.openGate();
    ProcessProtocol.PollResult done = p.waitInC(Duration.ofSeconds(60));

    assertEquals(1, done.result());
    assertEquals(Errno.ETIME.negative(), done.status().value());
    WaitResult a = p.ask(r -> new dev.fencelab.node.cluster.FenceControl.WaitFence(p.fenceA.outFence(), 0, "test", "poll", r),
        client.agent("n3"));
    assertEquals(Errno.ETIME.negative(), a.status().value());
    assertEquals(before, p.checksum(p.gpuB, p.out).checksum(), "a job whose dependency failed writes nothing");
  }
}
