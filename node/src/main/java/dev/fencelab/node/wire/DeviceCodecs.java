package dev.fencelab.node.wire;

import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.driver.DriverProtocol.Placement;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.protocol.device.v1.DeviceV1;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The codecs of devices and drivers ({@code fencelab/device/v1/device.proto}), registered into {@link NodeSerializer},
 * with dma-buf ({@link DmaBufCodecs}), content ({@link ContentCodecs}) and the PCIe fabric ({@link FabricCodecs}).
 * Manifests: {@code D.*} driver and device, {@code P.*} process calls, {@code R.Exchange}.
 */
final class DeviceCodecs {
  private final NodeSerializer s;

  DeviceCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    registerAgent();
    registerCalls();
    new DmaBufCodecs(s).register();
    new ContentCodecs(s).register();
    new FabricCodecs(s).register();
    registerProcessCalls();
    s.codec(Resv.Exchange.class, "R.Exchange",
        m -> {
          DeviceV1.ResvExchange.Builder b = DeviceV1.ResvExchange.newBuilder().setAddUsage(ResvCodecs.usage(m.addUsage()))
              .setWait(m.waitUsage() != null).setReplyTo(s.refOf(m.replyTo()));
          m.add().forEach(f -> b.addAdd(s.fenceRef(f)));
          if (m.waitUsage() != null) {
            b.setWaitUsage(ResvCodecs.usage(m.waitUsage()));
          }
          if (m.ctx() != null) {
            b.setCtx(dev.fencelab.protocol.fence.v1.FenceV1.AcquireCtx.newBuilder().setStamp(m.ctx().stamp()).setName(m.ctx().name()));
          }
          return b.build();
        },
        DeviceV1.ResvExchange::parseFrom,
        p -> new Resv.Exchange(p.hasCtx() ? new dev.fencelab.node.resv.AcquireCtx(p.getCtx().getStamp(), p.getCtx().getName()) : null,
            s.fenceRefs(p.getAddList()), ResvCodecs.usage(p.getAddUsage()),
            p.getWait() ? ResvCodecs.usage(p.getWaitUsage()) : null, s.req(p.getReplyTo(), "Exchange.reply_to")));
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
        p -> new DriverProtocol.Submit(p.getProcess(), job(p.getJob()), s.fenceRefs(p.getInFencesList()), s.req(p.getReplyTo(), "Submit.reply_to")));
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

}
