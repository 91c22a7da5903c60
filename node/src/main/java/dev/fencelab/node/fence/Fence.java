package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
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
  private final ActorRef<ContextOwner.Command> owner;
  private final FenceServices services;
  private final List<ActorRef<FenceProtocol.Callback>> callbacks = new ArrayList<>(2);
  private int error;
  private FenceStatus status = FenceStatus.PENDING;
  private boolean signalingEnabled;
  private long deadlineNanos;

  public static Behavior<FenceProtocol.Command> create(
      FenceId id, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    return Behaviors.setup(context -> new Fence(context, id, owner, services));
  }

  private Fence(
      ActorContext<FenceProtocol.Command> context, FenceId id, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    super(context);
    this.id = id;
    this.owner = owner;
    this.services = services;
  }

  @Override
  public Receive<FenceProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(FenceProtocol.AddCallback.class, this::onAddCallback)
        .onMessage(FenceProtocol.RemoveCallback.class, this::onRemoveCallback)
        .onMessage(FenceProtocol.Signal.class, this::onSignal)
        .onMessage(FenceProtocol.SetError.class, this::onSetError)
        .onMessageEquals(FenceProtocol.EnableSignaling.INSTANCE, this::onEnableSignaling)
        .onMessage(FenceProtocol.SetDeadline.class, this::onSetDeadline)
        .onMessage(FenceProtocol.GetStatus.class, this::onGetStatus)
        .onMessageEquals(FenceProtocol.Release.INSTANCE, this::onRelease)
        .onSignal(PostStop.class, stop -> onPostStop())
        .build();
  }

  private Behavior<FenceProtocol.Command> onAddCallback(FenceProtocol.AddCallback add) {
    if (status.isSignalled()) {
      add.callback().tell(new FenceProtocol.Signalled(id, status, true)); // -ENOENT: not added
      return this;
    }
    signalingEnabled = true; // add_callback enables signalling (§1.4)
    callbacks.add(add.callback());
    if (add.ack()) {
      add.callback().tell(new FenceProtocol.CallbackAdded(id));
    }
    return this;
  }

  private Behavior<FenceProtocol.Command> onRemoveCallback(FenceProtocol.RemoveCallback remove) {
    boolean removed = callbacks.remove(remove.callback());
    if (remove.replyTo() != null) {
      remove.replyTo().tell(new FenceProtocol.CallbackRemoved(id, removed));
    }
    return this;
  }

  private Behavior<FenceProtocol.Command> onSignal(FenceProtocol.Signal signal) {
    if (signal.error() != 0) {
      setError(signal.error());
    }
    if (status.isSignalled()) {
      services.violation(Violation.Kind.DOUBLE_SIGNAL, id, "dma_fence_signal on a fence already " + status);
      reply(signal, Errno.EINVAL.negative());
      return this;
    }
    signal(Clocks.wallNanos(), signal.modelNanos());
    reply(signal, 0);
    return Behaviors.stopped();
  }

  private void reply(FenceProtocol.Signal signal, int result) {
    if (signal.replyTo() != null) {
      signal.replyTo().tell(new FenceProtocol.SignalResult(id, result));
    }
  }

  /** The state change of {@code dma_fence_signal_timestamp_locked}: set, take the list, run it in order. */
  private void signal(long wallNanos, long modelNanos) {
    status = FenceStatus.signalled(error, wallNanos, modelNanos);
    FenceProtocol.Signalled signalled = new FenceProtocol.Signalled(id, status, false);
    for (ActorRef<FenceProtocol.Callback> callback : callbacks) {
      callback.tell(signalled);
    }
    callbacks.clear();
    owner.tell(new ContextOwner.FenceCompleted(id.seqno(), status));
  }

  private Behavior<FenceProtocol.Command> onSetError(FenceProtocol.SetError set) {
    setError(set.error());
    return this;
  }

  /** {@code dma_fence_set_error}: WARN conditions are violations; the value is stored regardless (§1.1 F3). */
  private void setError(int err) {
    if (status.isSignalled()) {
      services.violation(Violation.Kind.ERROR_AFTER_SIGNAL, id,
          "dma_fence_set_error(" + Errno.describe(err) + ") after the fence " + status);
    }
    if (err >= 0 || err < -Errno.MAX_ERRNO) {
      services.violation(Violation.Kind.INVALID_ERROR, id, "dma_fence_set_error(" + err + "): not in [-4095, -1]");
    }
    error = err;
    if (status.isSignalled() && err < 0 && err >= -Errno.MAX_ERRNO) {
      // The kernel stores it into the signalled fence, so later get_status sees it.
      status = new FenceStatus(err, status.wallNanos(), status.modelNanos());
    }
  }

  private Behavior<FenceProtocol.Command> onEnableSignaling() {
    signalingEnabled = true;
    return this;
  }

  private Behavior<FenceProtocol.Command> onSetDeadline(FenceProtocol.SetDeadline set) {
    if (!status.isSignalled()) {
      if (deadlineNanos == 0 || set.deadlineNanos() < deadlineNanos) {
        deadlineNanos = set.deadlineNanos();
      }
      owner.tell(new ContextOwner.DeadlineHint(id.seqno(), set.deadlineNanos()));
    }
    return this;
  }

  private Behavior<FenceProtocol.Command> onGetStatus(FenceProtocol.GetStatus get) {
    get.replyTo().tell(new FenceProtocol.StatusReply(id, status, signalingEnabled, deadlineNanos));
    return this;
  }

  private Behavior<FenceProtocol.Command> onRelease() {
    return Behaviors.stopped(); // PostStop does what dma_fence_release does
  }

  private Behavior<FenceProtocol.Command> onPostStop() {
    if (!status.isSignalled() && !callbacks.isEmpty()) {
      services.violation(Violation.Kind.RELEASED_WITH_PENDING_CALLBACKS, id,
          "Fence released with pending signals! (" + callbacks.size() + " callbacks); signalled with -EDEADLK");
      error = Errno.EDEADLK.negative();
      signal(Clocks.wallNanos(), 0);
    }
    return this;
  }
}
