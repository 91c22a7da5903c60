package dev.fencelab.node.wire;

import dev.fencelab.node.process.ProcessProtocol;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.p2p.FabricProtocol;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.driver.DriverProtocol.Placement;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.protocol.device.v1.DeviceV1;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The codecs of devices, drivers, dma-buf and content ({@code fencelab/device/v1/device.proto}), registered into
 * {@link NodeSerializer}. Manifests: {@code D.*} driver and device, {@code P.*} process calls, {@code R.Exchange}.
 */
final class DeviceCodecs {
  private final NodeSerializer s;

  DeviceCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    registerAgent();
    registerCalls();
    registerDmaBuf();
    registerContent();
    registerProcessCalls();
    s.codec(Resv.Exchange.class, "R.Exchange",
        m -> {
          DeviceV1.ResvExchange.Builder b = DeviceV1.ResvExchange.newBuilder().setAddUsage(NodeSerializer.usage(m.addUsage()))
              .setWait(m.waitUsage() != null).setReplyTo(s.refOf(m.replyTo()));
          m.add().forEach(f -> b.addAdd(s.fenceRef(f)));
          if (m.waitUsage() != null) {
            b.setWaitUsage(NodeSerializer.usage(m.waitUsage()));
          }
          if (m.ctx() != null) {
            b.setCtx(dev.fencelab.protocol.fence.v1.FenceV1.AcquireCtx.newBuilder().setStamp(m.ctx().stamp()).setName(m.ctx().name()));
          }
          return b.build();
        },
        DeviceV1.ResvExchange::parseFrom,
        p -> new Resv.Exchange(p.hasCtx() ? new dev.fencelab.node.resv.AcquireCtx(p.getCtx().getStamp(), p.getCtx().getName()) : null,
            fences(p.getAddList()), NodeSerializer.usage(p.getAddUsage()),
            p.getWait() ? NodeSerializer.usage(p.getWaitUsage()) : null, s.req(p.getReplyTo(), "Exchange.reply_to")));
  }

  private void registerAgent() {
    s.codec(DeviceControl.PlaceDevice.class, "A.PlaceDevice",
        m -> DeviceV1.PlaceDevice.newBuilder().setSpec(spec(m.spec())).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.PlaceDevice::parseFrom,
        p -> new DeviceControl.PlaceDevice(spec(p.getSpec()), s.req(p.getReplyTo(), "PlaceDevice.reply_to")));
    s.codec(DeviceControl.DevicePlaced.class, "A.DevicePlaced",
        m -> DeviceV1.DevicePlaced.newBuilder().setDriver(s.refOf(m.driver())).setError(m.error()).setDetail(m.detail()).build(),
        DeviceV1.DevicePlaced::parseFrom,
        p -> new DeviceControl.DevicePlaced(s.opt(p.getDriver()), p.getError(), p.getDetail()));
    s.codec(DeviceControl.RunDeviceBench.class, "A.RunDeviceBench",
        m -> DeviceV1.RunDeviceBench.newBuilder().setJobs(m.jobs()).setCopyBytes(m.copyBytes()).setCopies(m.copies())
            .setPeer(s.refOf(m.peer())).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.RunDeviceBench::parseFrom,
        p -> new DeviceControl.RunDeviceBench(p.getJobs(), p.getCopyBytes(), p.getCopies(), s.req(p.getPeer(), "RunDeviceBench.peer"),
            s.req(p.getReplyTo(), "RunDeviceBench.reply_to")));
    s.codec(DeviceControl.SpawnRawSource.class, "A.SpawnRawSource",
        m -> DeviceV1.SpawnRawSource.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.SpawnRawSource::parseFrom,
        p -> new DeviceControl.SpawnRawSource(s.req(p.getReplyTo(), "SpawnRawSource.reply_to")));
    s.codec(DeviceControl.RawSourceSpawned.class, "A.RawSourceSpawned",
        m -> DeviceV1.RawSourceSpawned.newBuilder().setSource(s.refOf(m.source())).build(),
        DeviceV1.RawSourceSpawned::parseFrom,
        p -> new DeviceControl.RawSourceSpawned(s.req(p.getSource(), "RawSourceSpawned.source")));
  }

  private void registerCalls() {
    s.codec(DriverProtocol.Result.class, "D.Result",
        m -> DeviceV1.Result.newBuilder().setResult(m.result()).build(),
        DeviceV1.Result::parseFrom,
        p -> new DriverProtocol.Result(p.getResult()));
    s.codec(DriverProtocol.CreateBo.class, "D.CreateBo",
        m -> DeviceV1.CreateBo.newBuilder().setProcess(m.process()).setName(m.name()).setSize(m.size())
            .setPlacement(placement(m.placement())).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.CreateBo::parseFrom,
        p -> new DriverProtocol.CreateBo(p.getProcess(), p.getName(), p.getSize(), placement(p.getPlacement()),
            s.req(p.getReplyTo(), "CreateBo.reply_to")));
    s.codec(DriverProtocol.BoReply.class, "D.BoReply",
        m -> DeviceV1.BoReply.newBuilder().setResult(m.result()).setHandle(m.handle()).build(),
        DeviceV1.BoReply::parseFrom,
        p -> new DriverProtocol.BoReply(p.getResult(), p.getHandle()));
    s.codec(DriverProtocol.Submit.class, "D.Submit",
        m -> {
          DeviceV1.Submit.Builder b = DeviceV1.Submit.newBuilder().setProcess(m.process()).setJob(job(m.job()))
              .setReplyTo(s.refOf(m.replyTo()));
          m.inFences().forEach(f -> b.addInFences(s.fenceRef(f)));
          return b.build();
        },
        DeviceV1.Submit::parseFrom,
        p -> new DriverProtocol.Submit(p.getProcess(), job(p.getJob()), fences(p.getInFencesList()), s.req(p.getReplyTo(), "Submit.reply_to")));
    s.codec(DriverProtocol.SubmitReply.class, "D.SubmitReply",
        m -> {
          DeviceV1.SubmitReply.Builder b = DeviceV1.SubmitReply.newBuilder().setResult(m.result());
          if (m.outFence() != null) {
            b.setOutFence(s.fenceRef(m.outFence()));
          }
          return b.build();
        },
        DeviceV1.SubmitReply::parseFrom,
        p -> new DriverProtocol.SubmitReply(p.getResult(), p.hasOutFence() ? s.fenceRef(p.getOutFence()) : null));
    s.codec(DriverProtocol.MapBo.class, "D.MapBo",
        m -> DeviceV1.MapBo.newBuilder().setProcess(m.process()).setHandle(m.handle()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.MapBo::parseFrom,
        p -> new DriverProtocol.MapBo(p.getProcess(), p.getHandle(), s.req(p.getReplyTo(), "MapBo.reply_to")));
    s.codec(DriverProtocol.MapReply.class, "D.MapReply",
        m -> {
          DeviceV1.MapReply.Builder b = DeviceV1.MapReply.newBuilder().setResult(m.result()).setSystem(m.system()).setMigrated(m.migrated())
              .setMigrateNanos(m.migrateNanos()).setRoute(m.route());
          m.segments().forEach(g -> b.addSegments(DeviceV1.Segment.newBuilder().setAddress(g.address()).setLength(g.length())));
          return b.build();
        },
        DeviceV1.MapReply::parseFrom,
        p -> new DriverProtocol.MapReply(p.getResult(),
            p.getSegmentsList().stream().map(g -> new DriverProtocol.Segment(g.getAddress(), g.getLength())).toList(), p.getSystem(),
            p.getMigrated(), p.getMigrateNanos(), p.getRoute()));
    s.codec(DriverProtocol.Pin.class, "D.Pin",
        m -> DeviceV1.Pin.newBuilder().setProcess(m.process()).setHandle(m.handle()).setPin(m.pin()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.Pin::parseFrom,
        p -> new DriverProtocol.Pin(p.getProcess(), p.getHandle(), p.getPin(), s.req(p.getReplyTo(), "Pin.reply_to")));
    s.codec(DriverProtocol.CpuAccess.class, "D.CpuAccess",
        m -> DeviceV1.CpuAccess.newBuilder().setProcess(m.process()).setHandle(m.handle()).setFlags(m.flags())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.CpuAccess::parseFrom,
        p -> new DriverProtocol.CpuAccess(p.getProcess(), p.getHandle(), p.getFlags(), s.req(p.getReplyTo(), "CpuAccess.reply_to")));
    s.codec(DriverProtocol.Evict.class, "D.Evict",
        m -> DeviceV1.Evict.newBuilder().setHandle(m.handle()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.Evict::parseFrom,
        p -> new DriverProtocol.Evict(p.getHandle(), s.req(p.getReplyTo(), "Evict.reply_to")));
    s.codec(DriverProtocol.GetResv.class, "D.GetResv",
        m -> DeviceV1.GetResv.newBuilder().setProcess(m.process()).setHandle(m.handle()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.GetResv::parseFrom,
        p -> new DriverProtocol.GetResv(p.getProcess(), p.getHandle(), s.req(p.getReplyTo(), "GetResv.reply_to")));
    s.codec(DriverProtocol.ResvReply.class, "D.ResvReply",
        m -> DeviceV1.ResvReply.newBuilder().setResult(m.result()).setResv(s.refOf(m.resv()))
            .setMode(m.mode() == null ? "" : m.mode().name()).build(),
        DeviceV1.ResvReply::parseFrom,
        p -> new DriverProtocol.ResvReply(p.getResult(), s.opt(p.getResv()),
            p.getMode().isEmpty() ? null : dev.fencelab.node.resv.Resv.Mode.valueOf(p.getMode())));
    s.codec(DriverProtocol.EvictReply.class, "D.EvictReply",
        m -> DeviceV1.EvictReply.newBuilder().setResult(m.result()).setNotified(m.notified()).build(),
        DeviceV1.EvictReply::parseFrom,
        p -> new DriverProtocol.EvictReply(p.getResult(), p.getNotified()));
    s.codec(DriverProtocol.Checksum.class, "D.Checksum",
        m -> DeviceV1.Checksum.newBuilder().setHandle(m.handle()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.Checksum::parseFrom,
        p -> new DriverProtocol.Checksum(p.getHandle(), s.req(p.getReplyTo(), "Checksum.reply_to")));
    s.codec(DriverProtocol.ChecksumReply.class, "D.ChecksumReply",
        m -> DeviceV1.ChecksumReply.newBuilder().setResult(m.result()).setChecksum(m.checksum()).setSize(m.size()).build(),
        DeviceV1.ChecksumReply::parseFrom,
        p -> new DriverProtocol.ChecksumReply(p.getResult(), p.getChecksum(), p.getSize()));
    s.codec(DriverProtocol.Unplug.class, "D.Unplug",
        m -> DeviceV1.Unplug.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.Unplug::parseFrom,
        p -> new DriverProtocol.Unplug(s.req(p.getReplyTo(), "Unplug.reply_to")));
    s.codec(DriverProtocol.UnplugReport.class, "D.UnplugReport",
        m -> DeviceV1.UnplugReport.newBuilder().setDevice(m.device()).setJobsCancelled(m.jobsCancelled())
            .setImportersRevoked(m.importersRevoked()).setBuffersReleased(m.buffersReleased()).build(),
        DeviceV1.UnplugReport::parseFrom,
        p -> new DriverProtocol.UnplugReport(p.getDevice(), p.getJobsCancelled(), p.getImportersRevoked(), p.getBuffersReleased()));
    s.codec(DriverProtocol.InjectFault.class, "D.InjectFault",
        m -> DeviceV1.InjectFault.newBuilder().setKind(m.kind() == DeviceActor.FaultKind.HANG_ENGINE
                ? DeviceV1.FaultKind.HANG_ENGINE : DeviceV1.FaultKind.FAIL_RESET)
            .setEngine(m.engine()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.InjectFault::parseFrom,
        p -> new DriverProtocol.InjectFault(fault(p.getKind()), p.getEngine(), s.req(p.getReplyTo(), "InjectFault.reply_to")));
    s.codec(DriverProtocol.GetState.class, "D.GetState",
        m -> DeviceV1.GetState.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.GetState::parseFrom,
        p -> new DriverProtocol.GetState(s.req(p.getReplyTo(), "GetState.reply_to")));
    s.codec(DriverProtocol.State.class, "D.State",
        m -> {
          DeviceV1.DriverState.Builder b = DeviceV1.DriverState.newBuilder().setDevice(m.device()).setUnplugged(m.unplugged())
              .setWedged(m.wedged()).setResets(m.resets()).addAllGuilty(m.guilty());
          m.buffers().forEach(i -> b.addBuffers(DeviceV1.BoInfo.newBuilder().setHandle(i.handle()).setName(i.name()).setOwner(i.owner())
              .setSize(i.size()).setPlacement(placement(i.placement())).setImported(i.imported()).setRevoked(i.revoked())
              .setMapped(i.mapped()).setAttachments(i.attachments())));
          return b.build();
        },
        DeviceV1.DriverState::parseFrom,
        p -> {
          List<DriverProtocol.BoInfo> infos = new ArrayList<>();
          for (DeviceV1.BoInfo i : p.getBuffersList()) {
            infos.add(new DriverProtocol.BoInfo(i.getHandle(), i.getName(), i.getOwner(), i.getSize(), placement(i.getPlacement()),
                i.getImported(), i.getRevoked(), i.getMapped(), i.getAttachments()));
          }
          return new DriverProtocol.State(p.getDevice(), p.getUnplugged(), p.getWedged(), p.getResets(), p.getGuiltyList(), infos);
        });
  }

  private void registerDmaBuf() {
    s.codec(DmaBufRef.class, "D.DmaBufRef", this::dmaBuf, DeviceV1.DmaBufRef::parseFrom, this::dmaBuf);
    s.codec(DriverProtocol.Export.class, "D.Export",
        m -> DeviceV1.Export.newBuilder().setProcess(m.process()).setHandle(m.handle()).setOmitOps(m.omitOps()).setReplyTo(s.refOf(m.replyTo()))
            .build(),
        DeviceV1.Export::parseFrom,
        p -> new DriverProtocol.Export(p.getProcess(), p.getHandle(), p.getOmitOps(), s.req(p.getReplyTo(), "Export.reply_to")));
    s.codec(DriverProtocol.ExportReply.class, "D.ExportReply",
        m -> {
          DeviceV1.ExportReply.Builder b = DeviceV1.ExportReply.newBuilder().setResult(m.result());
          if (m.buf() != null) {
            b.setBuf(dmaBuf(m.buf()));
          }
          return b.build();
        },
        DeviceV1.ExportReply::parseFrom,
        p -> new DriverProtocol.ExportReply(p.getResult(), p.hasBuf() ? dmaBuf(p.getBuf()) : null));
    s.codec(DriverProtocol.Import.class, "D.Import",
        m -> DeviceV1.Import.newBuilder().setProcess(m.process()).setBuf(dmaBuf(m.buf())).setDynamic(m.dynamic())
            .setNoMoveNotify(m.noMoveNotify()).setPeer2Peer(m.peer2peer()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.Import::parseFrom,
        p -> new DriverProtocol.Import(p.getProcess(), dmaBuf(p.getBuf()), p.getDynamic(), p.getNoMoveNotify(), p.getPeer2Peer(),
            s.req(p.getReplyTo(), "Import.reply_to")));
    s.codec(DriverProtocol.Attach.class, "D.Attach",
        m -> DeviceV1.Attach.newBuilder().setHandle(m.handle()).setDynamic(m.dynamic()).setImporter(s.refOf(m.importer()))
            .setImporterHandle(m.importerHandle()).setReplyTo(s.refOf(m.replyTo())).setPeer2Peer(m.peer2peer()).setEndpoint(m.endpoint()).build(),
        DeviceV1.Attach::parseFrom,
        p -> new DriverProtocol.Attach(p.getHandle(), p.getDynamic(), s.req(p.getImporter(), "Attach.importer"), p.getImporterHandle(),
            s.req(p.getReplyTo(), "Attach.reply_to"), p.getPeer2Peer(), p.getEndpoint()));
    s.codec(DriverProtocol.Attached.class, "D.Attached",
        m -> DeviceV1.Attached.newBuilder().setResult(m.result()).setAttachment(m.attachment()).setPeer2Peer(m.peer2peer())
            .setEndpoint(m.endpoint()).setDetail(m.detail()).build(),
        DeviceV1.Attached::parseFrom,
        p -> new DriverProtocol.Attached(p.getResult(), p.getAttachment(), p.getPeer2Peer(), p.getEndpoint(), p.getDetail()));
    registerFabric();
    s.codec(DriverProtocol.MoveNotified.class, "D.MoveNotified",
        m -> DeviceV1.MoveNotified.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).build(),
        DeviceV1.MoveNotified::parseFrom,
        p -> new DriverProtocol.MoveNotified(p.getHandle(), p.getAttachment()));
    s.codec(DriverProtocol.Detach.class, "D.Detach",
        m -> DeviceV1.Detach.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).build(),
        DeviceV1.Detach::parseFrom,
        p -> new DriverProtocol.Detach(p.getHandle(), p.getAttachment()));
    s.codec(DriverProtocol.MapAttachment.class, "D.MapAttachment",
        m -> DeviceV1.MapAttachment.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.MapAttachment::parseFrom,
        p -> new DriverProtocol.MapAttachment(p.getHandle(), p.getAttachment(), s.req(p.getReplyTo(), "MapAttachment.reply_to")));
    s.codec(DriverProtocol.PinAttachment.class, "D.PinAttachment",
        m -> DeviceV1.PinAttachment.newBuilder().setHandle(m.handle()).setAttachment(m.attachment()).setPin(m.pin())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.PinAttachment::parseFrom,
        p -> new DriverProtocol.PinAttachment(p.getHandle(), p.getAttachment(), p.getPin(), s.req(p.getReplyTo(), "PinAttachment.reply_to")));
    s.codec(DriverProtocol.MoveNotify.class, "D.MoveNotify",
        m -> DeviceV1.MoveNotify.newBuilder().setImporterHandle(m.importerHandle()).setRevoked(m.revoked()).build(),
        DeviceV1.MoveNotify::parseFrom,
        p -> new DriverProtocol.MoveNotify(p.getImporterHandle(), p.getRevoked()));
  }

  private void registerContent() {
    s.codec(DriverProtocol.ReadRange.class, "D.ReadRange",
        m -> DeviceV1.ReadRange.newBuilder().setHandle(m.handle()).setOffset(m.offset()).setLength(m.length()).setTag(m.tag())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.ReadRange::parseFrom,
        p -> new DriverProtocol.ReadRange(p.getHandle(), p.getOffset(), p.getLength(), p.getTag(), s.req(p.getReplyTo(), "ReadRange.reply_to")));
    s.codec(DriverProtocol.RangeData.class, "D.RangeData",
        m -> {
          DeviceV1.RangeData.Builder b = DeviceV1.RangeData.newBuilder().setTag(m.tag()).setResult(m.result());
          m.chunks().forEach(c -> b.addChunks(chunk(c)));
          return b.build();
        },
        DeviceV1.RangeData::parseFrom,
        p -> new DriverProtocol.RangeData(p.getTag(), p.getResult(), chunks(p.getChunksList())));
    s.codec(DriverProtocol.Layout.class, "D.Layout",
        m -> DeviceV1.Layout.newBuilder().setHandle(m.handle()).setOffset(m.offset()).setLength(m.length()).setReplyTo(s.refOf(m.replyTo()))
            .build(),
        DeviceV1.Layout::parseFrom,
        p -> new DriverProtocol.Layout(p.getHandle(), p.getOffset(), p.getLength(), s.req(p.getReplyTo(), "Layout.reply_to")));
    s.codec(DriverProtocol.LayoutReply.class, "D.LayoutReply",
        m -> {
          DeviceV1.LayoutReply.Builder b = DeviceV1.LayoutReply.newBuilder().setResult(m.result());
          m.extents().forEach(e -> b.addExtents(DeviceV1.Extent.newBuilder().setOffset(e.offset()).setLength(e.length()).setBytes(e.bytes())));
          return b.build();
        },
        DeviceV1.LayoutReply::parseFrom,
        p -> new DriverProtocol.LayoutReply(p.getResult(), p.getExtentsList().stream()
            .map(e -> new dev.fencelab.node.memory.Content.Extent(e.getOffset(), e.getLength(), e.getBytes())).toList()));
    s.codec(DriverProtocol.WriteRange.class, "D.WriteRange",
        m -> {
          DeviceV1.WriteRange.Builder b = DeviceV1.WriteRange.newBuilder().setHandle(m.handle()).setTag(m.tag())
              .setReplyTo(s.refOf(m.replyTo()));
          m.chunks().forEach(c -> b.addChunks(chunk(c)));
          return b.build();
        },
        DeviceV1.WriteRange::parseFrom,
        p -> new DriverProtocol.WriteRange(p.getHandle(), chunks(p.getChunksList()), p.getTag(), s.req(p.getReplyTo(), "WriteRange.reply_to")));
    s.codec(DriverProtocol.WriteAck.class, "D.WriteAck",
        m -> DeviceV1.WriteAck.newBuilder().setTag(m.tag()).setResult(m.result()).build(),
        DeviceV1.WriteAck::parseFrom,
        p -> new DriverProtocol.WriteAck(p.getTag(), p.getResult()));
  }

  private void registerProcessCalls() {
    s.codec(ProcessProtocol.ExportDmaBuf.class, "P.ExportDmaBuf",
        m -> DeviceV1.ExportDmaBuf.newBuilder().setDriver(s.refOf(m.driver())).setHandle(m.handle()).setOmitOps(m.omitOps())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.ExportDmaBuf::parseFrom,
        p -> new ProcessProtocol.ExportDmaBuf(s.req(p.getDriver(), "ExportDmaBuf.driver"), p.getHandle(), p.getOmitOps(),
            s.req(p.getReplyTo(), "ExportDmaBuf.reply_to")));
    s.codec(ProcessProtocol.ImportDmaBuf.class, "P.ImportDmaBuf",
        m -> DeviceV1.ImportDmaBuf.newBuilder().setFd(m.fd()).setDriver(s.refOf(m.driver())).setDynamic(m.dynamic())
            .setNoMoveNotify(m.noMoveNotify()).setPeer2Peer(m.peer2peer()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.ImportDmaBuf::parseFrom,
        p -> new ProcessProtocol.ImportDmaBuf(p.getFd(), s.req(p.getDriver(), "ImportDmaBuf.driver"), p.getDynamic(), p.getNoMoveNotify(),
            p.getPeer2Peer(), s.req(p.getReplyTo(), "ImportDmaBuf.reply_to")));
    s.codec(ProcessProtocol.SubmitJob.class, "P.SubmitJob",
        m -> DeviceV1.SubmitJob.newBuilder().setDriver(s.refOf(m.driver())).setJob(job(m.job())).addAllInFenceFds(m.inFenceFds())
            .setOutSyncFile(m.outSyncFile()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.SubmitJob::parseFrom,
        p -> new ProcessProtocol.SubmitJob(s.req(p.getDriver(), "SubmitJob.driver"), job(p.getJob()), p.getInFenceFdsList(), p.getOutSyncFile(),
            s.req(p.getReplyTo(), "SubmitJob.reply_to")));
    s.codec(ProcessProtocol.Submitted.class, "P.Submitted",
        m -> {
          DeviceV1.Submitted.Builder b = DeviceV1.Submitted.newBuilder().setResult(m.result()).setOutFd(m.outFd());
          if (m.outFence() != null) {
            b.setOutFence(s.fenceRef(m.outFence()));
          }
          return b.build();
        },
        DeviceV1.Submitted::parseFrom,
        p -> new ProcessProtocol.Submitted(p.getResult(), p.getOutFd(), p.hasOutFence() ? s.fenceRef(p.getOutFence()) : null));
    s.codec(ProcessProtocol.ExportSyncFile.class, "P.ExportSyncFile",
        m -> DeviceV1.ExportSyncFile.newBuilder().setDmaBufFd(m.dmaBufFd()).setFlags(m.flags()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.ExportSyncFile::parseFrom,
        p -> new ProcessProtocol.ExportSyncFile(p.getDmaBufFd(), p.getFlags(), s.req(p.getReplyTo(), "ExportSyncFile.reply_to")));
    s.codec(ProcessProtocol.ImportSyncFile.class, "P.ImportSyncFile",
        m -> DeviceV1.ImportSyncFile.newBuilder().setDmaBufFd(m.dmaBufFd()).setFlags(m.flags()).setSyncFd(m.syncFd())
            .setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.ImportSyncFile::parseFrom,
        p -> new ProcessProtocol.ImportSyncFile(p.getDmaBufFd(), p.getFlags(), p.getSyncFd(), s.req(p.getReplyTo(), "ImportSyncFile.reply_to")));
  }

  // --- shared pieces

  DeviceV1.DmaBufRef dmaBuf(DmaBufRef b) {
    return DeviceV1.DmaBufRef.newBuilder().setId(b.id()).setSize(b.size()).setExporter(s.refOf(b.exporter()))
        .setExporterHandle(b.exporterHandle()).setResv(s.refOf(b.resv())).build();
  }

  DmaBufRef dmaBuf(DeviceV1.DmaBufRef p) throws NotSerializableException {
    return new DmaBufRef(p.getId(), p.getSize(), s.req(p.getExporter(), "DmaBufRef.exporter"), p.getExporterHandle(),
        s.req(p.getResv(), "DmaBufRef.resv"));
  }

  static DeviceV1.DmaBufRef parseDmaBuf(ByteString bytes) throws NotSerializableException {
    try {
      return DeviceV1.DmaBufRef.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new NotSerializableException("ReceiveFd.dma_buf: " + e.getMessage());
    }
  }

  private static DeviceV1.DeviceSpec spec(DeviceSpec d) {
    return DeviceV1.DeviceSpec.newBuilder().setName(d.name()).setKind(DeviceV1.DeviceKind.valueOf(d.kind().name()))
        .setEngines(d.engines()).setVramBytes(d.vramBytes()).setPageTables(d.pageTables()).setRecoverableFaults(d.recoverableFaults())
        .setJobTimeoutNanos(d.jobTimeout().toNanos()).setUserptrPolicy(d.userptrPolicy().name()).setPreemptNanos(d.preemptTime().toNanos())
        .setFaultInRunJob(d.faultInRunJob()).setSkipRetry(d.skipRetry())
        .setForeignFenceTimeoutNanos(d.foreignFenceTimeout().toNanos())
        .setRunJobGfp(d.signalling().runJobGfp() == null ? "" : d.signalling().runJobGfp().name())
        .setRunJobTakesResv(d.signalling().runJobTakesResv())
        .setResetGfp(d.signalling().resetGfp() == null ? "" : d.signalling().resetGfp().name())
        .setRunJobTakesNotifierLock(d.signalling().runJobTakesNotifierLock())
        .build();
  }

  private static DeviceSpec spec(DeviceV1.DeviceSpec p) throws NotSerializableException {
    if (p.getKind() == DeviceV1.DeviceKind.DEVICE_KIND_UNSPECIFIED || p.getKind() == DeviceV1.DeviceKind.UNRECOGNIZED) {
      throw new NotSerializableException("DeviceSpec.kind: missing or unknown (" + p.getKindValue() + ")");
    }
    try {
      return new DeviceSpec(p.getName(), DeviceSpec.Kind.valueOf(p.getKind().name()), p.getEngines(), p.getVramBytes(), p.getPageTables(),
          p.getRecoverableFaults(), Duration.ofNanos(p.getJobTimeoutNanos()),
          p.getUserptrPolicy().isEmpty() ? DeviceSpec.UserptrPolicy.WAIT : DeviceSpec.UserptrPolicy.valueOf(p.getUserptrPolicy()),
          Duration.ofNanos(p.getPreemptNanos() > 0 ? p.getPreemptNanos() : 100_000), p.getFaultInRunJob(), p.getSkipRetry(),
          Duration.ofNanos(Math.max(0, p.getForeignFenceTimeoutNanos())),
          new DeviceSpec.SignallingPath(gfp(p.getRunJobGfp()), p.getRunJobTakesResv(), gfp(p.getResetGfp()), p.getRunJobTakesNotifierLock()));
    } catch (IllegalArgumentException e) {
      throw new NotSerializableException("DeviceSpec: " + e.getMessage());
    }
  }

  private static dev.fencelab.node.lockdep.Gfp gfp(String name) throws NotSerializableException {
    if (name.isEmpty()) {
      return null;
    }
    dev.fencelab.node.lockdep.Gfp g = dev.fencelab.node.lockdep.Gfp.parse(name);
    if (g == null) {
      throw new NotSerializableException("DeviceSpec: unknown gfp '" + name + "'");
    }
    return g;
  }

  private static DeviceV1.JobSpec job(JobSpec j) {
    DeviceV1.JobSpec.Builder b = DeviceV1.JobSpec.newBuilder().setEngine(j.engine()).setDurationNanos(j.durationNanos())
        .addAllReads(j.reads()).addAllWrites(j.writes()).setLabel(j.label());
    if (j.copy() != null) {
      JobSpec.Copy c = j.copy();
      b.setCopy(DeviceV1.Copy.newBuilder().setSrc(c.src()).setSrcOffset(c.srcOffset()).setDst(c.dst()).setDstOffset(c.dstOffset())
          .setLength(c.length()));
    }
    return b.build();
  }

  private static JobSpec job(DeviceV1.JobSpec p) throws NotSerializableException {
    try {
      DeviceV1.Copy c = p.getCopy();
      return new JobSpec(p.getEngine(), p.getDurationNanos(), p.getReadsList(), p.getWritesList(),
          p.hasCopy() ? new JobSpec.Copy(c.getSrc(), c.getSrcOffset(), c.getDst(), c.getDstOffset(), c.getLength()) : null, p.getLabel());
    } catch (IllegalArgumentException e) {
      throw new NotSerializableException("JobSpec: " + e.getMessage());
    }
  }

  static DeviceV1.Chunk chunk(Chunk c) {
    DeviceV1.Chunk.Builder b = DeviceV1.Chunk.newBuilder().setOffset(c.offset());
    if (c instanceof Chunk.Bytes bytes) {
      // a chunk's bytes are never written after it is made (readers copy out of it): sent without a copy
      b.setData(com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes.data()));
    } else {
      Chunk.Pattern p = (Chunk.Pattern) c;
      b.setPattern(DeviceV1.PatternRange.newBuilder().setLength(p.length()).setSeed(p.seed()).setPatternOffset(p.patternOffset()));
    }
    return b.build();
  }

  static List<Chunk> chunks(List<DeviceV1.Chunk> list) throws NotSerializableException {
    List<Chunk> out = new ArrayList<>(list.size());
    for (DeviceV1.Chunk c : list) {
      switch (c.getContentCase()) {
        case DATA -> out.add(new Chunk.Bytes(c.getOffset(), c.getData().toByteArray()));
        case PATTERN -> out.add(new Chunk.Pattern(c.getOffset(), c.getPattern().getLength(), c.getPattern().getSeed(),
            c.getPattern().getPatternOffset()));
        default -> throw new NotSerializableException("Chunk at " + c.getOffset() + ": neither data nor pattern");
      }
    }
    return out;
  }

  private List<FenceRef> fences(List<dev.fencelab.protocol.fence.v1.FenceV1.FenceRef> list) throws NotSerializableException {
    List<FenceRef> out = new ArrayList<>(list.size());
    for (var f : list) {
      out.add(s.fenceRef(f));
    }
    return out;
  }

  private static DeviceV1.Placement placement(Placement p) {
    return p == Placement.VRAM ? DeviceV1.Placement.VRAM : DeviceV1.Placement.SYSTEM;
  }

  private static Placement placement(DeviceV1.Placement p) throws NotSerializableException {
    return switch (p) {
      case VRAM -> Placement.VRAM;
      case SYSTEM -> Placement.SYSTEM;
      default -> throw new NotSerializableException("placement: missing or unknown (" + p + ")");
    };
  }

  private static DeviceActor.FaultKind fault(DeviceV1.FaultKind k) throws NotSerializableException {
    return switch (k) {
      case HANG_ENGINE -> DeviceActor.FaultKind.HANG_ENGINE;
      case FAIL_RESET -> DeviceActor.FaultKind.FAIL_RESET;
      default -> throw new NotSerializableException("InjectFault.kind: missing or unknown (" + k + ")");
    };
  }

  /** The run's PCIe fabric ({@link FabricProtocol}) and a driver's place in it: manifests {@code D.Fabric*}, {@code D.UsePcie}. */
  private void registerFabric() {
    s.codec(DriverProtocol.UsePcie.class, "D.UsePcie",
        m -> {
          DeviceV1.UsePcie.Builder b = DeviceV1.UsePcie.newBuilder().setEndpoint(m.endpoint()).setPcie(m.pcie()).addAllDevices(m.devices());
          if (m.fabric() != null) {
            b.setFabric(s.refOf(m.fabric()));
          }
          return b.build();
        },
        DeviceV1.UsePcie::parseFrom,
        p -> new DriverProtocol.UsePcie(p.getEndpoint(), p.getPcie(), p.getDevicesList(), p.getFabric().isEmpty() ? null : s.req(p.getFabric(),
            "UsePcie.fabric")));
    s.codec(FabricProtocol.Begin.class, "D.FabricBegin",
        m -> DeviceV1.FabricBegin.newBuilder().setId(m.id()).setSrc(m.src()).setSrcBounce(m.srcBounce()).setEngine(m.engine()).setDst(m.dst())
            .setDstBounce(m.dstBounce()).setBytes(m.bytes()).setModelStart(m.modelStart()).build(),
        DeviceV1.FabricBegin::parseFrom,
        p -> new FabricProtocol.Begin(p.getId(), p.getSrc(), p.getSrcBounce(), p.getEngine(), p.getDst(), p.getDstBounce(), p.getBytes(),
            p.getModelStart()));
    s.codec(FabricProtocol.End.class, "D.FabricEnd",
        m -> DeviceV1.FabricEnd.newBuilder().setId(m.id()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.FabricEnd::parseFrom,
        p -> new FabricProtocol.End(p.getId(), s.req(p.getReplyTo(), "FabricEnd.reply_to")));
    s.codec(DriverProtocol.HoldsDevicePrivate.class, "D.HoldsDevicePrivate",
        m -> DeviceV1.HoldsDevicePrivate.newBuilder().setMm(s.refOf(m.mm())).build(),
        DeviceV1.HoldsDevicePrivate::parseFrom,
        p -> new DriverProtocol.HoldsDevicePrivate(s.req(p.getMm(), "HoldsDevicePrivate.mm")));
    s.codec(FabricProtocol.Cancel.class, "D.FabricCancel",
        m -> DeviceV1.FabricCancel.newBuilder().setId(m.id()).build(),
        DeviceV1.FabricCancel::parseFrom,
        p -> new FabricProtocol.Cancel(p.getId()));
    s.codec(FabricProtocol.Done.class, "D.FabricDone",
        m -> DeviceV1.FabricDone.newBuilder().setId(m.id()).setModelEnd(m.modelEnd()).setKind(m.kind()).setAloneNanos(m.aloneNanos())
            .setPath(m.path()).build(),
        DeviceV1.FabricDone::parseFrom,
        p -> new FabricProtocol.Done(p.getId(), p.getModelEnd(), p.getKind(), p.getAloneNanos(), p.getPath()));
  }
}
