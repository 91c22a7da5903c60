package dev.fencelab.it;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.protocol.Errno;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestClient;
import dev.fencelab.testkit.TestCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hard unplug mid-pipeline: node 1 (GPU A, the exporter) is SIGKILLed while job B waits on fence_A. */
class DevicePipelineCrashIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void shouldFailBothFencesRevokeTheImportAndKeepNode2sBufferWhenNode1IsKilled() {
    TestCluster cluster = logs.track(TestCluster.builder("device-pipeline-crash").nodes(3).start());
    try (TestClient client = TestClient.join(cluster)) {
      SeedPipeline p = new SeedPipeline(client, "crash").place(Duration.ofSeconds(10)).buffers().submit();
      String before = p.checksum(p.gpuB, p.out).checksum();
      assertEquals(0, p.waitInC(Duration.ZERO).result());

      cluster.kill("n1");

      ProcessProtocol.PollResult done = p.waitInC(Duration.ofSeconds(60));
      assertEquals(1, done.result());
      assertEquals(Errno.ENODEV.negative(), done.status().value());
      WaitResult a = p.ask(r -> new FenceControl.WaitFence(p.fenceA.outFence(), Duration.ofSeconds(30).toNanos(), "test", "wait", r),
          client.agent("n3"));
      assertEquals(Errno.ENODEV.negative(), a.status().value());
      TestProbe<Object> awaiter = client.testKit().createTestProbe();
      awaiter.awaitAssert(Duration.ofSeconds(30), () -> {
        DriverProtocol.State state = p.ask(DriverProtocol.GetState::new, p.gpuB);
        DriverProtocol.BoInfo imported = state.buffers().stream().filter(b -> b.handle() == p.imported).findFirst().orElseThrow();
        assertTrue(imported.revoked(), state.toString());
        return null;
      });
      DriverProtocol.MapReply map = p.ask(r -> new DriverProtocol.MapBo(p.name("n2", "pB"), p.imported, r), p.gpuB);
      assertEquals(Errno.ENODEV.negative(), map.result());
      assertEquals(before, p.checksum(p.gpuB, p.out).checksum());
    }
  }
}
