package dev.fencelab.it;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.testkit.TestClient;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The seed story of the devices issue, driven from a test client: GPU A on n1 writes a shared buffer and publishes
 * fence_A (gated by a fence the test signals, so the order is the test's); GPU B on n2 imports the dma-buf and copies
 * it into its own buffer (implicitly waiting on fence_A), publishing fence_B; process C on n3 receives fence_B as a
 * sync_file and waits on it.
 */
final class SeedPipeline {
  static final long SIZE = 4L << 20;

  final TestClient client;
  final String tag;
  ActorRef<DriverProtocol.Command> gpuA;
  ActorRef<DriverProtocol.Command> gpuB;
  ActorRef<ProcessProtocol.Command> procA;
  ActorRef<ProcessProtocol.Command> procB;
  ActorRef<ProcessProtocol.Command> procC;
  ActorRef<ContextOwner.Command> gateTimeline;
  FenceRef gate;
  int shared;
  int imported;
  int out;
  ProcessProtocol.Submitted fenceA;
  ProcessProtocol.Submitted fenceB;
  int fenceBFdInC;

  SeedPipeline(TestClient client, String tag) {
    this.client = client;
    this.tag = tag;
  }

  <T> T ask(Function<ActorRef<T>, ?> call, ActorRef<?> target) {
    TestProbe<T> probe = client.testKit().createTestProbe();
    @SuppressWarnings("unchecked")
    ActorRef<Object> t = (ActorRef<Object>) target;
    t.tell(call.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(20));
  }

  /** Places the devices and processes; {@code timeoutA} is GPU A's job timeout. */
  SeedPipeline place(Duration timeoutA) {
    gpuA = device("n1", DeviceSpec.gpu("gpuA-" + tag).withJobTimeout(timeoutA));
    gpuB = device("n2", DeviceSpec.gpu("gpuB-" + tag));
    procA = process("n1", "pA-" + tag);
    procB = process("n2", "pB-" + tag);
    procC = process("n3", "pC-" + tag);
    FenceControl.TimelineSpawned spawned = ask(r -> new FenceControl.SpawnTimeline(FenceControl.TimelineKind.DRIVER, "gate-" + tag, r),
        client.agent("n1"));
    gateTimeline = spawned.owner();
    gate = ask(FenceTimeline.CreateFence::new, gateTimeline);
    return this;
  }

  private ActorRef<DriverProtocol.Command> device(String node, DeviceSpec spec) {
    DeviceControl.DevicePlaced placed = ask(r -> new DeviceControl.PlaceDevice(spec, r), client.agent(node));
    assertEquals(0, placed.error(), placed.detail());
    return placed.driver();
  }

  private ActorRef<ProcessProtocol.Command> process(String node, String name) {
    FenceControl.ProcessSpawned spawned = ask(r -> new FenceControl.SpawnProcess(name, r), client.agent(node));
    assertEquals(0, spawned.error());
    return spawned.process();
  }

  String name(String node, String process) {
    return node + "/" + process + "-" + tag;
  }

  /** Buffers, export, import; B's own buffer is filled first so that "it keeps its content" is checkable. */
  SeedPipeline buffers() {
    shared = createBo(gpuA, name("n1", "pA"), "shared");
    out = createBo(gpuB, name("n2", "pB"), "out");
    ProcessProtocol.Submitted init = ask(r -> new ProcessProtocol.SubmitJob(gpuB, JobSpec.compute("init-out", 1_000, List.of(), List.of(out)),
        List.of(), false, r), procB);
    assertEquals(0, init.result());
    ProcessProtocol.FdReply dmabufFd = ask(r -> new ProcessProtocol.ExportDmaBuf(gpuA, shared, r), procA);
    ProcessProtocol.FdReply inB = ask(r -> new ProcessProtocol.SendFd(dmabufFd.fd(), procB, r), procA);
    DriverProtocol.BoReply imp = ask(r -> new ProcessProtocol.ImportDmaBuf(inB.fd(), gpuB, true, r), procB);
    assertEquals(0, imp.result());
    imported = imp.handle();
    return this;
  }

  private int createBo(ActorRef<DriverProtocol.Command> gpu, String process, String name) {
    DriverProtocol.BoReply reply = ask(r -> new DriverProtocol.CreateBo(process, name, SIZE, DriverProtocol.Placement.VRAM, r), gpu);
    assertEquals(0, reply.result());
    return reply.handle();
  }

  /** Job A (gated), job B (implicitly after A), fence_B passed to C. */
  SeedPipeline submit() {
    int gateFd = this.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.SyncFileCreate(gate, "gate", r), procA).fd();
    fenceA = ask(r -> new ProcessProtocol.SubmitJob(gpuA, JobSpec.compute("fill-shared", 2_000_000, List.of(), List.of(shared)),
        List.of(gateFd), true, r), procA);
    assertEquals(0, fenceA.result());
    fenceB = ask(r -> new ProcessProtocol.SubmitJob(gpuB, JobSpec.copy("consume", 1_000_000, new JobSpec.Copy(imported, 0, out, 0, SIZE)),
        List.of(), true, r), procB);
    assertEquals(0, fenceB.result());
    fenceBFdInC = this.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.SendFd(fenceB.outFd(), procC, r), procB).fd();
    return this;
  }

  void openGate() {
    TestProbe<dev.fencelab.node.fence.FenceProtocol.SignalResult> probe = client.testKit().createTestProbe();
    gateTimeline.tell(new FenceTimeline.SignalFence(gate.id().seqno(), 0, 0, probe.ref()));
    assertEquals(0, probe.receiveMessage(Duration.ofSeconds(10)).result());
  }

  ProcessProtocol.PollResult waitInC(Duration timeout) {
    TestProbe<ProcessProtocol.PollResult> probe = client.testKit().createTestProbe();
    procC.tell(new ProcessProtocol.SyncFileWait(fenceBFdInC, timeout.toMillis(), probe.ref()));
    return probe.receiveMessage(timeout.plusSeconds(30));
  }

  DriverProtocol.ChecksumReply checksum(ActorRef<DriverProtocol.Command> gpu, int handle) {
    return ask(r -> new DriverProtocol.Checksum(handle, r), gpu);
  }

  void hangA() {
    assertEquals(0, this.<DriverProtocol.Result>ask(r -> new DriverProtocol.InjectFault(DeviceActor.FaultKind.HANG_ENGINE, 0, r), gpuA).result());
  }
}
