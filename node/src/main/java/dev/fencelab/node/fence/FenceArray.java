package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code dma_fence_array} (kernel-semantics §1.6): a fence that signals when all of its members have
 * signalled, or — with {@code signalOnAny} — when the first has. Members may live on any member of the cluster.
 *
 * <p>Owns: its callback list and the pending count. Created by {@link Containers}. Talks to: its members, each
 * followed by a {@link FenceWait} child (so a member whose node died counts as signalled with -ENODEV).
 * Errors: the first member error wins — among members already signalled when the array is armed, in index
 * order; afterwards, in completion order (§1.6). A member that is itself a container is a
 * {@link Violation.Kind#NESTED_CONTAINER} violation (the kernel WARNs and goes on; so does fencelab). An empty
 * array is a violation too and signals at once.
 *
 * <p>Arming: the array is armed when it is created (not lazily on the first waiter, as the kernel does). The
 * one observable difference: the kernel's corner case in which an array that is only ever polled with
 * {@code dma_fence_is_signaled}, never armed, reports status 1 despite member errors; here it reports the error.
 */
public final class FenceArray extends AbstractBehavior<FenceProtocol.Command> {
  private sealed interface Internal extends FenceProtocol.Command, NoSerializationVerificationNeeded {}

  private record Polled(WaitResult result) implements Internal {}

  private record Followed(WaitResult result) implements Internal {}

  private final FenceId id;
  private final List<FenceRef> members;
  private final ActorRef<ContextOwner.Command> owner;
  private final FenceServices services;
  private final FenceCallbacks state;
  private final WaitResult[] polled;
  private int polledCount;
  private int pending;
  private int firstError;

  public static Behavior<FenceProtocol.Command> create(
      FenceId id, List<FenceRef> members, boolean signalOnAny, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    return Behaviors.setup(context -> new FenceArray(context, id, List.copyOf(members), signalOnAny, owner, services));
  }

  private FenceArray(
      ActorContext<FenceProtocol.Command> context, FenceId id, List<FenceRef> members, boolean signalOnAny,
      ActorRef<ContextOwner.Command> owner, FenceServices services) {
    super(context);
    this.id = id;
    this.members = members;
    this.owner = owner;
    this.services = services;
    this.state = new FenceCallbacks(id);
    this.polled = new WaitResult[members.size()];
    this.pending = signalOnAny ? 1 : members.size();
    if (members.isEmpty()) {
      // The kernel WARNs; fencelab records it and signals at once rather than leave a fence that never signals.
      services.violation(Violation.Kind.EMPTY_ARRAY, id, "dma_fence_array_create with num_fences == 0; signalled at once");
      state.signal(0, 0, owner);
      context.getSelf().tell(FenceProtocol.Release.INSTANCE);
      return;
    }
    ActorRef<WaitResult> pollAdapter = context.messageAdapter(WaitResult.class, Polled::new);
    for (int i = 0; i < members.size(); i++) {
      FenceRef m = members.get(i);
      if (m.isContainer()) {
        services.violation(Violation.Kind.NESTED_CONTAINER, id, "member " + i + " (" + m + ") is itself a container");
      }
      context.spawnAnonymous(FenceWait.create(m, Duration.ZERO, id.toString(), "fence array member poll", i, pollAdapter, services));
    }
  }

  @Override
  public Receive<FenceProtocol.Command> createReceive() {
    return state.onCallbackCommands(newReceiveBuilder(), this)
        .onMessage(Polled.class, this::onPolled)
        .onMessage(Followed.class, this::onFollowed)
        .onMessage(FenceProtocol.SetDeadline.class, this::onSetDeadline)
        .onMessage(FenceProtocol.GetMembers.class, get -> {
          get.replyTo().tell(new FenceProtocol.Members(id, FenceRef.Kind.ARRAY, members, null));
          return this;
        })
        .onMessageEquals(FenceProtocol.EnableSignaling.INSTANCE, () -> this)
        // The last user reference: a container still waiting on its fences is kept alive by the callbacks it armed on
        // them (each holds a reference, as in the kernel); it stops once it has signalled.
        .onMessageEquals(FenceProtocol.Release.INSTANCE, () -> state.signalled() ? Behaviors.stopped() : this)
        .onMessage(FenceProtocol.Signal.class, this::onSignal)
        .onMessage(FenceProtocol.SetError.class, set -> this)
        .onSignal(PostStop.class, stop -> {
          state.releaseIfPending(services, owner);
          return this;
        })
        .build();
  }

  /** Arming: members already signalled count in index order, once every poll has answered. */
  private Behavior<FenceProtocol.Command> onPolled(Polled p) {
    polled[p.result().index()] = p.result();
    if (++polledCount < polled.length) {
      return this;
    }
    ActorRef<WaitResult> followAdapter = getContext().messageAdapter(WaitResult.class, Followed::new);
    for (int i = 0; i < polled.length; i++) {
      if (polled[i].signalled()) {
        if (memberDone(polled[i].status())) {
          return finish();
        }
      } else {
        getContext().spawnAnonymous(FenceWait.create(members.get(i), null, id.toString(), "fence array member", i, followAdapter, services));
      }
    }
    return this;
  }

  private Behavior<FenceProtocol.Command> onFollowed(Followed f) {
    if (!f.result().signalled()) {
      return this; // the wait cap ended the follow: the array stays pending, as the kernel's would
    }
    return memberDone(f.result().status()) ? finish() : this;
  }

  /** One member signalled: first error wins; true when the array is due. */
  private boolean memberDone(FenceStatus status) {
    if (firstError == 0 && status.value() < 0) {
      firstError = status.value();
    }
    return --pending <= 0 && !state.signalled();
  }

  private Behavior<FenceProtocol.Command> finish() {
    state.signal(firstError, 0, owner);
    return Behaviors.stopped(); // children (followers of other members) stop with us and remove their callbacks
  }

  private Behavior<FenceProtocol.Command> onSetDeadline(FenceProtocol.SetDeadline set) {
    state.deadline(set.deadlineNanos());
    members.stream().filter(m -> !m.isStub()).forEach(m -> m.actor().tell(set)); // forwarded to all members (§1.6)
    return this;
  }

  private Behavior<FenceProtocol.Command> onSignal(FenceProtocol.Signal signal) {
    boolean first = state.signal(signal.error() != 0 ? signal.error() : firstError, signal.modelNanos(), owner);
    if (!first) {
      services.violation(Violation.Kind.DOUBLE_SIGNAL, id, "dma_fence_signal on an array already " + state.status());
    }
    if (signal.replyTo() != null) {
      signal.replyTo().tell(new FenceProtocol.SignalResult(id, first ? 0 : dev.fencelab.protocol.Errno.EINVAL.negative()));
    }
    return first ? Behaviors.stopped() : this;
  }
}
