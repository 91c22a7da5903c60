package dev.fencelab.node.fence;

import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;

/**
 * The callback list and signal-once state every fence kind shares (§1.1 F1, F2; §1.4): containers embed it
 * so that, to a waiter, an array or chain behaves exactly like a leaf.
 */
final class FenceCallbacks {
  private final FenceId id;
  /** Null until the first callback: most fences are signalled with none, or one added late (heap per pending fence). */
  private List<ActorRef<FenceProtocol.Callback>> callbacks;
  private FenceStatus status = FenceStatus.PENDING;
  private long deadlineNanos;

  FenceCallbacks(FenceId id) {
    this.id = id;
  }

  FenceStatus status() {
    return status;
  }

  boolean signalled() {
    return status.isSignalled();
  }

  boolean hasCallbacks() {
    return callbacks != null && !callbacks.isEmpty();
  }

  long deadlineNanos() {
    return deadlineNanos;
  }

  void deadline(long nanos) {
    if (deadlineNanos == 0 || nanos < deadlineNanos) {
      deadlineNanos = nanos;
    }
  }

  void add(FenceProtocol.AddCallback add) {
    if (status.isSignalled()) {
      add.callback().tell(new FenceProtocol.Signalled(id, status, true));
      return;
    }
    if (callbacks == null) {
      callbacks = new ArrayList<>(2);
    }
    callbacks.add(add.callback());
    if (add.ack()) {
      add.callback().tell(new FenceProtocol.CallbackAdded(id));
    }
  }

  void remove(FenceProtocol.RemoveCallback remove) {
    boolean removed = callbacks != null && callbacks.remove(remove.callback());
    if (remove.replyTo() != null) {
      remove.replyTo().tell(new FenceProtocol.CallbackRemoved(id, removed));
    }
  }

  /** Signals and runs the callbacks in order; false (nothing done) if it had already signalled. */
  boolean signal(int error, long modelNanos, ActorRef<ContextOwner.Command> owner) {
    if (status.isSignalled()) {
      return false;
    }
    status = FenceStatus.signalled(error, Clocks.wallNanos(), modelNanos);
    FenceProtocol.Signalled signalled = new FenceProtocol.Signalled(id, status, false);
    if (callbacks != null) {
      callbacks.forEach(cb -> cb.tell(signalled));
      callbacks = null;
    }
    owner.tell(new ContextOwner.FenceCompleted(id, status));
    return true;
  }

  void reply(FenceProtocol.GetStatus get, boolean signalingEnabled) {
    reply(get, signalingEnabled, 0);
  }

  void reply(FenceProtocol.GetStatus get, boolean signalingEnabled, int opsCalls) {
    get.replyTo().tell(new FenceProtocol.StatusReply(id, status, signalingEnabled, deadlineNanos, opsCalls));
  }

  /**
   * The handlers every container shares with a leaf: add/remove callback and status (signalling is always
   * enabled for containers: they arm at creation).
   */
  ReceiveBuilder<FenceProtocol.Command> onCallbackCommands(
      ReceiveBuilder<FenceProtocol.Command> builder, Behavior<FenceProtocol.Command> self) {
    return builder
        .onMessage(FenceProtocol.AddCallback.class, add -> {
          add(add);
          return self;
        })
        .onMessage(FenceProtocol.RemoveCallback.class, remove -> {
          remove(remove);
          return self;
        })
        .onMessage(FenceProtocol.GetStatus.class, get -> {
          reply(get, true);
          return self;
        });
  }

  /** §1.1 F4 for containers: released (or stopped) pending with callbacks → -EDEADLK and a violation. */
  /**
   * The member is leaving the cluster (the cluster downed it, or it is being stopped): a fence still pending ends
   * with {@code -ENODEV}, what the survivors see of it, and not as a release of a fence with waiters (no violation:
   * the emulated host went away, no kernel code dropped a fence).
   */
  void memberLeaving(ActorRef<ContextOwner.Command> owner) {
    if (!status.isSignalled()) {
      signal(Errno.ENODEV.negative(), 0, owner);
    }
  }

  void releaseIfPending(FenceServices services, ActorRef<ContextOwner.Command> owner) {
    if (!status.isSignalled() && hasCallbacks()) {
      services.violation(dev.fencelab.node.check.Violation.Kind.RELEASED_WITH_PENDING_CALLBACKS, id,
          "Fence released with pending signals! (" + callbacks.size() + " callbacks); signalled with -EDEADLK");
      signal(Errno.EDEADLK.negative(), 0, owner);
    }
  }
}
