package dev.fencelab.node.step;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The step executor of one node: takes every {@link ExecuteStep} its node agent receives, routes it by the step's
 * action (the generated {@code oneof} case, switched on once, here) to the {@link StepHandler} registered for it,
 * and answers one {@link StepReply} — also when the handler fails, when the node has no handler for the action
 * ({@code -EOPNOTSUPP}), or when a call does not answer within the step's timeout ({@code -ETIMEDOUT}).
 *
 * <p>Owns: the names this node bound per run (callbacks, fence contexts: {@link Registry}), and the actors the
 * handlers spawned (its children). Never blocks: a handler's answer is piped back to this actor.
 */
public final class StepExecutor extends AbstractBehavior<StepExecutor.Command> {
  public interface Command extends NoSerializationVerificationNeeded {}

  /** From the node agent. */
  public record Run(ExecuteStep execute) implements Command {
    public Run {
      Objects.requireNonNull(execute, "execute");
    }
  }

  /** From the node agent: run {@code run} is over; stop what its steps spawned here and forget its names. */
  public record Forget(String run) implements Command {}

  /** From a handler's {@link StepCall#spawnAsk}: spawn this child here. */
  record SpawnChild(Behavior<?> behavior) implements Command {}

  private record Answered(ActorRef<StepReply> replyTo, StepResult result) implements Command {}

  /**
   * Names bound on this node and the actors its handlers spawned, per run. Bounded: beyond {@link #RUNS} runs the
   * least recently used is forgotten and its actors (mock fence contexts, callbacks) are stopped.
   */
  static final class Registry {
    private static final int RUNS = 64;

    private record Run(Map<String, Object> names, List<ActorRef<?>> actors) {}

    private final java.util.function.Consumer<ActorRef<?>> stop;
    private final Map<String, Run> runs = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Run> eldest) {
        if (size() <= RUNS) {
          return false;
        }
        eldest.getValue().actors().forEach(stop);
        return true;
      }
    };

    Registry(java.util.function.Consumer<ActorRef<?>> stop) {
      this.stop = stop;
    }

    private Run run(String run) {
      return runs.computeIfAbsent(run, r -> new Run(new HashMap<>(), new ArrayList<>()));
    }

    Object get(String run, String name) {
      Run r = runs.get(run);
      return r == null ? null : r.names().get(name);
    }

    void put(String run, String name, Object value) {
      run(run).names().put(name, value);
    }

    void owns(String run, ActorRef<?> actor) {
      run(run).actors().add(actor);
    }

    void forget(String run) {
      Run r = runs.remove(run);
      if (r != null) {
        r.actors().forEach(stop);
      }
    }
  }

  private final Map<Step.ActionCase, StepHandler> handlers;
  private final StepHandler placement;
  private final Registry registry;

  /**
   * {@code handlers}: every action this node executes, with the handler that lives beside its feature;
   * {@code placement}: the handler of the requests that set up a run's devices, processes and buffers.
   */
  public static Behavior<Command> create(Map<Step.ActionCase, StepHandler> handlers, StepHandler placement) {
    return Behaviors.setup(context -> new StepExecutor(context, handlers, placement));
  }

  /** An executor without placement (tests of step handlers). */
  public static Behavior<Command> create(Map<Step.ActionCase, StepHandler> handlers) {
    return create(handlers, call -> {
      throw new StepFailure(Errno.EOPNOTSUPP, "this executor places nothing");
    });
  }

  private StepExecutor(ActorContext<Command> context, Map<Step.ActionCase, StepHandler> handlers, StepHandler placement) {
    super(context);
    this.handlers = new EnumMap<>(Step.ActionCase.class);
    this.handlers.putAll(handlers);
    this.placement = placement;
    this.registry = new Registry(context::stop);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(SpawnChild.class, s -> {
          getContext().spawnAnonymous(s.behavior());
          return this;
        })
        .onMessage(Forget.class, f -> {
          registry.forget(f.run());
          return this;
        })
        .onMessage(Answered.class, a -> {
          long model = dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).modelNow();
          a.replyTo().tell(new StepReply(a.result().toBuilder().setModelNanos(model).build()));
          return this;
        })
        .build();
  }

  private Behavior<Command> onRun(Run run) {
    ExecuteStep e = run.execute();
    Step.ActionCase action = e.request().getStep().getActionCase();
    StepHandler handler = e.request().hasPlace() ? placement : handlers.get(action);
    if (handler == null) {
      e.replyTo().tell(new StepReply(failed(Errno.EOPNOTSUPP, "this node has no handler for step action " + action)));
      return this;
    }
    StepCall call = new StepCall(e.request(), getContext(), registry);
    CompletionStage<StepResult> result;
    try {
      result = handler.execute(call);
    } catch (StepFailure f) {
      e.replyTo().tell(new StepReply(failed(f.errno(), f.getMessage())));
      return this;
    } finally {
      call.leaveSynchronousPart();
    }
    getContext().pipeToSelf(result, (r, failure) -> new Answered(e.replyTo(), r != null ? r : failure(failure, call)));
    return this;
  }

  private static StepResult failure(Throwable failure, StepCall call) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (cause instanceof StepFailure f) {
      return failed(f.errno(), f.getMessage());
    }
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return failed(Errno.ETIMEDOUT, "no answer within " + call.timeout().toMillis() + " ms");
    }
    return failed(Errno.EIO, cause.getClass().getSimpleName() + ": " + cause.getMessage());
  }

  static StepResult failed(Errno errno, String detail) {
    return StepResult.newBuilder().setRet(errno.negative()).setExecuted(false).setDetail(detail).build();
  }
}
