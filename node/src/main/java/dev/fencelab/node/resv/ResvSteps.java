package dev.fencelab.node.resv;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import org.apache.pekko.actor.typed.ActorRefResolver;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Queries of a reservation object as scenario steps (kernel-semantics §1.9): its fences by usage (the locked iterator
 * with signalled fences, or the unlocked one without), {@code dma_resv_test_signaled} in its modern form and the 2020
 * {@code test_all} form, and {@code dma_resv_get_singleton}.
 */
public final class ResvSteps implements StepHandler {
  private final FenceNames names;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final Resv.Mode defaultMode;
  private final BufferResvs buffers;

  public ResvSteps(FenceNames names, FenceServices services, ActorRef<ContextOwner.Command> containers, Resv.Mode defaultMode,
      BufferResvs buffers) {
    this.names = names;
    this.services = services;
    this.containers = containers;
    this.defaultMode = defaultMode;
    this.buffers = buffers;
  }

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.RESV, Step.ActionCase.RESV_ADD, Step.ActionCase.RESV_FENCES, Step.ActionCase.RESV_TEST_SIGNALED,
        Step.ActionCase.RESV_SINGLETON);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case RESV -> {
        var rv = step.getResv();
        Resv.Mode mode = rv.getMode().equals("2020") ? Resv.Mode.Y2020 : rv.getMode().equals("modern") ? Resv.Mode.MODERN : defaultMode;
        ActorRef<Resv.Command> resv = call.spawn(Resv.create(rv.getName(), mode, containers, services));
        yield StepCall.done(StepCall.ret(0).putBound(rv.getName(), Binding.newBuilder()
                .setActor(ActorRefResolver.get(call.system()).toSerializationFormat(resv)).build())
            .putOut("mode", mode.name()).setDetail("dma_resv " + rv.getName() + " (" + mode + ")"));
      }
      case RESV_ADD -> add(call, step);
      case RESV_FENCES -> {
        var q = step.getResvFences();
        ResvUsage usage = usage(q.getUsage());
        yield resv(call, q.getResv(), q.getBuffer()).thenCompose(resv -> call.<Resv.Command, Resv.Fences>ask(resv, r -> new Resv.GetFences(usage, q.getAll(), r)))
            .thenApply(f -> {
              List<FenceRef> fences = f.entries().stream().map(Resv.Entry::fence).toList();
              return StepCall.ret(0).setValue(names.values(fences))
                  .putOut("usages", f.entries().stream().map(e -> e.usage().name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(",")))
                  .setDetail(fences.size() + " fence(s) up to " + usage).build();
            });
      }
      case RESV_TEST_SIGNALED -> {
        var q = step.getResvTestSignaled();
        ResvUsage usage = usage(q.getUsage());
        yield resv(call, q.getResv(), q.getBuffer()).thenCompose(resv -> call.<Resv.Command, Resv.State>ask(resv, Resv.GetState::new)
            .thenCompose(state -> call.<Resv.Command, WaitResult>ask(resv, r -> state.mode() == Resv.Mode.Y2020
                ? new Resv.Wait2020(q.getAll(), 0, call.caller(), r) : new Resv.Wait(usage, 0, call.caller(), r))))
            .thenApply(w -> {
              boolean signalled = w.result() > 0;
              return StepCall.ret(signalled ? 1 : 0).setValue(StepCall.flag(signalled)).build();
            });
      }
      case RESV_SINGLETON -> {
        var q = step.getResvSingleton();
        ResvUsage usage = usage(q.getUsage());
        yield resv(call, q.getResv(), q.getBuffer()).thenCompose(resv -> call.<Resv.Command, Resv.Singleton>ask(resv, r -> new Resv.GetSingleton(usage, r)))
            .thenApply(s -> names.bind(StepCall.ret(s.result()).setValue(names.value(s.result() == 0 ? s.fence() : null)), q.getAs(),
                s.result() == 0 ? s.fence() : null).build());
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a resv step: " + step.getActionCase());
    };
  }

  /** Lock, reserve (unless the scenario asks for the BUG path), add, unlock: on a resv object or a buffer's own. */
  private CompletionStage<StepResult> add(StepCall call, Step step) {
    var ra = step.getResvAdd();
    FenceRef fence = names.fence(call, ra.getFence());
    ResvUsage usage = ResvUsage.valueOf(ra.getUsage().toUpperCase(Locale.ROOT));
    List<String> orderedAfter = names.fences(call, ra.getOrderedAfterList()).stream().map(f -> f.id().toString()).toList();
    AcquireCtx ctx = AcquireCtx.next(ProcessHandle.current().pid(), "scenario " + call.stepId());
    CompletionStage<Target> target;
    if (!ra.getBuffer().isEmpty()) {
      target = buffers.of(call, ra.getBuffer()).thenApply(found -> new Target(found.resv(), found.mode(), "buffer " + ra.getBuffer()));
    } else {
      ActorRef<Resv.Command> resv = call.actor(ra.getResv());
      target = call.<Resv.Command, Resv.State>ask(resv, Resv.GetState::new).thenApply(st -> new Target(resv, st.mode(), ra.getResv()));
    }
    return target.thenCompose(t -> call.<Integer>spawnAsk(r -> ResvAdd.create(t.resv(), t.mode(), ctx, fence, usage, orderedAfter,
            ra.getNoReserve(), call.timeout(), r))
        .thenApply(result -> {
          String what = t.mode() == Resv.Mode.Y2020
              ? (usage == ResvUsage.WRITE || usage == ResvUsage.KERNEL ? "dma_resv_add_excl_fence" : "dma_resv_add_shared_fence")
              : "dma_resv_add_fence(" + usage + ")";
          return StepCall.ret(result).setDetail(result != 0 ? what + ": " + Errno.describe(result) : what + " " + ra.getFence() + " on " + t.name())
              .build();
        }));
  }

  /** A resv object by name, or a buffer's own. */
  private CompletionStage<ActorRef<Resv.Command>> resv(StepCall call, String resv, String buffer) {
    return buffer.isEmpty() ? java.util.concurrent.CompletableFuture.completedFuture(call.actor(resv))
        : buffers.of(call, buffer).thenApply(BufferResvs.Found::resv);
  }

  private record Target(ActorRef<Resv.Command> resv, Resv.Mode mode, String name) {}

  /** A usage name; empty is BOOKKEEP (every fence). */
  static ResvUsage usage(String name) {
    return name.isEmpty() ? ResvUsage.BOOKKEEP : ResvUsage.valueOf(name.toUpperCase(Locale.ROOT));
  }
}
