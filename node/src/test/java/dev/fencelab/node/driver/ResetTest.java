package dev.fencelab.node.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Job timeout and reset (kernel-semantics §1.19). */
class ResetTest {
  private static DeviceFixture fx;
  private static final AtomicInteger DEVICES = new AtomicInteger();

  @BeforeAll
  static void start() {
    fx = new DeviceFixture("reset-test");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  private static ActorRef<DriverProtocol.Command> hungGpu(int engines) {
    var gpu = fx.driver(DeviceSpec.gpu("gpu" + DEVICES.incrementAndGet()).withEngines(engines).withJobTimeout(Duration.ofMillis(300)));
    assertEquals(0, fx.call(r -> new DriverProtocol.InjectFault(DeviceActor.FaultKind.HANG_ENGINE, 0, r), gpu));
    return gpu;
  }

  @Test
  void shouldSignalTheHungJobWithEtime() {
    var gpu = hungGpu(1);

    FenceRef hung = fx.submitOk(gpu, "guilty", JobSpec.compute("hang", 0, List.of(), List.of()));

    assertEquals(Errno.ETIME.negative(), fx.await(hung).status().value());
  }

  @Test
  void shouldCancelTheRestOfTheGuiltyContextWithEcanceled() {
    var gpu = hungGpu(1);

    fx.submitOk(gpu, "guilty", JobSpec.compute("hang", 0, List.of(), List.of()));
    FenceRef next = fx.submitOk(gpu, "guilty", JobSpec.compute("queued", 0, List.of(), List.of()));

    assertEquals(Errno.ECANCELED.negative(), fx.await(next).status().value());
  }

  @Test
  void shouldCompleteInnocentJobsQueuedBehindTheHang() {
    var gpu = hungGpu(1);

    fx.submitOk(gpu, "guilty", JobSpec.compute("hang", 0, List.of(), List.of()));
    FenceRef innocent = fx.submitOk(gpu, "innocent", JobSpec.compute("queued", 0, List.of(), List.of()));

    assertEquals(1, fx.await(innocent).status().value());
  }

  @Test
  void shouldRerunAnInnocentJobRunningOnAnotherEngineDuringTheReset() {
    var gpu = fx.driver(DeviceSpec.gpu("gpu" + DEVICES.incrementAndGet()).withEngines(2).withJobTimeout(Duration.ofMillis(300)));
    fx.call(r -> new DriverProtocol.InjectFault(DeviceActor.FaultKind.HANG_ENGINE, 0, r), gpu);
    fx.call(r -> new DriverProtocol.InjectFault(DeviceActor.FaultKind.HANG_ENGINE, 1, r), gpu);

    FenceRef guilty = fx.submitOk(gpu, "guilty", JobSpec.compute("hang", 0, List.of(), List.of()));
    fx.f.testKit.createTestProbe().expectNoMessage(Duration.ofMillis(150)); // the guilty job's timeout fires first
    FenceRef caught = fx.submitOk(gpu, "innocent", JobSpec.compute("caught", 0, List.of(), List.of()).onEngine(1));

    assertEquals(Errno.ETIME.negative(), fx.await(guilty).status().value());
    assertEquals(1, fx.await(caught).status().value());
  }

  @Test
  void shouldRefuseLaterSubmissionsOfTheGuiltyProcessWithEcanceled() {
    var gpu = hungGpu(1);
    fx.await(fx.submitOk(gpu, "guilty", JobSpec.compute("hang", 0, List.of(), List.of())));

    assertEquals(Errno.ECANCELED.negative(), fx.submit(gpu, "guilty", JobSpec.compute("again", 0, List.of(), List.of())).result());
    assertEquals(0, fx.submit(gpu, "innocent", JobSpec.compute("fine", 0, List.of(), List.of())).result());
  }

  @Test
  void shouldWedgeTheDeviceWithEioWhenTheResetFails() {
    var gpu = hungGpu(1);
    fx.call(r -> new DriverProtocol.InjectFault(DeviceActor.FaultKind.FAIL_RESET, 0, r), gpu);

    FenceRef hung = fx.submitOk(gpu, "guilty", JobSpec.compute("hang", 0, List.of(), List.of()));
    FenceRef other = fx.submitOk(gpu, "innocent", JobSpec.compute("queued", 0, List.of(), List.of()));

    assertEquals(Errno.EIO.negative(), fx.await(hung).status().value());
    assertEquals(Errno.EIO.negative(), fx.await(other).status().value());
    assertTrue(fx.state(gpu).wedged());
    assertEquals(Errno.EIO.negative(), fx.submit(gpu, "innocent", JobSpec.compute("after", 0, List.of(), List.of())).result());
  }

  @Test
  void shouldPropagateTheResetErrorToAJobOnAnotherDevice() {
    var a = hungGpu(1);
    var b = fx.driver(DeviceSpec.gpu("gpu" + DEVICES.incrementAndGet()));
    FenceRef fenceA = fx.submitOk(a, "p", JobSpec.compute("hang", 0, List.of(), List.of()));

    FenceRef fenceB = fx.submitOk(b, "p", JobSpec.compute("dependent", 0, List.of(), List.of()), fenceA);

    assertEquals(Errno.ETIME.negative(), fx.await(fenceB).status().value());
  }
}
