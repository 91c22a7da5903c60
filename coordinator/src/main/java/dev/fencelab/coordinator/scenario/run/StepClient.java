package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.Hosts;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.fence.v1.FenceV1;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.Placement;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The runner's side of the step protocol: completes a step with the scenario's implicit values, picks the node
 * whose kernel makes its call, resolves the names it uses from the {@link RunDirectory}, sends one
 * {@link ExecuteStep} to that node's agent, and hands back the one {@link StepResult}. A step that needs a node the
 * run killed fails at once with -ENODEV; a name nothing bound fails with the errno the kernel gives for it.
 */
final class StepClient {
  private final RunDirectory names;
  private final String run;
  private final Duration timeout;
  private final Scheduler scheduler;

  private long seed;

  /** The run's seed, for the steps whose kernel call makes a random choice (p2p_find's ties). */
  StepClient seed(long seed) {
    this.seed = seed;
    return this;
  }

  StepClient(RunDirectory names, String run, Duration timeout, Scheduler scheduler) {
    this.names = names;
    this.run = run;
    this.timeout = timeout;
    this.scheduler = scheduler;
  }

  /** A step's reply, or the reason it was not sent. */
  record Sent(String node, StepResult result) {}

  /** The step with what the scenario leaves implicit made explicit (export by the buffer's owner, CPU access on its device). */
  Step complete(Step step) {
    if (step.hasExport() && step.getProcess().isEmpty()) {
      Buffer b = names.buffer(step.getExport().getBuffer());
      return b == null ? step : step.toBuilder().setProcess(b.getProcess()).build();
    }
    if (step.hasHmmRangeFault() && step.getHmmRangeFault().getAllowP2P() && !names.scenario().getSettings().getHmmP2P().equals("rfc2025")) {
      // mainline has no HMM_PFN_ALLOW_P2P: the flag means nothing there
      return step.toBuilder().setHmmRangeFault(step.getHmmRangeFault().toBuilder().setAllowP2P(false)).build();
    }
    if (step.hasCpuAccess() && step.getCpuAccess().getDevice().isEmpty()) {
      Buffer b = names.buffer(step.getCpuAccess().getBuffer());
      return b == null ? step : step.toBuilder().setCpuAccess(step.getCpuAccess().toBuilder().setDevice(b.getDevice())).build();
    }
    return step;
  }

  /** The node whose kernel makes the step's call. */
  String nodeOf(Step step) {
    if (!step.getNode().isEmpty()) {
      return step.getNode();
    }
    if (ScenarioSteps.isRdmaStep(step)) { // the verbs run on the NIC's member: its device, or where its objects were made
      for (ScenarioSteps.Ref ref : ScenarioSteps.uses(step)) {
        String node = ref.kind() == ScenarioSteps.RefKind.DEVICE ? names.nodeOfDevice(ref.name())
            : ref.kind().rdma() ? names.nodeOfLocal(ref.name()) : null;
        if (node != null) {
          return node;
        }
      }
    }
    if (!step.getProcess().isEmpty()) {
      return names.nodeOfProcess(step.getProcess());
    }
    List<ScenarioSteps.Ref> uses = ScenarioSteps.uses(step);
    for (ScenarioSteps.Ref ref : uses) {
      String node = switch (ref.kind()) {
        case DEVICE -> names.nodeOfDevice(ref.name());
        case BUFFER -> names.nodeOfBuffer(ref.name());
        case CALLBACK, CONTEXT -> names.nodeOfLocal(ref.name());
        default -> null;
      };
      if (node != null) {
        return node;
      }
    }
    for (ScenarioSteps.Ref ref : uses) {
      if (ref.kind() == ScenarioSteps.RefKind.FENCE) {
        FenceV1.FenceRef f = names.fence(ref.name());
        String node = f == null ? null : names.nodeOfFence(f);
        if (node != null) {
          return node;
        }
      }
    }
    return names.nodes().get(0);
  }

  /** Executes {@code step} (completed) on its node. */
  CompletionStage<Sent> execute(Step step, String stepId) {
    String node = nodeOf(step);
    String gone = gone(step, node);
    if (gone != null) {
      return failed(node, Errno.ENODEV, gone);
    }
    StepRequest.Builder request = StepRequest.newBuilder().setRun(run).setStepId(stepId).setStep(step).setTimeoutNanos(timeout.toNanos());
    if (step.hasHmmRangeFault() && step.getHmmRangeFault().getAllowP2P()) { // the RFC asks p2pdma whether a peer's BAR is reachable
      fabricOf(Hosts.ofDevice(names.scenario(), step.getHmmRangeFault().getDevice()), request);
    }
    if (step.hasP2PDistance() || step.hasP2PFind()) { // the host's PCIe fabric: what the node's p2pdma code walks
      String function = step.hasP2PDistance() ? step.getP2PDistance().getProvider()
          : step.getP2PFind().getClientsCount() == 0 ? "" : step.getP2PFind().getClients(0);
      fabricOf(Hosts.ofFunction(names.scenario(), function), request);
    }
    String unbound = bind(step, request);
    if (unbound != null) {
      return failed(node, unbound.startsWith("EBADF") ? Errno.EBADF : Errno.ENOENT, unbound.substring(unbound.indexOf(' ') + 1));
    }
    Duration bound = timeout.plusSeconds(2);
    if (step.hasWait() && !step.getWait().getTimeout().isEmpty()) { // a poll may last longer than a step's calls
      bound = bound.plusNanos(Units.nanos(step.getWait().getTimeout()));
    }
    if (step.hasPollCq() && !step.getPollCq().getWait().isEmpty()) {
      bound = bound.plusNanos(Units.nanos(step.getPollCq().getWait()));
    }
    return send(node, request.build(), bound);
  }

  /** Places one scenario object on {@code node}, with the bindings its placement needs. */
  CompletionStage<Sent> place(String node, Placement place) {
    StepRequest.Builder request = StepRequest.newBuilder().setRun(run).setStepId("placement").setPlace(place)
        .setTimeoutNanos(timeout.toNanos());
    if (place.hasBuffer()) {
      copy(StepBindings.label(place.getBuffer().getProcess()), request);
      copy(StepBindings.device(place.getBuffer().getDevice()), request);
    }
    if (place.hasDevice() || place.getPcieFabric()) { // the host's PCIe fabric, and that fabric's actor for a device
      String host = place.getPcieFabric() ? place.getAs() : Hosts.ofNode(names.scenario(), node);
      fabricOf(host, request);
      Binding fabric = names.binding(StepBindings.fabric(host));
      if (fabric != null && place.hasDevice()) {
        request.putBindings(StepBindings.FABRIC, fabric);
      }
    }
    return send(node, request.build(), timeout.plusSeconds(2));
  }

  private CompletionStage<Sent> send(String node, StepRequest request, Duration bound) {
    ActorRef<NodeControl> agent = names.agent(node);
    if (agent == null) {
      return failed(node, Errno.ENODEV, "the cluster has no node '" + node + "'");
    }
    CompletionStage<StepReply> reply = AskPattern.ask(agent, (ActorRef<StepReply> r) -> new ExecuteStep(request, r), bound, scheduler);
    // A node that goes down with the call in flight answers no more: the call ends then, with -ENODEV, not at its bound.
    CompletionStage<Sent> down = names.whenGone(node).thenApply(x -> new Sent(node, StepResult.newBuilder()
        .setRet(Errno.ENODEV.negative()).setExecuted(false).setDetail("node " + node + " went down during the call").build()));
    return reply.thenApply(r -> new Sent(node, r.result())).applyToEither(down, sent -> sent);
  }

  /** Why the step cannot run: a node it needs is down (killed by this run); null if none is. */
  private String gone(Step step, String node) {
    if (names.dead(node)) {
      return "node " + node + " is down (killed by this run)";
    }
    if (!step.getProcess().isEmpty() && names.dead(names.nodeOfProcess(step.getProcess()))) {
      return "process " + step.getProcess() + "'s node is down";
    }
    for (ScenarioSteps.Ref ref : ScenarioSteps.uses(step)) {
      String device = switch (ref.kind()) {
        case DEVICE -> ref.name();
        case BUFFER -> names.buffer(ref.name()) == null ? null : names.buffer(ref.name()).getDevice();
        default -> null;
      };
      if (device != null && names.dead(names.nodeOfDevice(device))) {
        return "device " + device + " is gone with node " + names.nodeOfDevice(device);
      }
      if (ref.kind() == ScenarioSteps.RefKind.PROCESS && names.dead(names.nodeOfProcess(ref.name()))) {
        return "process " + ref.name() + "'s node is down";
      }
    }
    return null;
  }

  /** Puts the binding of every name the step uses into the request; returns "ERRNO why" for the first unbound one. */
  private String bind(Step step, StepRequest.Builder request) {
    String process = step.getProcess();
    if (!process.isEmpty()) {
      copy(process, request);
      copy(StepBindings.label(process), request);
      copy(StepBindings.mm(process), request);
    }
    if (step.hasRegMr() && !step.getRegMr().getBuffer().isEmpty() && names.fd(process, step.getRegMr().getBuffer()) == null) {
      return "EBADF process " + process + " holds no dma-buf fd of '" + step.getRegMr().getBuffer() + "' (export it, or pass it, first)";
    }
    String device = deviceOf(step);
    for (ScenarioSteps.Ref ref : ScenarioSteps.uses(step)) {
      String name = ref.name();
      switch (ref.kind()) {
        case FENCE -> {
          FenceV1.FenceRef f = names.fence(name);
          if (f == null) {
            return "ENOENT no fence named '" + name + "' was bound (the step that makes it failed or was skipped)";
          }
          request.putBindings(name, Binding.newBuilder().setFence(f).build());
        }
        case FD -> {
          Integer fd = names.fd(process, name);
          if (fd != null) {
            request.putBindings(name, Binding.newBuilder().setFd(fd).build());
          } else if (names.fence(name) == null) {
            return "EBADF process " + process + " holds no fd named '" + name + "'";
          }
        }
        case TIMELINE, RESV -> {
          if (!copy(name, request)) {
            return "ENOENT " + ref.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + name + " was not created";
          }
        }
        case BUFFER -> {
          String unbound = bindBuffer(step, name, device, request);
          if (unbound != null) {
            return unbound;
          }
        }
        case DEVICE -> {
          if (!copy(StepBindings.device(name), request)) {
            return "ENOENT no device named '" + name + "' is placed";
          }
          copy(StepBindings.rdma(name), request);
        }
        case PD, MR, CQ, QP -> {
          if (!copy(name, request)) {
            return "ENOENT " + ref.kind().name().toLowerCase(java.util.Locale.ROOT) + " '" + name + "' was not made (its step failed)";
          }
          copy(StepBindings.size(name), request);
        }
        case PROCESS -> {
          copy(name, request);
          copy(StepBindings.label(name), request);
          copy(StepBindings.mm(name), request); // fork's child: its mm takes the copy
        }
        case REGION, NOTIFIER -> {
          if (!copy(name, request)) {
            return "ENOENT " + ref.kind().name().toLowerCase(java.util.Locale.ROOT) + " '" + name + "' was not made (its step failed)";
          }
          copy(StepBindings.size(name), request);
        }
        default -> {}
      }
    }
    return null;
  }

  /** A buffer: its dma-buf fd in the process (fd calls), else its exporter, handles, owner and size. */
  private String bindBuffer(Step step, String buffer, String device, StepRequest.Builder request) {
    if (ScenarioSteps.isFdStep(step)) {
      Integer fd = names.fd(step.getProcess(), buffer);
      if (fd == null) {
        return "EBADF process " + step.getProcess() + " holds no dma-buf fd of '" + buffer + "' (export it, or pass it, first)";
      }
      request.putBindings(buffer, Binding.newBuilder().setFd(fd).build());
      return null;
    }
    Buffer b = names.buffer(buffer);
    Binding exporter = b == null ? null : names.binding(StepBindings.device(b.getDevice()));
    Binding own = b == null ? null : names.binding(StepBindings.handle(buffer, b.getDevice()));
    if (exporter == null || own == null) {
      return "ENOENT buffer " + buffer + " has no handle on its device";
    }
    request.putBindings(buffer, exporter);
    request.putBindings(StepBindings.ownHandle(buffer), own);
    copy(StepBindings.size(buffer), request);
    Binding owner = names.binding(StepBindings.label(b.getProcess()));
    if (owner != null) {
      request.putBindings(StepBindings.owner(buffer), owner);
    }
    if (device != null) {
      copy(StepBindings.handle(buffer, device), request); // absent: not imported there (the handler says so)
    }
    return null;
  }

  /** The device a step's buffers are used on (its {@code device} field), or null. */
  private static String deviceOf(Step step) {
    for (ScenarioSteps.Ref ref : ScenarioSteps.uses(step)) {
      if (ref.kind() == ScenarioSteps.RefKind.DEVICE) {
        return ref.name();
      }
    }
    return null;
  }

  /** The PCIe section of {@code host}, its devices (placed by default where the section does not) and the run's seed. */
  private void fabricOf(String host, StepRequest.Builder request) {
    request.setPcie(Hosts.pcie(names.scenario(), host)).setSeed(seed).addAllDevices(Hosts.devices(names.scenario(), host));
  }

  private boolean copy(String key, StepRequest.Builder request) {
    Binding b = names.binding(key);
    if (b != null) {
      request.putBindings(key, b);
    }
    return b != null;
  }

  private static CompletionStage<Sent> failed(String node, Errno errno, String detail) {
    return CompletableFuture.completedFuture(new Sent(node,
        StepResult.newBuilder().setRet(errno.negative()).setExecuted(false).setDetail(detail).build()));
  }
}
