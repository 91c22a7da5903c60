package dev.fencelab.node.scenario;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.fence.v1.FenceV1;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The runner's side of the step protocol: picks the node whose kernel makes a step's call, resolves the names the
 * step uses from the run's {@link Directory}, sends one {@link ExecuteStep} to that node's agent and turns the one
 * {@link StepReply} into the step's outcome: its status, its return value, its value rendered with the run's names,
 * and the names it bound. Written against the protocol only (no node types), so that it can serve any runner.
 */
final class StepClient {

  /** The run's names: where they are bound and what they stand for, as the protocol carries them. */
  interface Directory {
    FenceV1.FenceRef fence(String name);

    /** The name a fence was first bound to, or null. */
    String nameOf(FenceV1.FenceRef fence);

    Integer fd(String process, String name);

    /** A process, a sw_sync timeline or a resv, as an actor reference string; null if unknown. */
    String actor(String name);

    /** The driver of the device that exports {@code buffer}, as an actor reference string, or null. */
    String exporter(String buffer);

    /** {@code buffer}'s handle on its exporting device, or null. */
    Integer handle(String buffer);

    String nodeOfProcess(String process);

    /** The node of the device that exports {@code buffer}. */
    String nodeOfBuffer(String buffer);

    /** The node a callback or a fence context was bound on. */
    String nodeOfLocal(String name);

    /** The node whose member hosts {@code fence}'s actor, or null. */
    String nodeOfFence(FenceV1.FenceRef fence);

    boolean dead(String node);

    ActorRef<NodeControl> agent(String node);

    String firstNode();

    void bindFence(String name, FenceV1.FenceRef fence);

    void bindFd(String process, String name, int fd);

    void bindLocal(String name, String node);

    /** A timeline or a resv the step made (its actor, for the steps that use it from any node). */
    void bindActor(Step step, String name, String actor);
  }

  /** What the runner records of a step. */
  record Result(int status, String detail, Runnable bind, Consumer<StepOutcome.Builder> outcome) {}

  private final Directory names;
  private final String run;
  private final Duration timeout;
  private final Scheduler scheduler;

  StepClient(Directory names, String run, Duration timeout, Scheduler scheduler) {
    this.names = names;
    this.run = run;
    this.timeout = timeout;
    this.scheduler = scheduler;
  }

  /** The node whose kernel makes the step's call. */
  String nodeOf(Step step) {
    if (!step.getNode().isEmpty()) {
      return step.getNode();
    }
    if (!step.getProcess().isEmpty()) {
      return names.nodeOfProcess(step.getProcess());
    }
    if (step.hasEvict()) {
      return names.nodeOfBuffer(step.getEvict().getBuffer());
    }
    List<ScenarioSteps.Ref> uses = ScenarioSteps.uses(step);
    for (ScenarioSteps.Ref ref : uses) {
      if (ref.kind() == ScenarioSteps.RefKind.CALLBACK || ref.kind() == ScenarioSteps.RefKind.CONTEXT) {
        String node = names.nodeOfLocal(ref.name());
        if (node != null) {
          return node;
        }
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
    return names.firstNode();
  }

  CompletionStage<Result> execute(Step step, String stepId) {
    String node = nodeOf(step);
    if (names.dead(node)) {
      return CompletableFuture.completedFuture(failed(Errno.ENODEV, "node " + node + " is down (killed by this run)"));
    }
    StepRequest.Builder request = StepRequest.newBuilder().setRun(run).setStepId(stepId).setStep(step)
        .setTimeoutNanos(timeout.toNanos());
    for (ScenarioSteps.Ref ref : ScenarioSteps.uses(step)) {
      switch (ref.kind()) {
        case FENCE -> {
          FenceV1.FenceRef f = names.fence(ref.name());
          if (f == null) {
            return CompletableFuture.completedFuture(failed(Errno.ENOENT, "no fence named '" + ref.name() + "' was bound (the step that "
                + "makes it failed or was skipped)"));
          }
          request.putBindings(ref.name(), Binding.newBuilder().setFence(f).build());
        }
        case FD -> {
          Integer fd = names.fd(step.getProcess(), ref.name());
          FenceV1.FenceRef f = names.fence(ref.name());
          if (fd != null) {
            request.putBindings(ref.name(), Binding.newBuilder().setFd(fd).build());
          } else if (f == null) {
            return CompletableFuture.completedFuture(failed(Errno.EBADF, "process " + step.getProcess() + " holds no fd named '" + ref.name() + "'"));
          }
        }
        case TIMELINE, RESV -> {
          String actor = names.actor(ref.name());
          if (actor == null) {
            return CompletableFuture.completedFuture(failed(Errno.ENOENT, ref.kind().name().toLowerCase(java.util.Locale.ROOT) + " "
                + ref.name() + " was not created"));
          }
          request.putBindings(ref.name(), Binding.newBuilder().setActor(actor).build());
        }
        case BUFFER -> {
          if (ScenarioSteps.isFdStep(step)) {
            Integer fd = names.fd(step.getProcess(), ref.name());
            if (fd == null) {
              return CompletableFuture.completedFuture(failed(Errno.EBADF, "process " + step.getProcess() + " holds no dma-buf fd of '"
                  + ref.name() + "' (export it, or pass it, first)"));
            }
            request.putBindings(ref.name(), Binding.newBuilder().setFd(fd).build());
          } else {
            String exporter = names.exporter(ref.name());
            Integer handle = names.handle(ref.name());
            if (exporter == null || handle == null) {
              return CompletableFuture.completedFuture(failed(Errno.ENOENT, "buffer " + ref.name() + " has no handle on its device"));
            }
            request.putBindings(ref.name(), Binding.newBuilder().setActor(exporter).build());
            request.putBindings(ref.name() + "#handle", Binding.newBuilder().setHandle(handle).build());
          }
        }
        default -> {}
      }
    }
    if (!step.getProcess().isEmpty()) {
      String process = names.actor(step.getProcess());
      if (process != null) {
        request.putBindings(step.getProcess(), Binding.newBuilder().setActor(process).build());
      }
    }
    ActorRef<NodeControl> agent = names.agent(node);
    Duration bound = timeout.plusSeconds(2);
    if (step.hasWait() && !step.getWait().getTimeout().isEmpty()) { // a poll may last longer than a step's calls
      bound = bound.plusNanos(dev.fencelab.protocol.scenario.Units.nanos(step.getWait().getTimeout()));
    }
    CompletionStage<StepReply> reply = AskPattern.ask(agent, (ActorRef<StepReply> r) -> new ExecuteStep(request.build(), r),
        bound, scheduler);
    return reply.thenApply(r -> result(step, node, r.result()));
  }

  /** Runs on whichever thread the reply completes on: touches no names (the returned consumers do, on the runner's). */
  private Result result(Step step, String node, StepResult r) {
    boolean callFailed = !r.getExecuted() || (r.getRet() < 0 && !negativeIsAValue(step));
    int status = callFailed ? (int) Math.max(Integer.MIN_VALUE, r.getRet() < 0 ? r.getRet() : Errno.EINVAL.negative()) : 0;
    String detail = (r.getDetail().isEmpty() ? "" : r.getDetail() + "; ") + "ret " + dev.fencelab.protocol.scenario.StepExpectations.ret(r.getRet())
        + " (on " + node + ")";
    Runnable bind = () -> r.getBoundMap().forEach((name, b) -> {
      if (b.hasFence()) {
        names.bindFence(name, b.getFence());
      } else if (b.getKindCase() == Binding.KindCase.FD) {
        names.bindFd(step.getProcess(), name, b.getFd());
        // The fd's name also names the fence it holds (a point, a sync_file of a fence-API fence).
        FenceV1.FenceRef held = r.getValue().hasFence() ? r.getValue().getFence()
            : step.hasSyncFile() ? names.fence(step.getSyncFile().getFence()) : null;
        if (held != null && names.fence(name) == null) {
          names.bindFence(name, held);
        }
      } else if (b.getKindCase() == Binding.KindCase.ACTOR) {
        names.bindActor(step, name, b.getActor());
      }
    });
    ScenarioSteps.Ref binds = ScenarioSteps.binds(step);
    Runnable bindAll = () -> {
      bind.run();
      if (r.getExecuted() && binds != null && (binds.kind() == ScenarioSteps.RefKind.CALLBACK || binds.kind() == ScenarioSteps.RefKind.CONTEXT)) {
        names.bindLocal(binds.name(), node);
      }
    };
    return new Result(status, detail, bindAll, b -> {
      String rendered = render(r.getValue());
      List<String> list = r.getValue().hasFences()
          ? r.getValue().getFences().getFencesList().stream().map(this::name).toList() : null;
      b.setRet(r.getRet()).putAllOut(r.getOutMap());
      if (step.hasWait()) {
        b.setIsWait(true).setWaitResult(r.getRet()).setWaitStatus(Integer.parseInt(r.getOutMap().getOrDefault("status", "0")));
      }
      if (rendered != null) {
        b.setDetail(b.getDetail() + ", value " + rendered);
      }
      if (!r.getResult().isEmpty()) {
        b.putOut("result", r.getResult());
      }
      if (rendered != null) {
        b.setHasValue(true).setValue(rendered);
      }
      if (list != null) {
        b.addAllValues(list);
      }
      if (r.getValue().hasFence()) {
        b.setFence(id(r.getValue().getFence()));
      }
    });
  }

  /** Calls whose negative return is a result, not a failure: a fence's error status. */
  private static boolean negativeIsAValue(Step step) {
    return step.getActionCase() == Step.ActionCase.GET_STATUS;
  }

  private String render(Value v) {
    return switch (v.getKindCase()) {
      case NUMBER -> Long.toString(v.getNumber());
      case FLAG -> Boolean.toString(v.getFlag());
      case NULL -> "null";
      case FENCE -> name(v.getFence());
      case FENCES -> v.getFences().getFencesList().stream().map(this::name).toList().toString();
      case KIND_NOT_SET -> null;
    };
  }

  private String name(FenceV1.FenceRef f) {
    if (f.getKind() == FenceV1.FenceKind.STUB) {
      return "stub";
    }
    String name = names.nameOf(f);
    return name != null ? name : id(f);
  }

  static String id(FenceV1.FenceRef f) {
    return f.getId().getContext().getId() + "#" + f.getId().getSeqno();
  }

  private static Result failed(Errno errno, String detail) {
    return new Result(errno.negative(), detail, () -> {}, b -> b.setRet(errno.negative()));
  }

}
