package dev.fencelab.node.cluster;

import dev.fencelab.node.device.Pacing;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.Placement;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A run's set-up on this node, through the step protocol: a device (its driver, a child of the node agent), a
 * process (its actor, labelled {@code node/name} as drivers and traces know it), a buffer (allocated by its device's
 * driver for its owning process). Each answers with the bindings later steps use ({@link StepBindings}).
 */
final class PlacementSteps implements StepHandler {
  private final ActorRef<NodeControl> agent;
  private final String nodeName;
  private final ActorRef<dev.fencelab.node.mm.HostMemory.Command> memory;

  PlacementSteps(ActorRef<NodeControl> agent, String nodeName, ActorRef<dev.fencelab.node.mm.HostMemory.Command> memory) {
    this.agent = agent;
    this.nodeName = nodeName;
    this.memory = memory;
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Placement place = call.place();
    String as = place.getAs();
    return switch (place.getWhatCase()) {
      case DEVICE -> {
        Device d = place.getDevice();
        DeviceSpec spec = spec(d);
        dev.fencelab.node.p2p.P2pSteps.routes(call); // a bad pcie section fails the placement, not the driver
        // An RDMA NIC's verbs live in their own actor, owned by the run (stopped when the run is forgotten).
        var config = call.system().settings().config();
        var pacing = config.hasPath("fencelab.device.pacing") ? dev.fencelab.node.device.Pacing.parse(
            config.getString("fencelab.device.pacing")) : dev.fencelab.node.device.Pacing.ASAP;
        ActorRef<Object> nic = spec.kind() == DeviceSpec.Kind.RDMA_NIC ? call.spawn(dev.fencelab.node.rdma.RdmaNic.create(nic(d,
            nodeName + "/" + d.getName(), call.timeout(), pacing))) : null;
        if (nic != null) { // the PCIe leg of its DMA to a GPU's memory (GPUDirect)
          nic.tell(new dev.fencelab.node.rdma.RdmaProtocol.UsePcie(as, dev.fencelab.node.p2p.P2pSteps.routes(call)));
        }
        yield call.<NodeControl, DeviceControl.DevicePlaced>ask(agent, r -> new DeviceControl.PlaceDevice(spec, r))
            .thenApply(reply -> {
              if (reply.error() != 0) {
                return StepCall.ret(reply.error()).setDetail("device " + as + " on " + nodeName + ": " + Errno.describe(reply.error()) + " "
                    + reply.detail()).build();
              }
              // its place in the host's PCIe fabric, and the run's fabric its transfers share (costed alone without one)
              reply.driver().tell(new DriverProtocol.UsePcie(as, call.pcie(), call.devices(), call.binding(StepBindings.FABRIC) == null ? null
                  : call.actor(StepBindings.FABRIC)));
              StepResult.Builder b = StepCall.ret(0).setDetail(spec.kind() + " " + as + " placed on " + nodeName)
                  .putBound(StepBindings.device(as), call.actorBinding(reply.driver()));
              if (nic != null) {
                b.putBound(StepBindings.rdma(as), call.actorBinding(nic));
              }
              return b.build();
            });
      }
      case PROCESS -> {
        String name = place.getProcess().getName();
        if (place.getNodeMemory() > 0) {
          memory.tell(new dev.fencelab.node.mm.HostMemory.SetLimit(place.getNodeMemory()));
        }
        var proc = place.getProcess();
        long memlock = proc.getMemlock().isEmpty() ? 8L << 20 : proc.getMemlock().equals("unlimited") ? -1 : Units.bytes(proc.getMemlock());
        yield call.<NodeControl, FenceControl.ProcessSpawned>ask(agent, r -> new FenceControl.SpawnProcess(name, r))
            .thenApply(reply -> {
              if (reply.error() == 0 && reply.mm() != null) { // RLIMIT_MEMLOCK and CAP_IPC_LOCK, before any later step reaches the mm
                reply.mm().tell(new dev.fencelab.node.mm.MmProtocol.SetLimits(memlock, proc.getCapIpcLock()));
              }
              return reply;
            })
            .thenApply(reply -> reply.error() != 0
                ? StepCall.ret(reply.error()).setDetail("process " + as + " on " + nodeName + ": " + Errno.describe(reply.error())).build()
                : StepCall.ret(0).setDetail("process " + as + " spawned on " + nodeName)
                    .putBound(as, call.actorBinding(reply.process()))
                    .putBound(StepBindings.mm(as), call.actorBinding(reply.mm()))
                    .putBound(StepBindings.label(as), Binding.newBuilder().setText(nodeName + "/" + name).build()).build());
      }
      case BUFFER -> {
        Buffer b = place.getBuffer();
        String owner = call.text(StepBindings.label(b.getProcess()), "label of process " + b.getProcess());
        ActorRef<DriverProtocol.Command> driver = call.driver(b.getDevice());
        long size = Units.bytes(b.getSize());
        DriverProtocol.Placement where = b.getPlacement().equals("system") ? DriverProtocol.Placement.SYSTEM : DriverProtocol.Placement.VRAM;
        yield call.<DriverProtocol.Command, DriverProtocol.BoReply>ask(driver, r -> new DriverProtocol.CreateBo(owner, b.getName(), size, where, r))
            .thenApply(reply -> reply.result() != 0
                ? StepCall.ret(reply.result()).setDetail("buffer " + as + ": " + Errno.describe(reply.result())).build()
                : StepCall.ret(0).setDetail("buffer " + as + " (" + size + " bytes) on " + b.getDevice() + ", handle " + reply.handle())
                    .putBound(StepBindings.handle(as, b.getDevice()), Binding.newBuilder().setHandle(reply.handle()).build())
                    .putBound(StepBindings.size(as), Binding.newBuilder().setNumber(size).build()).build());
      }
      case PCIE_FABRIC -> {
        var config = call.system().settings().config();
        Duration settle = config.hasPath("fencelab.pcie.settle") ? config.getDuration("fencelab.pcie.settle") : Duration.ofMillis(100);
        String host = as.isEmpty() ? nodeName : as;
        var fabric = call.spawn(dev.fencelab.node.p2p.PcieFabric.create(dev.fencelab.node.p2p.P2pSteps.routes(call), host + "/pcie", settle));
        yield StepCall.done(StepCall.ret(0).setDetail("the PCIe fabric of " + (as.isEmpty() ? "the host" : "host " + as) + " on " + nodeName)
            .putBound(StepBindings.fabric(as), call.actorBinding(fabric)));
      }
      case WHAT_NOT_SET -> throw new StepFailure(Errno.EINVAL, "a placement of nothing");
    };
  }

  /** An RDMA NIC's parameters, with the scenario format's defaults: 100 Gbit/s, 2 us, ODP faults 5 us (minor) / 60 us (major). */
  static dev.fencelab.node.rdma.RdmaNic.Params nic(Device d, String label, Duration callTimeout,
      dev.fencelab.node.device.Pacing pacing) {
    double bytesPerNano = d.getLinkRate().isEmpty() ? 12.5 : Units.rate(d.getLinkRate());
    long latency = d.getLinkLatency().isEmpty() ? 2_000 : Units.nanos(d.getLinkLatency());
    long minor = d.getOdpMinorFault().isEmpty() ? 5_000 : Units.nanos(d.getOdpMinorFault());
    long major = d.getOdpMajorFault().isEmpty() ? 60_000 : Units.nanos(d.getOdpMajorFault());
    return new dev.fencelab.node.rdma.RdmaNic.Params(d.getName(), label, d.getOdp(), bytesPerNano, latency, minor, major, callTimeout,
        pacing, d.getMoveNotifyKeepsMapping());
  }

  /** The device a scenario describes, with the defaults the scenario format documents. */
  static DeviceSpec spec(Device d) {
    DeviceSpec.Kind kind = switch (d.getKind()) {
      case "rdma_nic" -> DeviceSpec.Kind.RDMA_NIC;
      case "copy_engine" -> DeviceSpec.Kind.COPY_ENGINE;
      default -> DeviceSpec.Kind.GPU;
    };
    long vram = d.getVram().isEmpty() ? (kind == DeviceSpec.Kind.GPU ? 8L << 30 : 0) : Units.bytes(d.getVram());
    Duration timeout = d.getJobTimeout().isEmpty() ? Duration.ofSeconds(2) : Duration.ofNanos(Units.nanos(d.getJobTimeout()));
    DeviceSpec.UserptrPolicy policy = d.getUserptrPolicy().isEmpty() ? DeviceSpec.UserptrPolicy.WAIT
        : DeviceSpec.UserptrPolicy.valueOf(d.getUserptrPolicy().toUpperCase(java.util.Locale.ROOT));
    Duration preempt = d.getPreemptTime().isEmpty() ? Duration.ofNanos(100_000) : Duration.ofNanos(Units.nanos(d.getPreemptTime()));
    return new DeviceSpec(d.getName(), kind, Math.max(1, d.getEngines()), vram, !d.getNoPageTables(), d.getRecoverableFaults(), timeout,
        policy, preempt, d.getUserptrFaultInRunJob() || d.getRevalidateUserptrInRunJob(), d.getUserptrSkipRetry(),
        d.getForeignFenceTimeout().isEmpty() ? Duration.ZERO : Duration.ofNanos(Units.nanos(d.getForeignFenceTimeout())),
        new DeviceSpec.SignallingPath(gfp(d.getRunJobAllocates(), "run_job_allocates"), d.getSignallingPathTakesResv(),
            gfp(d.getResetAllocates(), "reset_allocates"), d.getNotifierLockInSignalling()));
  }

  private static dev.fencelab.node.lockdep.Gfp gfp(String text, String field) {
    if (text.isEmpty() || text.equals("none")) {
      return null;
    }
    dev.fencelab.node.lockdep.Gfp g = dev.fencelab.node.lockdep.Gfp.parse(text);
    if (g == null) {
      throw new StepFailure(Errno.EINVAL, field + " '" + text + "': kernel, nofs, noio, atomic, nowait or none");
    }
    return g;
  }
}
