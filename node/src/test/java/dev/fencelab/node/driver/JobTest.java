package dev.fencelab.node.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Jobs on engines: ordering, implicit sync through dma_resv, dependency errors, driver validation. */
class JobTest {
  private static DeviceFixture fx;
  private static final AtomicInteger DEVICES = new AtomicInteger();

  @BeforeAll
  static void start() {
    fx = new DeviceFixture("job-test");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  private static ActorRef<DriverProtocol.Command> gpu(int engines) {
    return fx.driver(DeviceSpec.gpu("gpu" + DEVICES.incrementAndGet()).withEngines(engines));
  }

  @Test
  void shouldSignalOutFenceAtModelTimeOfItsDuration() {
    var gpu = gpu(1);
    int bo = fx.createBo(gpu, "p", "out", 4096);

    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("fill", 5_000_000, List.of(), List.of(bo)));
    WaitResult r = fx.await(out);

    assertEquals(1, r.status().value());
    assertEquals(5_000_000, r.status().modelNanos());
  }

  @Test
  void shouldRunJobsOfOneEngineInOrderAndAddTheirModelTimes() {
    var gpu = gpu(1);
    int bo = fx.createBo(gpu, "p", "out", 4096);

    FenceRef first = fx.submitOk(gpu, "p", JobSpec.compute("a", 1_000, List.of(), List.of(bo)));
    FenceRef second = fx.submitOk(gpu, "p", JobSpec.compute("b", 2_000, List.of(), List.of()));

    assertEquals(1_000, fx.await(first).status().modelNanos());
    assertEquals(3_000, fx.await(second).status().modelNanos());
  }

  @Test
  void shouldTakeAnEndedJobOutOfTheWaitForGraph() {
    var gpu = gpu(1);
    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("quick", 1_000, List.of(), List.of()));

    assertEquals(1, fx.await(out).status().value());

    fx.f.testKit.createTestProbe().awaitAssert(() -> {
      assertTrue(fx.f.pendingWaits().stream().noneMatch(e -> e.waiter().equals(out.id().toString())), "the job's edge is gone");
      return null;
    });
  }

  @Test
  void shouldRunReadyJobsWithoutBuffersBackToBackAddingTheirModelTimes() {
    var gpu = gpu(1);
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    FenceRef a = fx.submitOk(gpu, "p", JobSpec.compute("a", 1_000, List.of(), List.of()), gate);
    FenceRef b = fx.submitOk(gpu, "p", JobSpec.compute("b", 2_000, List.of(), List.of()));
    FenceRef c = fx.submitOk(gpu, "p", JobSpec.compute("c", 3_000, List.of(), List.of()));

    fx.f.signal(timeline, gate, 0);

    assertEquals(1_000, fx.await(a).status().modelNanos());
    assertEquals(3_000, fx.await(b).status().modelNanos());
    assertEquals(6_000, fx.await(c).status().modelNanos());
  }

  @Test
  void shouldHoldJobUntilItsExplicitInFenceSignals() {
    var gpu = gpu(1);
    var timeline = fx.f.timeline();
    FenceRef in = fx.f.createFence(timeline);

    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("wait", 0, List.of(), List.of()), in);

    assertEquals(0, fx.poll(out).result());
    fx.f.signal(timeline, in, 0);
    assertEquals(1, fx.await(out).status().value());
  }

  @Test
  void shouldMakeReaderWaitForWriterOfTheSameBufferThroughImplicitSync() {
    var gpu = gpu(2);
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "shared", 4096);

    FenceRef writer = fx.submitOk(gpu, "p", JobSpec.compute("write", 0, List.of(), List.of(bo)), gate);
    FenceRef reader = fx.submitOk(gpu, "p", JobSpec.compute("read", 0, List.of(bo), List.of()).onEngine(1));

    assertEquals(0, fx.poll(reader).result());
    fx.f.signal(timeline, gate, 0);
    assertEquals(1, fx.await(reader).status().value());
    assertEquals(1, fx.poll(writer).status().value());
  }

  @Test
  void shouldNotMakeTwoReadersWaitForEachOther() {
    var gpu = gpu(2);
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "shared", 4096);

    fx.submitOk(gpu, "p", JobSpec.compute("read1", 0, List.of(bo), List.of()), gate);
    FenceRef second = fx.submitOk(gpu, "p", JobSpec.compute("read2", 0, List.of(bo), List.of()).onEngine(1));

    assertEquals(1, fx.await(second).status().value());
  }

  @Test
  void shouldFailJobWithTheErrorOfAFailedDependency() {
    var gpu = gpu(1);
    var timeline = fx.f.timeline();
    FenceRef in = fx.f.createFence(timeline);
    fx.f.signal(timeline, in, Errno.EIO.negative());

    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("dep-failed", 0, List.of(), List.of()), in);

    assertEquals(Errno.EIO.negative(), fx.await(out).status().value());
  }

  @Test
  void shouldKeepEcanceledWhenTheDependencyWasCancelled() {
    var gpu = gpu(1);
    var timeline = fx.f.timeline();
    FenceRef in = fx.f.createFence(timeline);
    fx.f.signal(timeline, in, Errno.ECANCELED.negative());

    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("dep-cancelled", 0, List.of(), List.of()), in);

    assertEquals(Errno.ECANCELED.negative(), fx.await(out).status().value());
  }

  @Test
  void shouldNotWriteBuffersOfAJobWhoseDependencyFailed() {
    var gpu = gpu(1);
    var timeline = fx.f.timeline();
    FenceRef in = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "out", 4096);
    String before = fx.checksum(gpu, bo);
    fx.f.signal(timeline, in, Errno.EIO.negative());

    fx.await(fx.submitOk(gpu, "p", JobSpec.compute("skipped", 0, List.of(), List.of(bo)), in));

    assertEquals(before, fx.checksum(gpu, bo));
  }

  @Test
  void shouldWriteDeterministicContentDerivedFromTheJobAndItsInput() {
    var gpu = gpu(1);
    int in = fx.createBo(gpu, "p", "in", 8192);
    int out = fx.createBo(gpu, "p", "out", 8192);
    String empty = fx.checksum(gpu, out);

    fx.await(fx.submitOk(gpu, "p", JobSpec.compute("fill", 0, List.of(), List.of(in))));
    fx.await(fx.submitOk(gpu, "p", JobSpec.compute("consume", 0, List.of(in), List.of(out))));

    assertNotEquals(empty, fx.checksum(gpu, out));
  }

  @Test
  void shouldRefuseABufferOfAnotherProcessWithEnoent() {
    var gpu = fx.driver(DeviceSpec.gpu("nopt" + DEVICES.incrementAndGet()).withPageTables(false));
    int theirs = fx.createBo(gpu, "other", "secret", 4096);

    DriverProtocol.SubmitReply reply = fx.submit(gpu, "p", JobSpec.compute("peek", 0, List.of(theirs), List.of()));

    assertEquals(Errno.ENOENT.negative(), reply.result());
  }

  @Test
  void shouldRefuseAnEngineTheDeviceDoesNotHaveWithEinval() {
    var gpu = gpu(1);

    assertEquals(Errno.EINVAL.negative(), fx.submit(gpu, "p", JobSpec.compute("x", 0, List.of(), List.of()).onEngine(3)).result());
  }

  @Test
  void shouldRefuseVramBeyondTheDeviceWithEnomem() {
    var gpu = fx.driver(DeviceSpec.gpu("small" + DEVICES.incrementAndGet()).withVram(1 << 20));
    var probe = fx.f.testKit.<DriverProtocol.BoReply>createTestProbe();

    gpu.tell(new DriverProtocol.CreateBo("p", "big", 2 << 20, DriverProtocol.Placement.VRAM, probe.ref()));

    assertEquals(Errno.ENOMEM.negative(), probe.receiveMessage().result());
  }

  @Test
  void shouldMakeCpuAccessWaitForTheWriter() {
    var gpu = gpu(1);
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "buf", 4096);
    fx.submitOk(gpu, "p", JobSpec.compute("write", 0, List.of(), List.of(bo)), gate);
    var probe = fx.f.testKit.<DriverProtocol.Result>createTestProbe();

    gpu.tell(new DriverProtocol.CpuAccess("p", bo, 1, probe.ref()));
    probe.expectNoMessage(java.time.Duration.ofMillis(200));
    fx.f.signal(timeline, gate, 0);

    assertEquals(0, probe.receiveMessage().result());
  }

  @Test
  void shouldRefuseCpuAccessWithoutDirectionWithEinval() {
    var gpu = gpu(1);
    int bo = fx.createBo(gpu, "p", "buf", 4096);

    assertEquals(Errno.EINVAL.negative(), fx.call(r -> new DriverProtocol.CpuAccess("p", bo, 4, r), gpu));
  }

  @Test
  void shouldCopyContentBetweenBuffers() {
    var gpu = gpu(1);
    int src = fx.createBo(gpu, "p", "src", 1 << 20);
    int dst = fx.createBo(gpu, "p", "dst", 1 << 20);
    fx.await(fx.submitOk(gpu, "p", JobSpec.compute("fill", 0, List.of(), List.of(src))));

    WaitResult r = fx.await(fx.submitOk(gpu, "p", JobSpec.copy("copy", 0, new JobSpec.Copy(src, 0, dst, 0, 1 << 20))));

    assertTrue(r.signalled());
    assertEquals(fx.checksum(gpu, src), fx.checksum(gpu, dst));
  }

  @Test
  void aForeignInFencePastTheDevicesForeignFenceTimeoutFailsTheJobWithETIMEDOUT() {
    var gpu = fx.driver(DeviceSpec.gpu("gpu" + DEVICES.incrementAndGet()).withForeignFenceTimeout(java.time.Duration.ofMillis(100)));
    FenceRef never = fx.f.createFence(fx.f.timeline()); // another device's (a timeline's) fence that never signals

    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("gives-up", 0, List.of(), List.of()), never);

    assertEquals(-110, fx.await(out).status().value());
  }

  @Test
  void withoutAForeignFenceTimeoutAJobWaitsForItsForeignInFence() {
    var gpu = gpu(1);
    FenceRef never = fx.f.createFence(fx.f.timeline());

    FenceRef out = fx.submitOk(gpu, "p", JobSpec.compute("waits", 0, List.of(), List.of()), never);

    assertEquals(0, fx.f.await(out, java.time.Duration.ofMillis(300)).result());
  }

  @Test
  void aJobStartsInModelTimeNoEarlierThanAnImplicitDependencyThatHadAlreadySignalled() {
    var gpu = gpu(2);
    int bo = fx.createBo(gpu, "p", "shared", 4096);
    FenceRef writer = fx.submitOk(gpu, "p", new JobSpec(0, 2_000_000, List.of(), List.of(bo), null, "writer"));
    assertEquals(2_000_000, fx.await(writer).status().modelNanos());

    FenceRef reader = fx.submitOk(gpu, "p", new JobSpec(1, 1_000, List.of(bo), List.of(), null, "reader")); // other engine

    assertEquals(2_001_000, fx.await(reader).status().modelNanos());
  }
}
