package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The dma_fence API as scenario steps (kernel-semantics §1.1–§1.8), on the selftests' "mock" fences and on any
 * fence a run has bound: contexts, mock fences with a chosen {@code enable_signaling} op, signal, set_error,
 * callbacks, status, waits, arrays, chains, {@code find_seqno}, unwrap and merge, {@code is_later}/{@code later},
 * stubs and the last {@code put}. Each call answers what the kernel function returns.
 *
 * <p>Callbacks and contexts are bound on this node (the runner sends the steps that use them here); fences come
 * with the request. Replies and errors as listed on each step in {@code scenario.proto}.
 */
public final class FenceSteps implements StepHandler {
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final FenceNames names;

  public FenceSteps(FenceServices services, ActorRef<ContextOwner.Command> containers, FenceNames names) {
    this.services = services;
    this.containers = containers;
    this.names = names;
  }

  /** The actions this handler executes. */
  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.CONTEXT_ALLOC, Step.ActionCase.FENCE, Step.ActionCase.SIGNAL, Step.ActionCase.SET_ERROR,
        Step.ActionCase.ADD_CALLBACK, Step.ActionCase.REMOVE_CALLBACK, Step.ActionCase.CALLBACK_SEEN, Step.ActionCase.ENABLE_SIGNALING,
        Step.ActionCase.GET_STATUS, Step.ActionCase.IS_SIGNALED, Step.ActionCase.WAIT_TIMEOUT, Step.ActionCase.WAIT_ANY,
        Step.ActionCase.ARRAY, Step.ActionCase.CHAIN, Step.ActionCase.FIND_SEQNO, Step.ActionCase.UNWRAP, Step.ActionCase.UNWRAP_MERGE,
        Step.ActionCase.IS_LATER, Step.ActionCase.LATER, Step.ActionCase.STUB, Step.ActionCase.PUT, Step.ActionCase.FENCE_SET_DEADLINE);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case CONTEXT_ALLOC -> contextAlloc(call, step.getContextAlloc());
      case FENCE -> mockFence(call, step.getFence());
      case SIGNAL -> signal(call, step.getSignal());
      case SET_ERROR -> setError(call, step.getSetError());
      case ADD_CALLBACK -> addCallback(call, step.getAddCallback());
      case REMOVE_CALLBACK -> call.<MockCallback.Command, Boolean>ask(callback(call, step.getRemoveCallback().getCallback()),
              MockCallback.Remove::new)
          .thenApply(removed -> StepCall.ret(removed ? 1 : 0).setValue(StepCall.flag(removed)).setDetail(removed
              ? "the callback was pending and is removed" : "the callback had already run (or was never added)").build());
      case CALLBACK_SEEN -> call.<MockCallback.Command, MockCallback.Seen>ask(callback(call, step.getCallbackSeen().getCallback()),
              MockCallback.Query::new)
          .thenApply(seen -> StepCall.ret(seen.seen() ? 1 : 0).setValue(StepCall.flag(seen.seen()))
              .putOut("status", Integer.toString(seen.status().value())).build());
      case ENABLE_SIGNALING -> probe(call, names.fence(call, step.getEnableSignaling().getFence()), List.of(FenceProtocol.EnableSignaling.INSTANCE))
          .thenApply(reply -> StepCall.ret(0).setValue(StepCall.number(reply.enableOpsCalls()))
              .putOut("ops_calls", Integer.toString(reply.enableOpsCalls())).putOut("status", Integer.toString(reply.status().value()))
              .setDetail("enable_signaling op ran " + reply.enableOpsCalls() + " time(s); status " + reply.status()).build());
      case GET_STATUS -> probe(call, names.fence(call, step.getGetStatus().getFence()), List.of())
          .thenApply(reply -> StepCall.ret(reply.status().value()).setValue(StepCall.number(reply.status().value()))
              .setDetail("status " + reply.status()).build());
      case IS_SIGNALED -> probe(call, names.fence(call, step.getIsSignaled().getFence()), List.of())
          .thenApply(reply -> {
            boolean signalled = reply.status().isSignalled();
            return StepCall.ret(signalled ? 1 : 0).setValue(StepCall.flag(signalled)).build();
          });
      case WAIT_TIMEOUT -> waitTimeout(call, step.getWaitTimeout());
      case WAIT_ANY -> waitAny(call, step.getWaitAny());
      case ARRAY -> {
        var a = step.getArray();
        List<FenceRef> members = names.fences(call, a.getFencesList());
        yield call.<ContextOwner.Command, FenceRef>ask(containers, r -> new Containers.CreateArray(members, a.getSignalOnAny(), null, 1, r))
            .thenApply(array -> names.bind(StepCall.ret(0).setValue(names.value(array)), a.getAs(), array)
                .setDetail("dma_fence_array of " + members.size() + " fence(s): " + array).build());
      }
      case CHAIN -> {
        var c = step.getChain();
        FenceRef prev = c.getPrev().isEmpty() ? null : names.fence(call, c.getPrev());
        FenceRef fence = names.fence(call, c.getFence());
        yield call.<ContextOwner.Command, FenceRef>ask(containers, r -> new Containers.CreateChain(prev, fence, c.getSeqno(), r))
            .thenApply(chain -> names.bind(StepCall.ret(0).setValue(names.value(chain)), c.getAs(), chain)
                .setDetail("chain point " + chain).build());
      }
      case FIND_SEQNO -> {
        var f = step.getFindSeqno();
        FenceRef head = names.fence(call, f.getFence());
        yield call.<ContextOwner.Command, ChainFindSeqno.SeqnoFound>ask(containers, r -> new Containers.FindSeqno(head, f.getSeqno(), r))
            .thenApply(found -> {
              FenceRef point = found.result() == 0 ? found.point() : null;
              return names.bind(StepCall.ret(found.result()).setValue(names.value(point)), f.getAs(), point)
                  .setDetail(found.result() != 0 ? Errno.describe(found.result()) : point == null ? "NULL" : point.toString()).build();
            });
      }
      case UNWRAP -> {
        FenceRef head = names.fence(call, step.getUnwrap().getFence());
        yield call.<UnwrapMerge.Unwrapped>spawnAsk(r -> UnwrapMerge.unwrap(List.of(head), r, services))
            .thenApply(u -> {
              List<FenceRef> leaves = u.leaves().stream().map(UnwrapMerge.Leaf::fence).toList();
              return StepCall.ret(0).setValue(names.values(leaves)).setDetail(leaves.size() + " leaf fence(s)").build();
            });
      }
      case UNWRAP_MERGE -> {
        var m = step.getUnwrapMerge();
        List<FenceRef> fences = names.fences(call, m.getFencesList());
        yield call.<ContextOwner.Command, FenceRef>ask(containers, r -> new Containers.Merge(fences, r))
            .thenApply(merged -> names.bind(StepCall.ret(0).setValue(names.value(merged)), m.getAs(), merged)
                .setDetail("merged: " + merged).build());
      }
      case IS_LATER -> {
        FenceRef a = names.fence(call, step.getIsLater().getA());
        FenceRef b = names.fence(call, step.getIsLater().getB());
        boolean later = sameContext(a, b, "dma_fence_is_later") && Seqnos.isLater(a.id().seqno(), b.id().seqno(), a.seqno64());
        yield StepCall.done(StepCall.ret(later ? 1 : 0).setValue(StepCall.flag(later)));
      }
      case LATER -> later(call, step.getLater());
      case STUB -> {
        var s = step.getStub();
        FenceRef stub = s.getPrivate() ? FenceRef.stub(Clocks.wallNanos()) : FenceRef.stub();
        yield StepCall.done(names.bind(StepCall.ret(0).setValue(names.value(stub)), s.getAs(), stub));
      }
      case PUT -> {
        FenceRef f = names.fence(call, step.getPut().getFence());
        if (!f.isStub()) {
          f.actor().tell(FenceProtocol.Release.INSTANCE);
        }
        yield StepCall.done(StepCall.ret(0).setDetail("dma_fence_put: last reference dropped"));
      }
      case FENCE_SET_DEADLINE -> {
        FenceRef f = names.fence(call, step.getFenceSetDeadline().getFence());
        Duration d = StepCall.duration(step.getFenceSetDeadline().getDeadline(), Duration.ZERO);
        if (!f.isStub()) {
          f.actor().tell(new FenceProtocol.SetDeadline(Clocks.wallNanos() + (d == null ? 0 : d.toNanos())));
        }
        yield StepCall.done(StepCall.ret(0));
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a fence step: " + step.getActionCase());
    };
  }

  private CompletionStage<StepResult> contextAlloc(StepCall call, dev.fencelab.protocol.scenario.v1.ContextAlloc c) {
    FenceContext context = services.contexts().allocate();
    call.bindLocal(c.getAs(), call.spawn(FenceTimeline.create(services, context, c.getSeqno64())));
    return StepCall.done(StepCall.ret(context.id()).setValue(StepCall.number(context.id())).setDetail("context " + context));
  }

  private CompletionStage<StepResult> mockFence(StepCall call, dev.fencelab.protocol.scenario.v1.MockFence m) {
    FenceOps ops = switch (m.getEnableSignaling().toLowerCase(Locale.ROOT)) {
      case "", "none" -> FenceOps.NONE;
      case "counting" -> FenceOps.COUNTING;
      case "refusing" -> FenceOps.REFUSING;
      default -> throw new StepFailure(Errno.EINVAL, "enable_signaling must be none, counting or refusing, not '" + m.getEnableSignaling() + "'");
    };
    @SuppressWarnings("unchecked")
    ActorRef<ContextOwner.Command> owner = m.getContext().isEmpty()
        ? call.spawn(FenceTimeline.create(services, services.contexts().allocate(), false))
        : call.local(m.getContext(), ActorRef.class, "fence context");
    return call.<ContextOwner.Command, Optional<FenceRef>>ask(owner, r -> new FenceTimeline.CreateMockFence(m.getSeqno(), ops, r))
        .thenApply(created -> created.isEmpty()
            ? StepCall.ret(Errno.EEXIST.negative()).setDetail("context " + m.getContext() + " has a live fence with seqno " + m.getSeqno()).build()
            : names.bind(StepCall.ret(0).setValue(names.value(created.get())), m.getAs(), created.get())
                .setDetail("mock fence " + created.get() + (ops == FenceOps.NONE ? "" : ", enable_signaling " + ops)).build());
  }

  private CompletionStage<StepResult> signal(StepCall call, dev.fencelab.protocol.scenario.v1.FenceSignal s) {
    FenceRef f = names.fence(call, s.getFence());
    int error = s.getError().isEmpty() ? 0 : errno(s.getError());
    if (f.isStub()) {
      services.violation(Violation.Kind.DOUBLE_SIGNAL, f.id(), "dma_fence_signal on the stub (always signalled)");
      return StepCall.done(StepCall.ret(Errno.EINVAL.negative()));
    }
    if (f.kind() != FenceRef.Kind.HARDWARE) {
      throw new StepFailure(Errno.EINVAL, "signal takes a fence of the fence API (" + f + " is signalled by its own owner: "
          + "sw_sync points by inc, containers by their members)");
    }
    // Through the context's owner: it answers -EINVAL for a fence already signalled even after the fence actor stopped.
    return call.<ContextOwner.Command, FenceProtocol.SignalResult>ask(f.owner(),
            r -> new FenceTimeline.SignalFence(f.id().seqno(), error, 0, r))
        .thenApply(result -> StepCall.ret(result.result()).setDetail(result.result() == 0 ? "signalled" + (error == 0 ? "" : " with "
            + Errno.describe(error)) : "already signalled: " + Errno.describe(result.result())).build());
  }

  private CompletionStage<StepResult> setError(StepCall call, dev.fencelab.protocol.scenario.v1.FenceSetError s) {
    FenceRef f = names.fence(call, s.getFence());
    int error = !s.getError().isEmpty() ? errno(s.getError()) : s.getValue();
    if (f.kind() == FenceRef.Kind.HARDWARE) {
      f.owner().tell(new FenceTimeline.SetFenceError(f.id().seqno(), error));
    } else if (!f.isStub()) {
      f.actor().tell(new FenceProtocol.SetError(error));
    }
    return StepCall.done(StepCall.ret(0).setDetail("dma_fence_set_error(" + error + ")"));
  }

  private CompletionStage<StepResult> addCallback(StepCall call, dev.fencelab.protocol.scenario.v1.AddCallback a) {
    FenceRef f = names.fence(call, a.getFence());
    ActorRef<MockCallback.Command> cb = call.spawn(MockCallback.create(f));
    if (!a.getAs().isEmpty()) {
      call.bindLocal(a.getAs(), cb);
    }
    return call.<MockCallback.Command, Integer>ask(cb, MockCallback.Add::new)
        .thenApply(result -> StepCall.ret(result).setDetail(result == 0 ? "callback added" : "not added: " + Errno.describe(result)).build());
  }

  @SuppressWarnings("unchecked")
  private static ActorRef<MockCallback.Command> callback(StepCall call, String name) {
    return call.local(name, ActorRef.class, "callback");
  }

  private CompletionStage<FenceProtocol.StatusReply> probe(StepCall call, FenceRef fence, List<FenceProtocol.Command> first) {
    return call.spawnAsk(r -> StatusProbe.create(fence, first, r));
  }

  private CompletionStage<StepResult> waitTimeout(StepCall call, dev.fencelab.protocol.scenario.v1.WaitTimeout w) {
    FenceRef f = names.fence(call, w.getFence());
    Duration timeout = StepCall.duration(w.getTimeout(), null);
    return call.<WaitResult>spawnAsk(r -> FenceWait.create(f, timeout, call.caller(), "dma_fence_wait_timeout", r, services))
        .thenApply(result -> StepCall.ret(result.result()).setResult(result.result() > 0 ? "signaled" : result.result() == 0 ? "timeout" : "error")
            .putOut("status", Integer.toString(result.status().value()))
            .setDetail(result.result() > 0 ? "signalled, status " + result.status() : result.result() == 0 ? "timed out"
                : Errno.describe((int) result.result())).build());
  }

  private CompletionStage<StepResult> waitAny(StepCall call, dev.fencelab.protocol.scenario.v1.WaitAny w) {
    List<FenceRef> fences = names.fences(call, w.getFencesList());
    Duration timeout = StepCall.duration(w.getTimeout(), null);
    return call.<WaitResult>spawnAsk(r -> FenceWaitAny.create(fences, timeout, call.caller(), "dma_fence_wait_any_timeout", r, services))
        .thenApply(result -> {
          StepResult.Builder b = StepCall.ret(result.result()).setResult(result.result() > 0 ? "signaled" : result.result() == 0 ? "timeout" : "error");
          if (result.result() > 0) {
            b.setValue(StepCall.number(result.index()));
          }
          return b.setDetail(result.result() > 0 ? "fence #" + result.index() + " signalled" : result.result() == 0 ? "timed out"
              : Errno.describe((int) result.result())).build();
        });
  }

  private CompletionStage<StepResult> later(StepCall call, dev.fencelab.protocol.scenario.v1.Later l) {
    FenceRef a = names.fence(call, l.getA());
    FenceRef b = names.fence(call, l.getB());
    if (!sameContext(a, b, "dma_fence_later")) {
      return StepCall.done(StepCall.ret(0).setValue(names.value(null)));
    }
    FenceRef later = Seqnos.isLater(a.id().seqno(), b.id().seqno(), a.seqno64()) ? a : b;
    return probe(call, later, List.of()).thenApply(reply -> {
      FenceRef result = reply.status().isSignalled() ? null : later;
      return names.bind(StepCall.ret(0).setValue(names.value(result)), l.getAs(), result).build();
    });
  }

  private boolean sameContext(FenceRef a, FenceRef b, String call) {
    if (!a.id().context().equals(b.id().context())) {
      services.violation(Violation.Kind.CONTEXT_MISMATCH, a.id(), call + "(" + a + ", " + b + "): different contexts");
      return false;
    }
    return true;
  }

  /** An errno name ("EIO", "-EIO") as the kernel passes it: negative. */
  static int errno(String name) {
    Errno e = Errno.byName(name.trim().toUpperCase(Locale.ROOT));
    if (e == null) {
      try {
        return Integer.parseInt(name.trim());
      } catch (NumberFormatException notANumber) {
        throw new StepFailure(Errno.EINVAL, "unknown errno '" + name + "'");
      }
    }
    return e.negative();
  }

}
