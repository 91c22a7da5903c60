package dev.fencelab.node.wire;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.ChainFindSeqno;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceChain;
import dev.fencelab.node.fence.FenceContext;
import dev.fencelab.node.fence.FenceId;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.resv.AcquireCtx;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.node.sync.SwSyncTimeline;
import java.io.NotSerializableException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every node wire message round-trips through protobuf, and every registered type is covered. */
class NodeSerializerTest {
  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("node-serializer-test", ConfigFactory.load("application-test"));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static List<Object> everyNodeMessage() {
    List<Object> all = new java.util.ArrayList<>(fenceMessages());
    all.addAll(deviceMessages());
    all.addAll(mmMessages());
    all.addAll(rdmaMessages());
    return all;
  }

  static List<Object> rdmaMessages() {
    var nic = testKit.<Object>createTestProbe().ref();
    List<dev.fencelab.node.mm.Frames> frames = List.of(new dev.fencelab.node.mm.Frames(0x7fff_0000_0000L, 16, 0x10_0000));
    List<Chunk> chunks = List.of(new Chunk.Bytes(0, new byte[] {1, 2, 3}), new Chunk.Pattern(3, 262141, 77, 3));
    return List.of(
        new dev.fencelab.node.mm.MmProtocol.LongTermPin("n1/nic1", 0x7fff_0000_0000L, 65536, true,
            testKit.<dev.fencelab.node.mm.MmProtocol.Pinned>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.Pinned(0, 3, frames, 16),
        new dev.fencelab.node.mm.MmProtocol.Pinned(-12, 0, List.of(), 4),
        new dev.fencelab.node.mm.MmProtocol.Unpin(3, testKit.<dev.fencelab.node.mm.MmProtocol.Result>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.Faulted(0, frames, 16),
        new dev.fencelab.node.rdma.RdmaProtocol.Connect("qp1", "qp2", nic,
            testKit.<dev.fencelab.node.rdma.RdmaProtocol.Connected>createTestProbe().ref()),
        new dev.fencelab.node.rdma.RdmaProtocol.Connected(-22, "qp qp1 is connected already"),
        new dev.fencelab.node.rdma.RdmaProtocol.Request("qp1", 7, dev.fencelab.node.rdma.Verbs.Opcode.READ, "mr_pin", 4096, 1L << 20, 9_200),
        new dev.fencelab.node.rdma.RdmaProtocol.Data("qp2", 7, 262144, chunks, 30_000),
        new dev.fencelab.node.rdma.RdmaProtocol.DataAck("qp1", 7, 262144, 31_000),
        new dev.fencelab.node.rdma.RdmaProtocol.Complete("qp2", 7, 10, 32_000),
        new dev.fencelab.node.rdma.RdmaProtocol.Acks("qp2", List.of(7L, 8L, 9L), List.of(32_000L, 32_100L, 32_100L)),
        new dev.fencelab.node.rdma.RdmaProtocol.Request("qp1", 8, dev.fencelab.node.rdma.Verbs.Opcode.SEND, "", 0, 3, 9_300,
            List.of(new Chunk.Bytes(0, new byte[] {7, 7, 7}))),
        new dev.fencelab.node.cluster.DeviceControl.RunRdmaBench(16L << 20, 16, 5000, testKit.<dev.fencelab.protocol.control.NodeControl>createTestProbe().ref(),
            testKit.<FenceControl.BenchReport>createTestProbe().ref()),
        new dev.fencelab.node.cluster.DeviceControl.SpawnRdmaPeer(1L << 20, nic,
            testKit.<dev.fencelab.node.cluster.DeviceControl.RdmaPeerReady>createTestProbe().ref()),
        new dev.fencelab.node.cluster.DeviceControl.RdmaPeerReady(nic, "bench-qp", "bench-mr", 0, ""));
  }

  static List<Object> mmMessages() {
    var mm = testKit.<dev.fencelab.node.mm.MmProtocol.Command>createTestProbe().ref();
    List<dev.fencelab.node.mm.Frames> frames = List.of(new dev.fencelab.node.mm.Frames(0x7fff_0000_0000L, 16, 0x10_0000),
        new dev.fencelab.node.mm.Frames(0x7fff_0001_0000L, 1, 0x20_0000));
    List<Chunk> chunks = List.of(new Chunk.Bytes(0, new byte[] {9, 8}), new Chunk.Pattern(2, 4094, 5, 2));
    return List.of(
        new dev.fencelab.node.mm.MmProtocol.NotifierInsert(testKit.<dev.fencelab.node.mm.MmProtocol.Invalidate>createTestProbe().ref(),
            "n2/gpuB/u1", 0x7fff_0000_0000L, 1L << 20, testKit.<dev.fencelab.node.mm.MmProtocol.Inserted>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.Inserted(0, 4, 1),
        new dev.fencelab.node.mm.MmProtocol.Inserted(-75, 0, 0),
        new dev.fencelab.node.mm.MmProtocol.NotifierRemove(4, testKit.<dev.fencelab.node.mm.MmProtocol.Result>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.ReadBegin(4, testKit.<dev.fencelab.node.mm.MmProtocol.Result>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.Result(-16, 7),
        new dev.fencelab.node.mm.MmProtocol.RangeFault(4, 3, 0x7fff_0000_0000L, 65536, true, false,
            testKit.<dev.fencelab.node.mm.MmProtocol.Faulted>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.Faulted(0, frames),
        new dev.fencelab.node.mm.MmProtocol.Faulted(-14, List.of()),
        new dev.fencelab.node.mm.MmProtocol.DmaRead("n2/gpuB/u1", 0x7fff_0000_1000L, 4096, frames, 12,
            testKit.<dev.fencelab.node.mm.MmProtocol.DmaData>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.DmaData(12, 0, chunks),
        new dev.fencelab.node.mm.MmProtocol.DmaWrite("n2/gpuB/u1", 0x7fff_0000_0000L, chunks, frames, 13,
            testKit.<dev.fencelab.node.mm.MmProtocol.DmaAck>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.DmaAck(13, -19),
        new dev.fencelab.node.mm.MmProtocol.DmaBatch(List.of(
            new dev.fencelab.node.mm.MmProtocol.DmaRead("n2/nic1", 0x7fff_0000_1000L, 64, frames, 14,
                testKit.<dev.fencelab.node.mm.MmProtocol.DmaData>createTestProbe().ref()),
            new dev.fencelab.node.mm.MmProtocol.DmaWrite("n2/nic1", 0x7fff_0000_0000L, chunks, frames, 15,
                testKit.<dev.fencelab.node.mm.MmProtocol.DmaAck>createTestProbe().ref()),
            new dev.fencelab.node.mm.MmProtocol.DmaRead("n2/nic1", 0x7fff_0000_2000L, 64, frames, 16,
                testKit.<dev.fencelab.node.mm.MmProtocol.DmaData>createTestProbe().ref()))),
        new dev.fencelab.node.mm.MmProtocol.Invalidate(5, 4, 0x7fff_0000_0000L, 0x7fff_0010_0000L, 3, dev.fencelab.node.mm.MmuEvent.MIGRATE,
            false, "n2/gpuB", "n3/P", testKit.<dev.fencelab.node.mm.MmProtocol.InvalidateDone>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.InvalidateDone(5, 4, false),
        new DriverProtocol.CreateUserptr("n3/P", "u1", mm, 0x7fff_0000_0000L, 1L << 20,
            testKit.<DriverProtocol.BoReply>createTestProbe().ref()),
        new DeviceControl.PlaceDevice(new DeviceSpec("gpuF", DeviceSpec.Kind.GPU, 1, 1L << 30, true, true, java.time.Duration.ofSeconds(2),
            DeviceSpec.UserptrPolicy.FAULT, java.time.Duration.ofMillis(3)), testKit.<DeviceControl.DevicePlaced>createTestProbe().ref()),
        new DeviceControl.PlaceDevice(DeviceSpec.gpu("gpuK").withSignalling(new DeviceSpec.SignallingPath(dev.fencelab.node.lockdep.Gfp.KERNEL,
            true, dev.fencelab.node.lockdep.Gfp.NOIO, true)), testKit.<DeviceControl.DevicePlaced>createTestProbe().ref()),
        new FenceControl.ProcessSpawned(testKit.<dev.fencelab.node.process.ProcessProtocol.Command>createTestProbe().ref(), 0, mm),
        new DeviceControl.SpawnAckSubscriber(testKit.<DeviceControl.AckSubscriberSpawned>createTestProbe().ref()),
        new DeviceControl.AckSubscriberSpawned(testKit.<dev.fencelab.node.mm.MmProtocol.Invalidate>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.InvalidateDone(6, 4, true, 1_500_000_000L));
  }

  static List<Object> deviceMessages() {
    var fenceActor = testKit.<FenceProtocol.Command>createTestProbe().ref();
    var owner = testKit.<ContextOwner.Command>createTestProbe().ref();
    FenceRef ref = new FenceRef(new FenceId(new FenceContext(9, 3), 4), FenceRef.Kind.HARDWARE, false, fenceActor, owner, 0);
    var driver = testKit.<DriverProtocol.Command>createTestProbe().ref();
    DmaBufRef buf = new DmaBufRef("n1/gpu0/shared", 1L << 40, driver, 3, testKit.<Resv.Command>createTestProbe().ref());
    JobSpec job = new JobSpec(1, 5_000_000, List.of(1, 2), List.of(3), new JobSpec.Copy(1, 0, 3, 4096, 1 << 20), "fill");
    JobSpec plain = JobSpec.compute("j", 0, List.of(), List.of(7));
    List<Chunk> chunks = List.of(new Chunk.Bytes(0, new byte[] {1, 2, 3}), new Chunk.Pattern(3, 1L << 33, 0x8000_0000_0000_0001L, 77));
    return List.of(
        new DeviceControl.PlaceDevice(new DeviceSpec("gpu0", DeviceSpec.Kind.GPU, 2, 1L << 34, true, false, java.time.Duration.ofSeconds(10)),
            testKit.<DeviceControl.DevicePlaced>createTestProbe().ref()),
        new DeviceControl.PlaceDevice(new DeviceSpec("nic", DeviceSpec.Kind.RDMA_NIC, 1, 0, false, true, java.time.Duration.ofMillis(5)),
            testKit.<DeviceControl.DevicePlaced>createTestProbe().ref()),
        new DeviceControl.DevicePlaced(driver, 0, ""),
        new DeviceControl.DevicePlaced(null, -17, "taken"),
        new DeviceControl.RunDeviceBench(100, 1 << 20, 4, testKit.<dev.fencelab.protocol.control.NodeControl>createTestProbe().ref(),
            testKit.<FenceControl.BenchReport>createTestProbe().ref()),
        new DeviceControl.SpawnRawSource(testKit.<DeviceControl.RawSourceSpawned>createTestProbe().ref()),
        new DeviceControl.RawSourceSpawned(driver),
        new DriverProtocol.Result(-16),
        new DriverProtocol.CreateBo("n1/p", "bo", 1L << 36, DriverProtocol.Placement.VRAM, testKit.<DriverProtocol.BoReply>createTestProbe().ref()),
        new DriverProtocol.BoReply(0, 4),
        new DriverProtocol.Submit("n1/p", job, List.of(ref, FenceRef.stub()), testKit.<DriverProtocol.SubmitReply>createTestProbe().ref()),
        new DriverProtocol.Submit("n1/p", plain, List.of(), testKit.<DriverProtocol.SubmitReply>createTestProbe().ref()),
        new DriverProtocol.SubmitReply(0, ref),
        new DriverProtocol.SubmitReply(-125, null),
        new DriverProtocol.Export("n1/p", 3, testKit.<DriverProtocol.ExportReply>createTestProbe().ref()),
        new DriverProtocol.ExportReply(0, buf),
        new DriverProtocol.ExportReply(-2, null),
        new DriverProtocol.Import("n2/q", buf, true, testKit.<DriverProtocol.BoReply>createTestProbe().ref()),
        new DriverProtocol.Import("n2/q", buf, true, false, true, testKit.<DriverProtocol.BoReply>createTestProbe().ref()),
        new DriverProtocol.MapBo("n2/q", 1, testKit.<DriverProtocol.MapReply>createTestProbe().ref()),
        new DriverProtocol.MapReply(0, List.of(new DriverProtocol.Segment(0x80_0000_0000L, 1L << 40))),
        new DriverProtocol.MapReply(0, List.of(new DriverProtocol.Segment(0x1_0000_0000L, 4096)), true, 4096, 128, "host_memory"),
        new DriverProtocol.Pin("n2/q", 1, true, testKit.<DriverProtocol.Result>createTestProbe().ref()),
        new DriverProtocol.CpuAccess("n2/q", 1, 2, testKit.<DriverProtocol.Result>createTestProbe().ref()),
        new DriverProtocol.Evict(1, testKit.<DriverProtocol.EvictReply>createTestProbe().ref()),
        new DriverProtocol.EvictReply(0, 2),
        new DriverProtocol.GetResv("n1/p", 3, testKit.<DriverProtocol.ResvReply>createTestProbe().ref()),
        new DriverProtocol.ResvReply(0, testKit.<dev.fencelab.node.resv.Resv.Command>createTestProbe().ref(),
            dev.fencelab.node.resv.Resv.Mode.Y2020),
        new DriverProtocol.ResvReply(-2, null, null),
        new FenceProtocol.StatusReply(new dev.fencelab.node.fence.FenceId(new dev.fencelab.node.fence.FenceContext(7, 3), 9),
            dev.fencelab.node.fence.FenceStatus.PENDING, true, 5, 2),
        new DriverProtocol.Checksum(1, testKit.<DriverProtocol.ChecksumReply>createTestProbe().ref()),
        new DriverProtocol.ChecksumReply(0, "crc32c:0badf00d/4096", 4096),
        new DriverProtocol.Unplug(testKit.<DriverProtocol.UnplugReport>createTestProbe().ref()),
        new DriverProtocol.UnplugReport("gpu0", 3, 1, 2),
        new DriverProtocol.InjectFault(DeviceActor.FaultKind.HANG_ENGINE, 0, testKit.<DriverProtocol.Result>createTestProbe().ref()),
        new DriverProtocol.InjectFault(DeviceActor.FaultKind.FAIL_RESET, 0, testKit.<DriverProtocol.Result>createTestProbe().ref()),
        new DriverProtocol.GetState(testKit.<DriverProtocol.State>createTestProbe().ref()),
        new DriverProtocol.State("gpu0", false, true, 1, List.of("n1/p"),
            List.of(new DriverProtocol.BoInfo(1, "bo", "n1/p", 4096, DriverProtocol.Placement.SYSTEM, true, true, false, 2))),
        new DriverProtocol.Attach(3, true, driver, 5, testKit.<DriverProtocol.Attached>createTestProbe().ref()),
        new DriverProtocol.Attached(0, 1),
        new DriverProtocol.Attach(3, true, driver, 5, testKit.<DriverProtocol.Attached>createTestProbe().ref(), true, "gpuB"),
        new DriverProtocol.Attached(0, 2, false, "gpuA", "pci_p2pdma_distance(gpuA, gpuB) = -1: peer2peer cleared"),
        new dev.fencelab.node.p2p.FabricProtocol.Begin("n1/gpuA/copy#3.1", "gpuB", true, "gpuA", "", false, 1L << 30, 42),
        new dev.fencelab.node.p2p.FabricProtocol.End("n1/gpuA/copy#3.1", testKit.<dev.fencelab.node.p2p.FabricProtocol.Done>createTestProbe().ref()),
        new dev.fencelab.node.p2p.FabricProtocol.Cancel("n1/gpuA/copy#3.1"),
        new DriverProtocol.HoldsDevicePrivate(testKit.<dev.fencelab.node.mm.MmProtocol.Command>createTestProbe().ref()),
        new dev.fencelab.node.mm.MmProtocol.EvictDevicePrivate("n2/gpu0", testKit.<dev.fencelab.node.mm.MmProtocol.Result>createTestProbe().ref()),
        new DriverProtocol.UsePcie("gpuA", dev.fencelab.protocol.scenario.v1.Pcie.newBuilder().setCpuVendor("amd").setCpuFamily(0x19).build(),
            List.of("gpuA", "gpuB"), testKit.<dev.fencelab.node.p2p.FabricProtocol.Command>createTestProbe().ref()),
        new DriverProtocol.UsePcie("gpuB", dev.fencelab.protocol.scenario.v1.Pcie.getDefaultInstance(), List.of(), null),
        new DriverProtocol.Layout(3, 0, 64L << 30, testKit.<DriverProtocol.LayoutReply>createTestProbe().ref()),
        new DriverProtocol.LayoutReply(0, List.of(new dev.fencelab.node.memory.Content.Extent(0, 1L << 34, false),
            new dev.fencelab.node.memory.Content.Extent(1L << 34, 4096, true))),
        new dev.fencelab.node.p2p.FabricProtocol.Done("n1/gpuA/copy#3.1", 33_554_474, "bounce", 33_554_474, "gpuB -> gpuA (bounce)"),
        new DriverProtocol.Detach(3, 1),
        new DriverProtocol.MoveNotified(3, 1),
        new DriverProtocol.MapAttachment(3, 1, testKit.<DriverProtocol.MapReply>createTestProbe().ref()),
        new DriverProtocol.PinAttachment(3, 1, false, testKit.<DriverProtocol.Result>createTestProbe().ref()),
        new DriverProtocol.MoveNotify(5, true),
        new DriverProtocol.ReadRange(3, 4096, 65536, 9, testKit.<DriverProtocol.RangeData>createTestProbe().ref()),
        new DriverProtocol.RangeData(9, 0, chunks),
        new DriverProtocol.WriteRange(3, chunks, 10, testKit.<DriverProtocol.WriteAck>createTestProbe().ref()),
        new DriverProtocol.WriteAck(10, -19),
        buf,
        new ProcessProtocol.ReceiveFd(null, buf, "shared", testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.ExportDmaBuf(driver, 3, testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.ImportDmaBuf(4, driver, false, testKit.<DriverProtocol.BoReply>createTestProbe().ref()),
        new ProcessProtocol.ImportDmaBuf(4, driver, true, false, true, testKit.<DriverProtocol.BoReply>createTestProbe().ref()),
        new ProcessProtocol.SubmitJob(driver, job, List.of(3, 5), true, testKit.<ProcessProtocol.Submitted>createTestProbe().ref()),
        new ProcessProtocol.Submitted(0, 6, ref),
        new ProcessProtocol.Submitted(-2, -1, null),
        new ProcessProtocol.ExportSyncFile(4, 3, testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.ImportSyncFile(4, 2, 5, testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new Resv.Exchange(new AcquireCtx(5, "n1/gpu0 submit 3"), List.of(ref), ResvUsage.WRITE, ResvUsage.READ, testKit.<Resv.Fences>createTestProbe().ref()),
        new Resv.Exchange(null, List.of(), ResvUsage.READ, null, testKit.<Resv.Fences>createTestProbe().ref()));
  }

  static List<Object> fenceMessages() {
    var callback = testKit.<FenceProtocol.Callback>createTestProbe().ref();
    var fenceActor = testKit.<FenceProtocol.Command>createTestProbe().ref();
    var owner = testKit.<ContextOwner.Command>createTestProbe().ref();
    FenceId id = new FenceId(new FenceContext(0x1234_5678_9abc_def0L, 7), 0xFFFF_FFFF_0000_0001L);
    FenceStatus status = new FenceStatus(-62, 1_700_000_000_000_000_000L, 42);
    FenceRef ref = new FenceRef(id, FenceRef.Kind.SW_SYNC, false, fenceActor, owner, 0);
    var waiterA = testKit.<WaitResult>createTestProbe().ref();
    var waiterB = testKit.<WaitResult>createTestProbe().ref();
    return List.of(
        new FenceProtocol.AddCallback(callback, true),
        new FenceProtocol.RemoveCallback(callback, testKit.<FenceProtocol.CallbackRemoved>createTestProbe().ref()),
        new FenceProtocol.RemoveCallback(callback, null),
        new FenceProtocol.Signal(-5, 99, testKit.<FenceProtocol.SignalResult>createTestProbe().ref()),
        new FenceProtocol.Signal(0, 0, null),
        new FenceProtocol.SetError(-125),
        FenceProtocol.EnableSignaling.INSTANCE,
        new FenceProtocol.SetDeadline(123_456),
        new FenceProtocol.GetStatus(testKit.<FenceProtocol.StatusReply>createTestProbe().ref()),
        FenceProtocol.Release.INSTANCE,
        new FenceProtocol.Signalled(id, status, true),
        new dev.fencelab.node.fence.FenceLinks.Batch(testKit.<dev.fencelab.node.fence.FenceLinks.Command>createTestProbe().ref(),
            List.of(ref), List.of(new FenceProtocol.Signalled(id, status, false), new FenceProtocol.Signalled(id, FenceStatus.PENDING, true)),
            List.of(new dev.fencelab.node.fence.FenceLinks.Delivery(waiterA, new WaitResult(id, 7, status, 2)),
                new dev.fencelab.node.fence.FenceLinks.Delivery(waiterB, new WaitResult(id, 0, FenceStatus.PENDING, -1)),
                new dev.fencelab.node.fence.FenceLinks.Delivery(waiterA, new WaitResult(id, 1, status, 3)))),
        new FenceProtocol.CallbackAdded(id),
        new FenceProtocol.CallbackRemoved(id, true),
        new FenceProtocol.SignalResult(id, -22),
        new FenceProtocol.StatusReply(id, FenceStatus.PENDING, true, 5),
        new WaitResult(id, Long.MAX_VALUE, status, 3),
        new ContextOwner.FenceCompleted(id, status),
        new ContextOwner.DeadlineHint(5, 77),
        new ContextOwner.QueryCompletion(id, testKit.<ContextOwner.Completion>createTestProbe().ref()),
        new ContextOwner.Completion(id, true, status),
        new FenceTimeline.CreateFence(testKit.<FenceRef>createTestProbe().ref()),
        new FenceTimeline.SignalFence(3, -19, 10, null),
        new FenceTimeline.SetFenceError(3, -5),
        new FenceTimeline.ReleaseFence(3),
        ref,
        FenceRef.stub(555),
        new SwSyncTimeline.CreatePoint(0xFFFFFFFFL, "pt", testKit.<SwSyncTimeline.PointCreated>createTestProbe().ref()),
        new SwSyncTimeline.PointCreated(ref, 0),
        new SwSyncTimeline.PointCreated(null, -9),
        new SwSyncTimeline.Inc(3),
        SwSyncTimeline.Close.INSTANCE,
        new SwSyncTimeline.GetDeadline(ref, testKit.<SwSyncTimeline.DeadlineReply>createTestProbe().ref()),
        new SwSyncTimeline.DeadlineReply(-2, 0),
        new SwSyncTimeline.GetValue(testKit.<SwSyncTimeline.Value>createTestProbe().ref()),
        new SwSyncTimeline.Value(17, true),
        new FenceControl.RunFenceBench(10, 100, 2, 1000, 50, 0, testKit.<dev.fencelab.protocol.control.NodeControl>createTestProbe().ref(),
            testKit.<FenceControl.BenchReport>createTestProbe().ref()),
        new FenceControl.RunFenceBench(10, 100, 2, 1000, 50, 0, null, testKit.<FenceControl.BenchReport>createTestProbe().ref()),
        new FenceControl.RunScaleBench(10_000_000_000L, 1_000_000, List.of(
            testKit.<dev.fencelab.protocol.control.NodeControl>createTestProbe().ref(),
            testKit.<dev.fencelab.protocol.control.NodeControl>createTestProbe().ref()), testKit.<FenceControl.BenchReport>createTestProbe().ref()),
        new FenceControl.HoldFences(3_333_334, testKit.<FenceControl.BenchReport>createTestProbe().ref()),
        new FenceControl.BenchReport(List.of(dev.fencelab.node.bench.BenchFigure.of("x", "us", 2, 1, false))),
        new FenceControl.SpawnResv("bo1", Resv.Mode.Y2020, testKit.<FenceControl.ResvSpawned>createTestProbe().ref()),
        new FenceControl.SpawnResv("bo1", null, testKit.<FenceControl.ResvSpawned>createTestProbe().ref()),
        new FenceControl.ResvSpawned(testKit.<Resv.Command>createTestProbe().ref(), 0, Resv.Mode.MODERN),
        new Resv.Lock(new AcquireCtx(77, "ctxA"), true, testKit.<Resv.LockReply>createTestProbe().ref()),
        new Resv.TryLock(new AcquireCtx(78, "ctxB"), testKit.<Resv.LockReply>createTestProbe().ref()),
        new Resv.LockReply("bo1", -35),
        new Resv.Unlock(new AcquireCtx(77, "ctxA")),
        new Resv.Reserve(new AcquireCtx(77, "ctxA"), 2, testKit.<Resv.Result>createTestProbe().ref()),
        new Resv.AddFence(new AcquireCtx(77, "ctxA"), ref, ResvUsage.BOOKKEEP, null),
        new Resv.AddShared(new AcquireCtx(77, "ctxA"), ref, List.of("ctx1#1"), testKit.<Resv.Result>createTestProbe().ref()),
        new Resv.AddExclusive(new AcquireCtx(77, "ctxA"), null, List.of(), null),
        new Resv.AddExclusive(new AcquireCtx(77, "ctxA"), ref, List.of("a", "b"), testKit.<Resv.Result>createTestProbe().ref()),
        new Resv.Result(-28),
        new Resv.GetFences(ResvUsage.READ, true, testKit.<Resv.Fences>createTestProbe().ref()),
        new Resv.Fences(List.of(new Resv.Entry(ref, ResvUsage.WRITE, true))),
        new Resv.GetSingleton(ResvUsage.KERNEL, testKit.<Resv.Singleton>createTestProbe().ref()),
        new Resv.Singleton(0, ref),
        new Resv.Singleton(0, null),
        new Resv.Wait(ResvUsage.WRITE, -1, "w", testKit.<WaitResult>createTestProbe().ref()),
        new Resv.Wait2020(true, 0, "w", testKit.<WaitResult>createTestProbe().ref()),
        new Resv.GetState(testKit.<Resv.State>createTestProbe().ref()),
        new Resv.State("bo1", Resv.Mode.Y2020, 3, 4, "ctxA"),
        new FenceControl.SpawnProcess("proc1", testKit.<FenceControl.ProcessSpawned>createTestProbe().ref()),
        new FenceControl.ProcessSpawned(testKit.<ProcessProtocol.Command>createTestProbe().ref(), 0),
        new FenceControl.ProcessSpawned(null, -17),
        new ProcessProtocol.SyncFileCreate(ref, "out", testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.FdReply(3),
        new ProcessProtocol.SyncMerge(3, 4, "merged", 0, 0, testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.SyncFileInfo(3, 2, 0, 0, testKit.<ProcessProtocol.FileInfo>createTestProbe().ref()),
        new ProcessProtocol.FileInfo(0, "merged", -62, 2, List.of(new ProcessProtocol.FenceInfo("ctx1", "fencelab-hardware", 1, 5), new ProcessProtocol.FenceInfo("ctx2", "d", -62, 6))),
        new ProcessProtocol.SyncFileWait(3, -1, testKit.<ProcessProtocol.PollResult>createTestProbe().ref()),
        new ProcessProtocol.PollResult(1, status),
        new ProcessProtocol.SyncSetDeadline(3, 1000, 0, testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.SyncSetDeadline(3, 1000, 1, null),
        new ProcessProtocol.CloseFd(3, testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.GetFence(3, testKit.<ProcessProtocol.FenceReply>createTestProbe().ref()),
        new ProcessProtocol.FenceReply(0, ref),
        new ProcessProtocol.FenceReply(-9, null),
        new ProcessProtocol.SendFd(3, testKit.<ProcessProtocol.Command>createTestProbe().ref(), testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new ProcessProtocol.ReceiveFd(ref, null, "out", testKit.<ProcessProtocol.FdReply>createTestProbe().ref()),
        new FenceProtocol.GetMembers(testKit.<FenceProtocol.Members>createTestProbe().ref()),
        new FenceProtocol.Members(id, FenceRef.Kind.CHAIN, List.of(ref), ref),
        new FenceProtocol.Members(id, FenceRef.Kind.HARDWARE, List.of(), null),
        new FenceChain.ChainStep(testKit.<FenceChain.ChainStepReply>createTestProbe().ref()),
        new FenceChain.ChainStepReply(id, true, 41, ref),
        new FenceChain.ChainStepReply(id, false, 0, null),
        new Containers.CreateArray(List.of(ref, FenceRef.stub()), true, new FenceContext(3, 4), 9, testKit.<FenceRef>createTestProbe().ref()),
        new Containers.CreateArray(List.of(ref), false, null, 1, testKit.<FenceRef>createTestProbe().ref()),
        new Containers.CreateChain(ref, ref, 12, testKit.<FenceRef>createTestProbe().ref()),
        new Containers.CreateChain(null, ref, 1, testKit.<FenceRef>createTestProbe().ref()),
        new Containers.Merge(List.of(ref, ref), testKit.<FenceRef>createTestProbe().ref()),
        new Containers.FindSeqno(ref, 3, testKit.<ChainFindSeqno.SeqnoFound>createTestProbe().ref()),
        new ChainFindSeqno.SeqnoFound(0, ref),
        new ChainFindSeqno.SeqnoFound(-22, null),
        new Containers.QueryMembers(id, testKit.<FenceProtocol.Members>createTestProbe().ref()),
        new Containers.QueryChainStep(id, testKit.<FenceChain.ChainStepReply>createTestProbe().ref()),
        new FenceControl.SpawnTimeline(FenceControl.TimelineKind.CONTAINERS, "c", testKit.<FenceControl.TimelineSpawned>createTestProbe().ref()),
        new FenceControl.SpawnTimeline(FenceControl.TimelineKind.SW_SYNC, "tl", testKit.<FenceControl.TimelineSpawned>createTestProbe().ref()),
        new FenceControl.TimelineSpawned(owner, 0),
        new FenceControl.TimelineSpawned(null, -17),
        new FenceControl.WaitFence(ref, -1, "proc1", "poll", testKit.<WaitResult>createTestProbe().ref()),
        new FenceControl.WaitAnyFence(List.of(ref, FenceRef.stub()), 1000, "proc1", "any", testKit.<WaitResult>createTestProbe().ref()));
  }

  @Test
  void shouldRoundTripEveryNodeMessageThroughProtobuf() throws Exception {
    for (Object message : everyNodeMessage()) {
      Serializer serializer = serialization.findSerializerFor(message);
      assertEquals(NodeSerializer.IDENTIFIER, serializer.identifier(), "serializer bound for " + message.getClass());
      byte[] bytes = serialization.serialize(message).get();
      Object back = serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
      assertEquals(message, back);
    }
  }

  @Test
  void shouldCoverEveryRegisteredMessageTypeInTheRoundTrip() throws Exception {
    NodeSerializer serializer = (NodeSerializer) serialization.serializerFor(FenceProtocol.Signal.class);
    Set<Class<?>> covered = new HashSet<>();
    for (Object m : everyNodeMessage()) {
      covered.add(m.getClass());
    }

    assertEquals(serializer.knownTypes(), covered);
  }

  @Test
  void shouldRejectMalformedProtobufNamingTheMessage() throws Exception {
    NodeSerializer serializer = (NodeSerializer) serialization.serializerFor(FenceProtocol.Signal.class);

    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(new byte[] {(byte) 0xFF, (byte) 0xFF, 0x01}, "F.Signalled"));

    assertTrue(e.getMessage().contains("malformed protobuf for node message F.Signalled"), e.getMessage());
  }

  @Test
  void shouldRejectUnknownManifest() throws Exception {
    NodeSerializer serializer = (NodeSerializer) serialization.serializerFor(FenceProtocol.Signal.class);

    NotSerializableException e = assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "F.Teleport"));

    assertTrue(e.getMessage().contains("unknown node message manifest 'F.Teleport'"), e.getMessage());
  }
}
