package dev.fencelab.node.driver;

import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/** Drivers, processes and the calls tests make, on one test kit (serialize-messages on). */
final class DeviceFixture implements AutoCloseable {
  final FenceFixture f;
  private final ActorRef<dev.fencelab.node.fence.ContextOwner.Command> containers;
  private int processes;

  DeviceFixture(String name) {
    f = new FenceFixture(name, Duration.ofSeconds(20));
    containers = f.containers();
  }

  ActorRef<DriverProtocol.Command> driver(DeviceSpec spec) {
    return f.testKit.spawn(DriverActor.create(spec, "test/" + spec.name(), f.services, containers, DriverSettings.defaults()),
        "driver-" + spec.name());
  }

  /** A process named {@code name} (its driver calls carry this name). */
  ActorRef<ProcessProtocol.Command> process(String name) {
    return f.testKit.spawn(ProcessActor.create(name, containers, f.services), "process-" + name + "-" + processes++);
  }

  int createBo(ActorRef<DriverProtocol.Command> driver, String process, String name, long size) {
    TestProbe<DriverProtocol.BoReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.CreateBo(process, name, size, DriverProtocol.Placement.VRAM, probe.ref()));
    DriverProtocol.BoReply reply = probe.receiveMessage();
    if (reply.result() != 0) {
      throw new AssertionError("CreateBo failed: " + reply.result());
    }
    return reply.handle();
  }

  DriverProtocol.SubmitReply submit(ActorRef<DriverProtocol.Command> driver, String process, JobSpec job, FenceRef... in) {
    TestProbe<DriverProtocol.SubmitReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.Submit(process, job, List.of(in), probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  FenceRef submitOk(ActorRef<DriverProtocol.Command> driver, String process, JobSpec job, FenceRef... in) {
    DriverProtocol.SubmitReply reply = submit(driver, process, job, in);
    if (reply.result() != 0) {
      throw new AssertionError("submit failed: " + reply.result());
    }
    return reply.outFence();
  }

  WaitResult await(FenceRef fence) {
    return f.await(fence, Duration.ofSeconds(10));
  }

  WaitResult poll(FenceRef fence) {
    return f.await(fence, Duration.ZERO);
  }

  String checksum(ActorRef<DriverProtocol.Command> driver, int handle) {
    TestProbe<DriverProtocol.ChecksumReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.Checksum(handle, probe.ref()));
    DriverProtocol.ChecksumReply reply = probe.receiveMessage(Duration.ofSeconds(10));
    if (reply.result() != 0) {
      throw new AssertionError("checksum failed: " + reply.result());
    }
    return reply.checksum();
  }

  DmaBufRef export(ActorRef<DriverProtocol.Command> driver, String process, int handle) {
    TestProbe<DriverProtocol.ExportReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.Export(process, handle, probe.ref()));
    return probe.receiveMessage().buf();
  }

  /** An import by a P2P-capable importer (allow_peer2peer): without a fabric, the exporter keeps the buffer in VRAM. */
  DriverProtocol.BoReply importBuf(ActorRef<DriverProtocol.Command> driver, String process, DmaBufRef buf, boolean dynamic) {
    return importBuf(driver, process, buf, dynamic, true);
  }

  DriverProtocol.BoReply importBuf(ActorRef<DriverProtocol.Command> driver, String process, DmaBufRef buf, boolean dynamic, boolean peer2peer) {
    TestProbe<DriverProtocol.BoReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.Import(process, buf, dynamic, false, peer2peer, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  DriverProtocol.MapReply map(ActorRef<DriverProtocol.Command> driver, String process, int handle) {
    TestProbe<DriverProtocol.MapReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.MapBo(process, handle, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  DriverProtocol.EvictReply evict(int handle, ActorRef<DriverProtocol.Command> driver) {
    org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<DriverProtocol.EvictReply> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.Evict(handle, probe.ref()));
    return probe.receiveMessage(java.time.Duration.ofSeconds(10));
  }

  int call(java.util.function.Function<ActorRef<DriverProtocol.Result>, DriverProtocol.Command> call, ActorRef<DriverProtocol.Command> driver) {
    TestProbe<DriverProtocol.Result> probe = f.testKit.createTestProbe();
    driver.tell(call.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10)).result();
  }

  DriverProtocol.State state(ActorRef<DriverProtocol.Command> driver) {
    TestProbe<DriverProtocol.State> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.GetState(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  DriverProtocol.UnplugReport unplug(ActorRef<DriverProtocol.Command> driver) {
    TestProbe<DriverProtocol.UnplugReport> probe = f.testKit.createTestProbe();
    driver.tell(new DriverProtocol.Unplug(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  <T> T ask(java.util.function.Function<ActorRef<T>, ProcessProtocol.Command> call, ActorRef<ProcessProtocol.Command> process) {
    TestProbe<T> probe = f.testKit.createTestProbe();
    process.tell(call.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  @Override
  public void close() {
    f.close();
  }
}
