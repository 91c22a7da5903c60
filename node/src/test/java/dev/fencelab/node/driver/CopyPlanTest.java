package dev.fencelab.node.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.scenario.v1.Pcie;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A copy plans its reads from the source's layout: pattern runs travel as a few numbers whatever their length, real
 * bytes in chunks — and its model time is the bytes over the route, whatever the emulator moved.
 */
class CopyPlanTest {
  private static final DeviceFixture fx = new DeviceFixture("copy-plan-test");
  private static int devices;

  @AfterAll
  static void close() {
    fx.close();
  }

  private static ActorRef<DriverProtocol.Command> gpu() {
    String name = "g" + devices++;
    var d = fx.driver(DeviceSpec.gpu(name).withVram(256L << 30));
    d.tell(new DriverProtocol.UsePcie(name, Pcie.getDefaultInstance(), List.of(name), null)); // the default fabric
    return d;
  }

  @Test
  void aCopyOfSixtyFourGibibytesOfPatternContentIsExactInModelTime() {
    var g = gpu();
    int src = fx.createBo(g, "p", "src", 64L << 30);
    int dst = fx.createBo(g, "p", "dst", 64L << 30);
    fx.await(fx.submitOk(g, "p", JobSpec.compute("fill", 0, List.of(), List.of(src))));
    WaitResult done = fx.await(fx.submitOk(g, "p", JobSpec.copy("copy", 0, new JobSpec.Copy(src, 0, dst, 0, 64L << 30))));
    assertEquals(1, done.status().value(), "signalled without an error");
    // read and written through the GPU's own memory (1 TB/s, §4): 2 × 64 GiB / 1000 bytes per ns
    assertEquals((64L << 30) * 2 / 1000, done.status().modelNanos(), 1);
  }

  @Test
  void aCopyOfPatternContentWithBytesInsideKeepsEveryByte() {
    var g = gpu();
    int small = fx.createBo(g, "p", "small", 1 << 20); // real bytes
    int src = fx.createBo(g, "p", "src", 64L << 20);   // segments
    int dst = fx.createBo(g, "p", "dst", 64L << 20);
    fx.await(fx.submitOk(g, "p", JobSpec.compute("fill-small", 0, List.of(), List.of(small))));
    fx.await(fx.submitOk(g, "p", JobSpec.compute("fill-src", 0, List.of(), List.of(src))));
    fx.await(fx.submitOk(g, "p", JobSpec.copy("bytes-in", 0, new JobSpec.Copy(small, 0, src, 3 << 20, 1 << 20))));
    fx.await(fx.submitOk(g, "p", JobSpec.copy("copy", 0, new JobSpec.Copy(src, 0, dst, 0, 64L << 20))));
    assertEquals(fx.checksum(g, src), fx.checksum(g, dst));
  }
}
