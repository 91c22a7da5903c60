package dev.fencelab.node.fence;

import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One leaf fence ({@code struct dma_fence}, kernel-semantics §1.1–§1.5): a hardware fence or a sw_sync point.
 *
 * <p>Owns: its status, its stored error (hidden until signal), its callback list (FIFO), its deadline.
 * Created by: its context's owner, as a child on the owner's member. Talks to: its callback targets (one
 * {@link FenceProtocol.Signalled} each, in registration order) and its owner ({@link ContextOwner.FenceCompleted}).
 * Lifetime: after it has signalled and told its callbacks it stops; its owner answers for it afterwards.
 * Errors: {@code -EINVAL} to a second {@link FenceProtocol.Signal} (plus a violation); violations for
 * {@code set_error} after signal or out of range (stored anyway, as the kernel does), and for a release
 * while pending with callbacks (which force-signals {@code -EDEADLK}, §1.1 F4). A fence that stops
 * unsignalled for any other reason does the same as a release: no callback is ever left pending.
 */
public final class Fence extends AbstractBehavior<FenceProtocol.Command> {
  private final FenceId id;
  private final FenceRef.Kind kind;
  private final ActorRef<ContextOwner.Command> owner;
  private final FenceServices services;
  private final FenceCallbacks state;
  private final FenceOps ops;
  private int error;
  private boolean signalingEnabled;
  private int opsCalls;
  private final TraceRecorder trace;

  public static Behavior<FenceProtocol.Command> create(
      FenceId id, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    return create(id, FenceRef.Kind.HARDWARE, owner, services);
  }

  public static Behavior<FenceProtocol.Command> create(
      FenceId id, FenceRef.Kind kind, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    return create(id, kind, FenceOps.NONE, owner, services);
  }

  /** A fence whose {@code enable_signaling} op is {@code ops} (mock fences of the fence-API steps). */
  public static Behavior<FenceProtocol.Command> create(
      FenceId id, FenceRef.Kind kind, FenceOps ops, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    return Behaviors.setup(context -> new Fence(context, id, kind, ops, owner, services));
  }

  private Fence(
      ActorContext<FenceProtocol.Command> context, FenceId id, FenceRef.Kind kind, FenceOps ops, ActorRef<ContextOwner.Command> owner,
      FenceServices services) {
    super(context);
    this.id = id;
    this.kind = kind;
    this.ops = ops;
    this.owner = owner;
    this.services = services;
    this.state = new FenceCallbacks(id);
    this.trace = TraceRecorder.get(context.getSystem());
    if (trace.enabled()) { // nothing built per fence when tracing is off (the bench): no label, no id text
      trace.record(TraceRecorder.event(EventKind.FENCE_CREATED, track()).setFence(id.toString())
          .setName(kind.name().toLowerCase(java.util.Locale.ROOT)));
    }
  }

  /** The fence's track in the trace: its context owner's (computed when recorded, not kept per fence). */
  private String track() {
    return TraceRecorder.label(owner);
  }

  private void traceSignalled() {
    if (trace.enabled()) {
      trace.record(TraceRecorder.event(EventKind.FENCE_SIGNALED, track()).setFence(id.toString())
          .setStatus(state.status().value()).setModelNanos(state.status().modelNanos()));
    }
  }

  @Override
  public Receive<FenceProtocol.Command> createReceive() {
    // The builder tries its cases in order (a class check each): a fence's one signal and its callbacks first.
    return newReceiveBuilder()
        .onMessage(FenceProtocol.Signal.class, this::onSignal)
        .onMessage(FenceProtocol.AddCallback.class, this::onAddCallback)
        .onMessage(FenceProtocol.RemoveCallback.class, remove -> {
          state.remove(remove);
          return this;
        })
        .onMessage(FenceProtocol.SetError.class, set -> {
          setError(set.error());
          return this;
        })
        .onMessageEquals(FenceProtocol.EnableSignaling.INSTANCE, () -> {
          enableSignaling();
          return state.signalled() ? Behaviors.stopped() : this;
        })
        .onMessage(FenceProtocol.SetDeadline.class, this::onSetDeadline)
        .onMessage(FenceProtocol.GetStatus.class, get -> {
          state.reply(get, signalingEnabled, opsCalls);
          return this;
        })
        .onMessageEquals(FenceProtocol.Release.INSTANCE, () -> {
          if (!state.signalled() && !state.hasCallbacks()) {
            // dma_fence_release of an unsignalled fence nobody waits on: freed, never signalled (not a leak). Its owner
            // records it as ended with -EDEADLK (what the release path signals when someone is waiting), so later
            // queries and the context's seqno order do not wait for a fence that no longer exists.
            trace.record(TraceRecorder.event(EventKind.FENCE_RELEASED, track()).setFence(id.toString()));
            owner.tell(new ContextOwner.FenceCompleted(id, FenceStatus.signalled(Errno.EDEADLK.negative(), Clocks.wallNanos(), 0)));
          }
          return Behaviors.stopped(); // PostStop does what dma_fence_release does with callbacks pending
        })
        .onMessage(FenceProtocol.GetMembers.class, get -> {
          get.replyTo().tell(new FenceProtocol.Members(id, kind, java.util.List.of(), null));
          return this;
        })
        .onSignal(PostStop.class, stop -> {
          boolean was = state.signalled();
          if (!was && org.apache.pekko.actor.CoordinatedShutdown.get(Adapter.toClassic(getContext().getSystem()))
              .getShutdownReason().isPresent()) {
            state.memberLeaving(owner); // downed, or stopped: its devices go with it, as in a hot-unplug
          } else {
            state.releaseIfPending(services, owner);
          }
          if (!was && state.signalled()) {
            traceSignalled();
          }
          return this;
        })
        .build();
  }

  private Behavior<FenceProtocol.Command> onAddCallback(FenceProtocol.AddCallback add) {
    if (!state.signalled()) {
      enableSignaling(); // add_callback enables signalling (§1.4); a refusing op signals here: -ENOENT below
    }
    state.add(add);
    return state.signalled() ? Behaviors.stopped() : this;
  }

  /**
   * {@code __dma_fence_enable_signaling} (§1.4): the op runs once per lifetime, the first time signalling is
   * enabled on an unsignalled fence; an op that returns false makes the core signal the fence at once.
   */
  private void enableSignaling() {
    boolean wasSet = signalingEnabled;
    signalingEnabled = true;
    if (state.signalled() || wasSet || ops == FenceOps.NONE) {
      return;
    }
    opsCalls++;
    if (ops == FenceOps.REFUSING && state.signal(error, 0, owner)) {
      traceSignalled();
    }
  }

  private Behavior<FenceProtocol.Command> onSignal(FenceProtocol.Signal signal) {
    if (signal.error() != 0) {
      setError(signal.error());
    }
    if (!state.signal(error, signal.modelNanos(), owner)) {
      services.violation(Violation.Kind.DOUBLE_SIGNAL, id, "dma_fence_signal on a fence already " + state.status());
      reply(signal, Errno.EINVAL.negative());
      return this;
    }
    traceSignalled();
    reply(signal, 0);
    return Behaviors.stopped();
  }

  private void reply(FenceProtocol.Signal signal, int result) {
    if (signal.replyTo() != null) {
      signal.replyTo().tell(new FenceProtocol.SignalResult(id, result));
    }
  }

  /** {@code dma_fence_set_error}: WARN conditions are violations; the value is stored regardless (§1.1 F3). */
  private void setError(int err) {
    if (state.signalled()) {
      services.violation(Violation.Kind.ERROR_AFTER_SIGNAL, id,
          "dma_fence_set_error(" + Errno.describe(err) + ") after the fence " + state.status());
    }
    if (err >= 0 || err < -Errno.MAX_ERRNO) {
      services.violation(Violation.Kind.INVALID_ERROR, id, "dma_fence_set_error(" + err + "): not in [-4095, -1]");
    }
    error = err;
  }

  private Behavior<FenceProtocol.Command> onSetDeadline(FenceProtocol.SetDeadline set) {
    if (!state.signalled()) {
      state.deadline(set.deadlineNanos());
      owner.tell(new ContextOwner.DeadlineHint(id.seqno(), set.deadlineNanos()));
    }
    return this;
  }
}
