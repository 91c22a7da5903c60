package dev.fencelab.node.step;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One step being executed on this node, as its handler sees it: the step, the names it uses (as the request binds
 * them, or as this node bound them: callbacks, contexts), asks bounded by the step's timeout, and
 * the helpers that build a {@link StepResult}.
 */
public final class StepCall {
  private final StepRequest request;
  private final ActorContext<StepExecutor.Command> context;
  private final StepExecutor.Registry registry;
  private boolean synchronous = true;

  StepCall(StepRequest request, ActorContext<StepExecutor.Command> context, StepExecutor.Registry registry) {
    this.request = request;
    this.context = context;
    this.registry = registry;
  }

  void leaveSynchronousPart() {
    synchronous = false;
  }

  public Step step() {
    return request.getStep();
  }

  /** The host's PCIe fabric as the request carries it (steps that read it), and the scenario's devices. */
  public dev.fencelab.protocol.scenario.v1.Pcie pcie() {
    return request.getPcie();
  }

  public java.util.List<String> devices() {
    return request.getDevicesList();
  }

  /** The run's seed (for the random choices a kernel call makes). */
  public long seed() {
    return request.getSeed();
  }

  public String stepId() {
    return request.getStepId();
  }

  public String run() {
    return request.getRun();
  }

  /** The actor system the executor runs in (for resolving and formatting actor references). */
  public org.apache.pekko.actor.typed.ActorSystem<?> system() {
    return context.getSystem();
  }

  public Duration timeout() {
    return request.getTimeoutNanos() > 0 ? Duration.ofNanos(request.getTimeoutNanos()) : Duration.ofSeconds(30);
  }

  /** Who makes the call, for wait-for edges and traces ({@code n1/step:sig-a}). */
  public String caller() {
    return "step:" + request.getStepId();
  }

  // --- names

  /** The binding the request carries for {@code name}, or null. */
  public Binding binding(String name) {
    return request.getBindingsMap().get(name);
  }

  /** The fd {@code name} stands for in the step's process: a literal number ("-1"), or the fd bound to the name. */
  public int fd(String name) {
    try {
      return Integer.parseInt(name.trim());
    } catch (NumberFormatException notANumber) {
      Binding b = request.getBindingsMap().get(name);
      if (b == null || b.getKindCase() != Binding.KindCase.FD) {
        throw new StepFailure(Errno.EBADF, "the process holds no fd named '" + name + "'");
      }
      return b.getFd();
    }
  }

  /** A buffer's handle on its exporting device (the driver is bound under the buffer's name too). */
  public int handle(String buffer) {
    Binding b = request.getBindingsMap().get(StepBindings.ownHandle(buffer));
    if (b == null || b.getKindCase() != Binding.KindCase.HANDLE) {
      throw new StepFailure(Errno.ENOENT, "buffer '" + buffer + "' has no handle on its device in this run");
    }
    return b.getHandle();
  }

  /** The driver of {@code device}, as the request binds it. */
  public <T> ActorRef<T> driver(String device) {
    Binding b = request.getBindingsMap().get(StepBindings.device(device));
    if (b == null || b.getKindCase() != Binding.KindCase.ACTOR) {
      throw new StepFailure(Errno.ENODEV, "no device named '" + device + "' is placed in this run");
    }
    return ActorRefResolver.get(context.getSystem()).resolveActorRef(b.getActor());
  }

  /** {@code buffer}'s handle on {@code device} (its own, or the one an import made). */
  public int handle(String buffer, String device) {
    Binding b = request.getBindingsMap().get(StepBindings.handle(buffer, device));
    if (b == null || b.getKindCase() != Binding.KindCase.HANDLE) {
      throw new StepFailure(Errno.ENOENT, "buffer " + buffer + " has no handle on device " + device
          + " (import its dma-buf there first)");
    }
    return b.getHandle();
  }

  /** A text the request binds under {@code key} (a process's label: {@link StepBindings#label}). */
  public String text(String key, String what) {
    Binding b = request.getBindingsMap().get(key);
    if (b == null || b.getKindCase() != Binding.KindCase.TEXT) {
      throw new StepFailure(Errno.ENOENT, "no " + what + " is bound in this run");
    }
    return b.getText();
  }

  /** A number the request binds under {@code key} (a buffer's size: {@link StepBindings#size}), or {@code absent}. */
  public long number(String key, long absent) {
    Binding b = request.getBindingsMap().get(key);
    return b == null || b.getKindCase() != Binding.KindCase.NUMBER ? absent : b.getNumber();
  }

  /** The placement this request asks for (set instead of a step). */
  public dev.fencelab.protocol.step.v1.Placement place() {
    return request.getPlace();
  }

  /** An actor bound to {@code name} in the request (a process, a timeline), resolved. */
  public <T> ActorRef<T> actor(String name) {
    Binding b = request.getBindingsMap().get(name);
    if (b == null || b.getKindCase() != Binding.KindCase.ACTOR) {
      throw new StepFailure(Errno.ENOENT, "nothing named '" + name + "' is bound in this run");
    }
    return ActorRefResolver.get(context.getSystem()).resolveActorRef(b.getActor());
  }

  /** An object this node bound to {@code name} in this run (a callback, a context), or a failure naming it. */
  public <T> T local(String name, Class<T> type, String what) {
    Object o = registry.get(request.getRun(), name);
    if (!type.isInstance(o)) {
      throw new StepFailure(Errno.ENOENT, "no " + what + " named '" + name + "' on this node in this run");
    }
    return type.cast(o);
  }

  /** An object this node bound to {@code name} in this run, or null. */
  public <T> T localOrNull(String name, Class<T> type) {
    Object o = registry.get(request.getRun(), name);
    return type.isInstance(o) ? type.cast(o) : null;
  }

  /** Binds {@code name} on this node for the rest of the run. Synchronous part only. */
  public void bindLocal(String name, Object value) {
    onActorThread("bindLocal");
    registry.put(request.getRun(), name, value);
  }

  // --- actors

  /**
   * Spawns a child of the executor that belongs to this run: it lives until the run is forgotten (the executor keeps
   * the most recent runs). Synchronous part only.
   */
  public <T> ActorRef<T> spawn(Behavior<T> behavior) {
    onActorThread("spawn");
    ActorRef<T> child = context.spawnAnonymous(behavior);
    registry.owns(request.getRun(), child);
    return child;
  }

  /** Spawns {@code factory}'s actor, which answers once to the reference it is given; bounded by the step timeout. */
  public <R> CompletionStage<R> spawnAsk(Function<ActorRef<R>, Behavior<?>> factory) {
    return AskPattern.ask(context.getSelf(), (ActorRef<R> r) -> new StepExecutor.SpawnChild(factory.apply(r)), timeout(),
        context.getSystem().scheduler());
  }

  public <Q, R> CompletionStage<R> ask(RecipientRef<Q> target, Function<ActorRef<R>, Q> message) {
    return ask(target, message, timeout());
  }

  /** An ask bounded by {@code timeout} (a wait longer than the step timeout). */
  public <Q, R> CompletionStage<R> ask(RecipientRef<Q> target, Function<ActorRef<R>, Q> message, Duration timeout) {
    return AskPattern.ask(target, message::apply, timeout, context.getSystem().scheduler());
  }

  public <T> void tell(ActorRef<T> target, T message) {
    target.tell(message);
  }

  // --- results

  public static StepResult.Builder ret(long ret) {
    return StepResult.newBuilder().setRet(ret).setExecuted(true);
  }

  public static CompletionStage<StepResult> done(StepResult.Builder result) {
    return CompletableFuture.completedFuture(result.build());
  }

  public static Value number(long n) {
    return Value.newBuilder().setNumber(n).build();
  }

  /** A binding of an actor, as the protocol carries it. */
  public Binding actorBinding(ActorRef<?> actor) {
    return Binding.newBuilder().setActor(ActorRefResolver.get(context.getSystem()).toSerializationFormat(actor)).build();
  }

  public static Value flag(boolean b) {
    return Value.newBuilder().setFlag(b).build();
  }

  /** A duration field: "" is {@code absent}, "forever" is null (MAX_SCHEDULE_TIMEOUT); "-1ms" and the like are negative. */
  public static Duration duration(String text, Duration absent) {
    String t = text.trim();
    if (t.isEmpty()) {
      return absent;
    }
    if (t.equals("forever")) {
      return null;
    }
    boolean negative = t.startsWith("-");
    long nanos = Units.nanos(negative ? t.substring(1) : t);
    return Duration.ofNanos(negative ? -nanos : nanos);
  }

  private void onActorThread(String what) {
    if (!synchronous) {
      throw new IllegalStateException(what + " outside the handler's synchronous part");
    }
  }
}
