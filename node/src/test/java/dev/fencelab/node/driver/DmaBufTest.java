package dev.fencelab.node.driver;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;

/** dma-buf export/import/map/pin/move_notify, the sync_file bridge, and soft unplug (kernel-semantics §1.12). */
class DmaBufTest {
  private static DeviceFixture fx;
  private static final AtomicInteger DEVICES = new AtomicInteger();

  @BeforeAll
  static void start() {
    fx = new DeviceFixture("dmabuf-test");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  private static ActorRef<DriverProtocol.Command> gpu() {
    return fx.driver(DeviceSpec.gpu("gpu" + DEVICES.incrementAndGet()));
  }

  /** An exporter, an importer, and the shared buffer imported into the importer for process "q". */
  private record Shared(ActorRef<DriverProtocol.Command> exporter, int handle, DmaBufRef buf,
      ActorRef<DriverProtocol.Command> importer, int imported) {}

  private static Shared shared(boolean dynamic) {
    var a = gpu();
    var b = gpu();
    int bo = fx.createBo(a, "p", "shared", 1 << 20);
    DmaBufRef buf = fx.export(a, "p", bo);
    DriverProtocol.BoReply imp = fx.importBuf(b, "q", buf, dynamic);
    assertEquals(0, imp.result());
    return new Shared(a, bo, buf, b, imp.handle());
  }

  @Test
  void shouldLetTheImporterReadWhatTheExporterWrote() {
    Shared s = shared(true);
    int out = fx.createBo(s.importer(), "q", "out", 1 << 20);
    fx.await(fx.submitOk(s.exporter(), "p", JobSpec.compute("fill", 0, List.of(), List.of(s.handle()))));

    fx.await(fx.submitOk(s.importer(), "q", JobSpec.copy("copy", 0, new JobSpec.Copy(s.imported(), 0, out, 0, 1 << 20))));

    assertEquals(fx.checksum(s.exporter(), s.handle()), fx.checksum(s.importer(), out));
  }

  @Test
  void shouldMakeTheImportersJobWaitForTheExportersWriteFence() {
    Shared s = shared(true);
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    fx.submitOk(s.exporter(), "p", JobSpec.compute("fill", 0, List.of(), List.of(s.handle())), gate);

    FenceRef reader = fx.submitOk(s.importer(), "q", JobSpec.compute("read", 0, List.of(s.imported()), List.of()));

    assertEquals(0, fx.poll(reader).result());
    fx.f.signal(timeline, gate, 0);
    assertEquals(1, fx.await(reader).status().value());
  }

  @Test
  void shouldMapAContiguousVramBufferAsOneSegment() {
    Shared s = shared(true);

    DriverProtocol.MapReply map = fx.map(s.importer(), "q", s.imported());

    assertEquals(0, map.result());
    assertEquals(List.of(new DriverProtocol.Segment(map.segments().get(0).address(), 1 << 20)), map.segments());
  }

  @Test
  void shouldRefuseEvictionWhileAnImporterHasItPinned() {
    Shared s = shared(true);
    assertEquals(0, fx.call(r -> new DriverProtocol.Pin("q", s.imported(), true, r), s.importer()));

    assertEquals(Errno.EBUSY.negative(), fx.evict(s.handle(), s.exporter()).result());
  }

  @Test
  void shouldPinAStaticImportersMappingSoTheBufferCannotMove() {
    Shared s = shared(false);
    fx.map(s.importer(), "q", s.imported());

    assertEquals(Errno.EBUSY.negative(), fx.evict(s.handle(), s.exporter()).result());
  }

  @Test
  void shouldNeverMoveNotifyAStaticImporter() {
    Shared s = shared(false);
    DriverProtocol.EvictReply evicted = fx.evict(s.handle(), s.exporter());
    assertEquals(0, evicted.result());
    assertEquals(0, evicted.notified());
  }

  @Test
  void shouldInvalidateADynamicImportersMappingOnMoveNotify() {
    Shared s = shared(true);
    long vram = fx.map(s.importer(), "q", s.imported()).segments().get(0).address();

    DriverProtocol.EvictReply evicted = fx.evict(s.handle(), s.exporter());
    assertEquals(0, evicted.result());
    assertEquals(1, evicted.notified(), "move_notify once, to the one dynamic importer");

    fx.f.testKit.createTestProbe().awaitAssert(() -> {
      assertFalse(fx.state(s.importer()).buffers().get(0).mapped());
      return null;
    });
    DriverProtocol.MapReply remap = fx.map(s.importer(), "q", s.imported());
    assertEquals(0, remap.result());
    assertTrue(remap.segments().get(0).address() != vram, "a new mapping points to the new location");
  }

  @Test
  void shouldReportAPinByAStaticImporterAsAViolation() {
    Shared s = shared(false);

    fx.call(r -> new DriverProtocol.Pin("q", s.imported(), true, r), s.importer());

    assertEquals(Violation.Kind.DMA_BUF_PIN_STATIC, fx.f.expectViolation(Violation.Kind.DMA_BUF_PIN_STATIC).kind());
  }

  @Test
  void shouldSignalPendingFencesWithEnodevOnUnplug() {
    var gpu = gpu();
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    FenceRef pending = fx.submitOk(gpu, "p", JobSpec.compute("queued", 0, List.of(), List.of()), gate);

    DriverProtocol.UnplugReport report = fx.unplug(gpu);

    assertEquals(1, report.jobsCancelled());
    assertEquals(Errno.ENODEV.negative(), fx.await(pending).status().value());
  }

  @Test
  void shouldRefuseSubmissionsAfterUnplugWithEnodev() {
    var gpu = gpu();
    fx.unplug(gpu);

    assertEquals(Errno.ENODEV.negative(), fx.submit(gpu, "p", JobSpec.compute("late", 0, List.of(), List.of())).result());
  }

  @Test
  void shouldRevokeImportersOnUnplugSoALaterMapFailsWithEnodev() {
    Shared s = shared(true);
    fx.map(s.importer(), "q", s.imported());

    DriverProtocol.UnplugReport report = fx.unplug(s.exporter());

    assertEquals(1, report.importersRevoked());
    fx.f.testKit.createTestProbe().awaitAssert(() -> {
      assertTrue(fx.state(s.importer()).buffers().get(0).revoked());
      return null;
    });
    assertEquals(Errno.ENODEV.negative(), fx.map(s.importer(), "q", s.imported()).result());
  }

  @Test
  void shouldKeepTheImportersOwnBufferWhenTheExporterIsUnplugged() {
    Shared s = shared(true);
    int own = fx.createBo(s.importer(), "q", "own", 1 << 16);
    fx.await(fx.submitOk(s.importer(), "q", JobSpec.compute("fill", 0, List.of(), List.of(own))));
    String before = fx.checksum(s.importer(), own);

    fx.unplug(s.exporter());

    assertEquals(before, fx.checksum(s.importer(), own));
  }

  @Test
  void shouldExportASnapshotOfTheWriteFencesAsASyncFile() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "buf", 4096);
    fx.submitOk(gpu, "p", JobSpec.compute("write", 0, List.of(), List.of(bo)), gate);
    int dmabufFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportDmaBuf(gpu, bo, r), proc).fd();

    int syncFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportSyncFile(dmabufFd, 1, r), proc).fd();
    FenceRef hold = fx.f.createFence(timeline);
    FenceRef later = fx.submitOk(gpu, "p", JobSpec.compute("later", 0, List.of(), List.of(bo)), hold);
    fx.f.signal(timeline, gate, 0);

    // The file holds what was there at export: ready once the first writer is done, while the later one still waits.
    ProcessProtocol.PollResult poll = fx.ask(r -> new ProcessProtocol.SyncFileWait(syncFd, 5000, r), proc);
    assertEquals(1, poll.result());
    assertEquals(0, fx.poll(later).result());
  }

  @Test
  void shouldRefuseExportSyncFileWithoutFlagsWithEinval() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    int bo = fx.createBo(gpu, "p", "buf", 4096);
    int dmabufFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportDmaBuf(gpu, bo, r), proc).fd();

    assertEquals(Errno.EINVAL.negative(), fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportSyncFile(dmabufFd, 0, r), proc).fd());
  }

  @Test
  void shouldMakeJobsWaitForAFenceImportedFromASyncFile() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "buf", 4096);
    int dmabufFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportDmaBuf(gpu, bo, r), proc).fd();
    int syncFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.SyncFileCreate(gate, "gate", r), proc).fd();

    assertEquals(0, fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ImportSyncFile(dmabufFd, 2, syncFd, r), proc).fd());
    FenceRef reader = fx.submitOk(gpu, "p", JobSpec.compute("read", 0, List.of(bo), List.of()));

    assertEquals(0, fx.poll(reader).result());
    fx.f.signal(timeline, gate, 0);
    assertEquals(1, fx.await(reader).status().value());
  }

  @Test
  void shouldRefuseImportingASyncFileFdAsADmaBufWithEinval() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    int syncFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.SyncFileCreate(FenceRef.stub(), "s", r), proc).fd();

    DriverProtocol.BoReply reply = fx.ask(r -> new ProcessProtocol.ImportDmaBuf(syncFd, gpu, true, r), proc);

    assertEquals(Errno.EINVAL.negative(), reply.result());
  }

  @Test
  void shouldSubmitWithSyncFileInFenceAndReturnTheOutFenceAsASyncFile() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    int inFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.SyncFileCreate(FenceRef.stub(), "in", r), proc).fd();

    ProcessProtocol.Submitted s = fx.ask(r -> new ProcessProtocol.SubmitJob(gpu, JobSpec.compute("j", 0, List.of(), List.of()),
        List.of(inFd), true, r), proc);

    assertEquals(0, s.result());
    assertEquals(1, fx.<ProcessProtocol.PollResult>ask(r -> new ProcessProtocol.SyncFileWait(s.outFd(), 5000, r), proc).result());
  }

  @Test
  void shouldCompleteManyCopiesQueuedBackToBackFromAnImport() {
    Shared s = shared(true);
    int out = fx.createBo(s.importer(), "q", "out", 1 << 20);
    fx.await(fx.submitOk(s.exporter(), "p", JobSpec.compute("fill", 0, List.of(), List.of(s.handle()))));
    List<FenceRef> fences = new java.util.ArrayList<>();

    var replies = fx.f.testKit.<DriverProtocol.SubmitReply>createTestProbe();
    for (int i = 0; i < 12; i++) { // pipelined: the next submission before the previous one's answer
      s.importer().tell(new DriverProtocol.Submit("q", JobSpec.copy("copy" + i, 0, new JobSpec.Copy(s.imported(), 0, out, 0, 1 << 20)),
          List.of(), replies.ref()));
    }
    for (int i = 0; i < 12; i++) {
      fences.add(replies.receiveMessage(java.time.Duration.ofSeconds(10)).outFence());
    }

    for (FenceRef f : fences) {
      assertEquals(1, fx.await(f).status().value(), f.toString());
    }
  }

  @Test
  void shouldRefuseAnExporterWithPinButNoUnpinWithEinvalAndAWarning() {
    var a = gpu();
    int bo = fx.createBo(a, "p", "half-ops", 1 << 16);
    TestProbe<DriverProtocol.ExportReply> probe = fx.f.testKit.createTestProbe();
    a.tell(new DriverProtocol.Export("p", bo, DriverProtocol.NO_UNPIN, probe.ref()));
    assertEquals(Errno.EINVAL.negative(), probe.receiveMessage().result());
    assertEquals(Violation.Kind.DMA_BUF_EXPORT_OPS, fx.f.expectViolation(Violation.Kind.DMA_BUF_EXPORT_OPS).kind());
  }

  @Test
  void shouldRefuseADynamicImporterWithoutMoveNotifyWithEinvalAndAWarning() {
    var a = gpu();
    var b = gpu();
    DmaBufRef buf = fx.export(a, "p", fx.createBo(a, "p", "shared", 1 << 16));
    TestProbe<DriverProtocol.BoReply> probe = fx.f.testKit.createTestProbe();
    b.tell(new DriverProtocol.Import("q", buf, true, true, false, probe.ref()));
    assertEquals(Errno.EINVAL.negative(), probe.receiveMessage().result());
    assertEquals(Violation.Kind.DMA_BUF_NO_MOVE_NOTIFY, fx.f.expectViolation(Violation.Kind.DMA_BUF_NO_MOVE_NOTIFY).kind());
  }

  @Test
  void shouldNeverMoveABufferOfAStaticExporterWhileItIsAttached() {
    var a = gpu();
    var b = gpu();
    int bo = fx.createBo(a, "p", "static-export", 1 << 16);
    TestProbe<DriverProtocol.ExportReply> probe = fx.f.testKit.createTestProbe();
    a.tell(new DriverProtocol.Export("p", bo, DriverProtocol.NO_PIN | DriverProtocol.NO_UNPIN, probe.ref()));
    DmaBufRef buf = probe.receiveMessage().buf();
    assertEquals(0, fx.importBuf(b, "q", buf, true).result());
    assertEquals(Errno.EBUSY.negative(), fx.evict(bo, a).result());
  }

  @Test
  void shouldLetAStaticImportersMapWaitForTheKernelFencesOfTheBuffer() {
    Shared s = shared(false);
    TestProbe<DriverProtocol.ResvReply> resvProbe = fx.f.testKit.createTestProbe();
    s.exporter().tell(new DriverProtocol.GetResv("p", s.handle(), resvProbe.ref()));
    DriverProtocol.ResvReply resv = resvProbe.receiveMessage();
    assertEquals(0, resv.result());
    var timeline = fx.f.timeline();
    var move = fx.f.createFence(timeline);
    var ctx = new dev.fencelab.node.resv.AcquireCtx(7, "mover");
    TestProbe<dev.fencelab.node.resv.Resv.LockReply> holder = fx.f.testKit.createTestProbe();
    resv.resv().tell(new dev.fencelab.node.resv.Resv.Lock(ctx, false, holder.ref()));
    holder.receiveMessage();
    TestProbe<dev.fencelab.node.resv.Resv.Result> r = fx.f.testKit.createTestProbe();
    resv.resv().tell(new dev.fencelab.node.resv.Resv.Reserve(ctx, 1, r.ref()));
    r.receiveMessage();
    resv.resv().tell(new dev.fencelab.node.resv.Resv.AddFence(ctx, move, dev.fencelab.node.resv.ResvUsage.KERNEL, r.ref()));
    r.receiveMessage();
    resv.resv().tell(new dev.fencelab.node.resv.Resv.Unlock(ctx));

    TestProbe<DriverProtocol.MapReply> map = fx.f.testKit.createTestProbe();
    s.importer().tell(new DriverProtocol.MapBo("q", s.imported(), map.ref()));
    map.expectNoMessage(java.time.Duration.ofMillis(300)); // the move is still running
    fx.f.signal(timeline, move, 0);
    assertEquals(0, map.receiveMessage(java.time.Duration.ofSeconds(10)).result());
  }

  @Test
  void pollOfADmaBufIsReadyOnceItsWriterSignalled() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    int bo = fx.createBo(gpu, "p", "buf", 4096);
    fx.submitOk(gpu, "p", JobSpec.compute("write", 0, List.of(), List.of(bo)), gate);
    int dmabufFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportDmaBuf(gpu, bo, r), proc).fd();

    assertEquals(0, fx.<ProcessProtocol.PollResult>ask(r -> new ProcessProtocol.SyncFileWait(dmabufFd, 0, r), proc).result());
    fx.f.signal(timeline, gate, 0);
    assertEquals(1, fx.<ProcessProtocol.PollResult>ask(r -> new ProcessProtocol.SyncFileWait(dmabufFd, 5000, r), proc).result());
  }

  @Test
  void pollOfADmaBufWhoseExporterIsGoneEndsWithENODEV() {
    var gpu = gpu();
    ActorRef<ProcessProtocol.Command> proc = fx.process("p");
    int bo = fx.createBo(gpu, "p", "buf", 4096);
    int dmabufFd = fx.<ProcessProtocol.FdReply>ask(r -> new ProcessProtocol.ExportDmaBuf(gpu, bo, r), proc).fd();
    fx.f.testKit.stop(gpu); // its buffers' reservation objects go with it, as with a member that died

    ProcessProtocol.PollResult poll = fx.ask(r -> new ProcessProtocol.SyncFileWait(dmabufFd, -1, r), proc);

    assertEquals(Errno.ENODEV.negative(), poll.result());
  }

  @Test
  void aCopyFromAnImportWhoseExporterDiedEndsWithENODEVAndResetsNothing() {
    Shared s = shared(true);
    int out = fx.createBo(s.importer(), "q", "out", 1 << 20);
    var timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    FenceRef copy = fx.submitOk(s.importer(), "q", JobSpec.copy("copy", 0, new JobSpec.Copy(s.imported(), 0, out, 0, 1 << 20)), gate);
    fx.f.testKit.stop(s.exporter()); // the exporter's member died: the importer revokes the import
    fx.f.testKit.createTestProbe().expectTerminated(s.exporter(), java.time.Duration.ofSeconds(5));

    fx.f.signal(timeline, gate, 0);

    assertEquals(-19, fx.await(copy).status().value());
    assertEquals(0, fx.state(s.importer()).resets());
  }

  /** An exporter's buffer attached by a probe playing a dynamic importer, which answers move_notify only when the test does. */
  private record ProbeImport(ActorRef<DriverProtocol.Command> exporter, int handle, DmaBufRef buf, TestProbe<DriverProtocol.Command> importer,
      int attachment) {}

  private static ProbeImport importedByProbe() {
    var a = gpu();
    int bo = fx.createBo(a, "p", "freed", 1 << 16);
    DmaBufRef buf = fx.export(a, "p", bo);
    TestProbe<DriverProtocol.Command> importer = fx.f.testKit.createTestProbe();
    TestProbe<DriverProtocol.Attached> attached = fx.f.testKit.createTestProbe();
    a.tell(new DriverProtocol.Attach(bo, true, importer.ref(), 7, attached.ref(), false, ""));
    return new ProbeImport(a, bo, buf, importer, attached.receiveMessage().attachment());
  }

  private static DriverProtocol.RangeData dmaRead(ActorRef<DriverProtocol.Command> gpu, int handle) {
    TestProbe<DriverProtocol.RangeData> probe = fx.f.testKit.createTestProbe();
    gpu.tell(new DriverProtocol.ReadRange(handle, 0, 4096, 1, probe.ref()));
    return probe.receiveMessage();
  }

  @Test
  void shouldKeepARevokedBufferUntilItsImporterAnswersMoveNotifySoItsDmaIsRefusedNotFreed() {
    ProbeImport s = importedByProbe();
    fx.unplug(s.exporter());
    assertTrue(((DriverProtocol.MoveNotify) s.importer().receiveMessage()).revoked());

    assertEquals(Errno.ENODEV.negative(), dmaRead(s.exporter(), s.handle()).result(), "the gone device refuses it; nothing is freed yet");
  }

  @Test
  void shouldReportDmaThroughAMappingKeptPastTheRevokesCallbackAsDmaAfterFree() {
    ProbeImport s = importedByProbe();
    fx.unplug(s.exporter());
    s.importer().receiveMessage(); // move_notify(revoke): the importer's callback returns without zapping (the bug)
    s.exporter().tell(new DriverProtocol.MoveNotified(s.handle(), s.attachment()));

    fx.f.testKit.createTestProbe().awaitAssert(java.time.Duration.ofSeconds(10), () -> {
      DriverProtocol.RangeData read = dmaRead(s.exporter(), s.handle());
      assertEquals(0, read.result(), "freed memory: the device cannot tell");
      byte[] seen = ((dev.fencelab.node.memory.Chunk.Bytes) read.chunks().get(0)).data();
      assertEquals(4096, seen.length);
      assertTrue(java.util.stream.IntStream.range(0, seen.length).allMatch(i -> seen[i] == (byte) 0xFF), "a read of freed memory: all-ones");
      return null;
    });
    assertEquals(s.buf().id(), fx.f.expectViolation(Violation.Kind.DMA_AFTER_FREE).subject());
  }
}
