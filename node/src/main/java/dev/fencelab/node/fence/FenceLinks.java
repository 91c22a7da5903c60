package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Waiting across nodes, grouped by node (DESIGN "Waiting across nodes is grouped by node"): one link actor per member,
 * at {@code /system/fence-links}, both ends of every cross-node wait.
 *
 * <ul>
 *   <li><b>Waiter side.</b> A {@link FenceWait} on a fence of another member hands its callback to this member's link
 *       ({@link Watch}). The first wait on a fence subscribes once to the fence's member's link; every later waiter on
 *       this member joins it. When the signal comes back, every local waiter gets it.
 *   <li><b>Fence side.</b> The link adds one callback to the fence (and watches it, locally) for all the members
 *       subscribed to it; when it signals, or stops (the context owner then says how it ended), each subscribed
 *       member gets one entry.
 *   <li><b>Batched per destination.</b> Subscriptions and signals bound for one member within a dispatcher turn (up to
 *       {@value #MAX_BATCH}) travel as one {@link Batch}: at low load one message, under load fewer messages than
 *       signals.
 *   <li><b>Node-level failure.</b> A member learns that a fence's member died from cluster membership (one subscription
 *       per member), not from a death watch per fence: every wait on that member's fences ends signalled with
 *       {@code -ENODEV}, as a per-fence death watch made them end before.
 * </ul>
 *
 * <p>Polls ({@code timeout == 0}) ask the fence itself: they need its answer now, not a subscription.
 */
public final class FenceLinks extends AbstractBehavior<FenceLinks.Command> {
  /** Entries per {@link Batch} at most (a frame stays far under Artery's size limit). */
  static final int MAX_BATCH = 512;

  public interface Command {}

  /** Local, from a wait: deliver {@code fence}'s signal to {@code callback}. */
  public record Watch(FenceRef fence, ActorRef<FenceProtocol.Callback> callback) implements Command, NoSerializationVerificationNeeded {}

  /** Local, from a wait that ended otherwise (timed out, cancelled): its callback is dropped. */
  public record Unwatch(FenceId id, ActorRef<FenceProtocol.Callback> callback) implements Command, NoSerializationVerificationNeeded {}

  /** Link to link: {@code from} subscribes to {@code subscribe}'s signals; the {@code signals} it subscribed to. */
  public record Batch(ActorRef<Command> from, List<FenceRef> subscribe, List<FenceProtocol.Signalled> signals)
      implements Command, NodeWireMessage {
    public Batch {
      Objects.requireNonNull(from, "from");
      subscribe = List.copyOf(subscribe);
      signals = List.copyOf(signals);
    }
  }

  private record Local(FenceProtocol.Callback callback) implements Command, NoSerializationVerificationNeeded {}

  private record FenceGone(FenceId id) implements Command, NoSerializationVerificationNeeded {}

  private record OwnerAnswered(FenceId id, ContextOwner.Completion completion) implements Command, NoSerializationVerificationNeeded {}

  private record MemberGone(Address address) implements Command, NoSerializationVerificationNeeded {}

  private record MemberUp(Address address) implements Command, NoSerializationVerificationNeeded {}

  private enum Flush implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** A membership event other than Up and Removed: nothing changes here. */
  private enum OtherMemberEvent implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Waiter side: the local callbacks of one remote fence. */
  private static final class Waiting {
    final FenceRef fence;
    final List<ActorRef<FenceProtocol.Callback>> callbacks = new ArrayList<>(2);

    Waiting(FenceRef fence) {
      this.fence = fence;
    }
  }

  /** Fence side: the links subscribed to one local fence. */
  private static final class Subscribed {
    final FenceRef fence;
    final Set<ActorRef<Command>> links = new HashSet<>(2);

    Subscribed(FenceRef fence) {
      this.fence = fence;
    }
  }

  /** What goes to one link at the next flush. */
  private static final class Outbox {
    final List<FenceRef> subscribe = new ArrayList<>();
    final List<FenceProtocol.Signalled> signals = new ArrayList<>();

    int size() {
      return subscribe.size() + signals.size();
    }
  }

  private final Map<FenceId, Waiting> waiting = new HashMap<>();
  private final Map<Address, Set<FenceId>> waitingByMember = new HashMap<>();
  private final Map<FenceId, Subscribed> subscribed = new HashMap<>();
  private final Map<ActorRef<Command>, Outbox> outboxes = new LinkedHashMap<>();
  private final Map<Address, ActorRef<Command>> peers = new HashMap<>();
  /** Members the cluster removed: a wait on one of their fences ends at once, -ENODEV. */
  private final Set<Address> removed = new HashSet<>();
  private final ActorRef<FenceProtocol.Callback> localCallback;
  private boolean flushDue;

  public static ActorRef<Command> get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system).ref;
  }

  private static Behavior<Command> create() {
    return Behaviors.setup(FenceLinks::new);
  }

  private FenceLinks(ActorContext<Command> context) {
    super(context);
    this.localCallback = context.messageAdapter(FenceProtocol.Callback.class, Local::new);
    if (context.getSystem().settings().config().getString("pekko.actor.provider").equals("cluster")) {
      org.apache.pekko.cluster.typed.Cluster.get(context.getSystem()).subscriptions().tell(org.apache.pekko.cluster.typed.Subscribe.create(
          context.messageAdapter(org.apache.pekko.cluster.ClusterEvent.MemberEvent.class, e -> e instanceof
              org.apache.pekko.cluster.ClusterEvent.MemberRemoved ? new MemberGone(e.member().address())
              : e instanceof org.apache.pekko.cluster.ClusterEvent.MemberUp ? new MemberUp(e.member().address())
              : OtherMemberEvent.INSTANCE),
          org.apache.pekko.cluster.ClusterEvent.MemberEvent.class));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Watch.class, this::onWatch)
        .onMessage(Unwatch.class, this::onUnwatch)
        .onMessage(Batch.class, this::onBatch)
        .onMessage(Local.class, this::onLocal)
        .onMessage(FenceGone.class, this::onFenceGone)
        .onMessage(OwnerAnswered.class, this::onOwnerAnswered)
        .onMessage(MemberGone.class, this::onMemberGone)
        .onMessage(MemberUp.class, up -> {
          removed.remove(up.address()); // a member at that address again (a restart on a fixed port)
          return this;
        })
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessageEquals(OtherMemberEvent.INSTANCE, () -> this)
        .build();
  }

  // --- waiter side

  private Behavior<Command> onWatch(Watch w) {
    FenceId id = w.fence().id();
    if (removed.contains(w.fence().actor().path().address())) { // its member is gone already: nobody would answer
      w.callback().tell(new FenceProtocol.Signalled(id, FenceStatus.signalled(Errno.ENODEV.negative(), Clocks.wallNanos(), 0), false));
      return this;
    }
    Waiting entry = waiting.get(id);
    if (entry == null) {
      entry = new Waiting(w.fence());
      waiting.put(id, entry);
      Address member = w.fence().actor().path().address();
      waitingByMember.computeIfAbsent(member, a -> new HashSet<>()).add(id);
      outbox(peer(member)).subscribe.add(w.fence());
    }
    entry.callbacks.add(w.callback());
    return this;
  }

  private Behavior<Command> onUnwatch(Unwatch u) {
    Waiting entry = waiting.get(u.id());
    if (entry != null) {
      entry.callbacks.remove(u.callback()); // the subscription stays: its signal ends the entry
    }
    return this;
  }

  private void delivered(FenceProtocol.Signalled s) {
    Waiting entry = waiting.remove(s.id());
    if (entry == null) {
      return;
    }
    Set<FenceId> ofMember = waitingByMember.get(entry.fence.actor().path().address());
    if (ofMember != null) {
      ofMember.remove(s.id());
    }
    entry.callbacks.forEach(cb -> cb.tell(s));
  }

  private Behavior<Command> onMemberGone(MemberGone gone) {
    removed.add(gone.address());
    Set<FenceId> ids = waitingByMember.remove(gone.address());
    if (ids != null) {
      // the fences' member is gone with them: each wait on them ends signalled -ENODEV, as after the death watch it replaces
      for (FenceId id : ids) {
        delivered(new FenceProtocol.Signalled(id, FenceStatus.signalled(Errno.ENODEV.negative(), Clocks.wallNanos(), 0), false));
      }
    }
    peers.remove(gone.address());
    subscribed.values().forEach(s -> s.links.removeIf(l -> l.path().address().equals(gone.address())));
    outboxes.keySet().removeIf(l -> l.path().address().equals(gone.address()));
    return this;
  }

  // --- fence side

  private Behavior<Command> onBatch(Batch b) {
    for (FenceRef fence : b.subscribe()) {
      Subscribed s = subscribed.get(fence.id());
      if (s == null) {
        s = new Subscribed(fence);
        subscribed.put(fence.id(), s);
        getContext().watchWith(fence.actor(), new FenceGone(fence.id()));
        fence.actor().tell(new FenceProtocol.AddCallback(localCallback, false));
      }
      s.links.add(b.from());
    }
    b.signals().forEach(this::delivered);
    return this;
  }

  private Behavior<Command> onLocal(Local local) {
    if (local.callback() instanceof FenceProtocol.Signalled signalled) {
      forward(signalled);
    }
    return this;
  }

  private Behavior<Command> onFenceGone(FenceGone gone) {
    Subscribed s = subscribed.get(gone.id());
    if (s != null) { // stopped before its callback came (it had signalled and gone, or the death notice came first);
      // its owner says how it ended — or, gone too (no answer within 3 s), it ended with the device: -ENODEV
      getContext().pipeToSelf(org.apache.pekko.actor.typed.javadsl.AskPattern.<ContextOwner.Command, ContextOwner.Completion>ask(
          s.fence.owner(), replyTo -> new ContextOwner.QueryCompletion(gone.id(), replyTo), java.time.Duration.ofSeconds(3),
          getContext().getSystem().scheduler()), (c, failure) -> new OwnerAnswered(gone.id(), c));
    }
    return this;
  }

  private Behavior<Command> onOwnerAnswered(OwnerAnswered a) {
    ContextOwner.Completion c = a.completion();
    FenceStatus status = c != null && c.known() ? c.status() : FenceStatus.signalled(Errno.ENODEV.negative(), Clocks.wallNanos(), 0);
    forward(new FenceProtocol.Signalled(a.id(), status, true));
    return this;
  }

  private void forward(FenceProtocol.Signalled signalled) {
    Subscribed s = subscribed.remove(signalled.id());
    if (s == null) {
      return;
    }
    getContext().unwatch(s.fence.actor());
    s.links.forEach(link -> outbox(link).signals.add(signalled));
  }

  // --- batching

  private Outbox outbox(ActorRef<Command> link) {
    Outbox o = outboxes.computeIfAbsent(link, l -> new Outbox());
    if (o.size() + 1 >= MAX_BATCH) {
      send(link, o); // full: it goes now, the entry starts the next one
    }
    if (!flushDue) {
      flushDue = true;
      getContext().getSelf().tell(Flush.INSTANCE); // after what is in the mailbox now: one message for this turn
    }
    return o;
  }

  private Behavior<Command> onFlush() {
    flushDue = false;
    outboxes.forEach(this::send);
    return this;
  }

  private void send(ActorRef<Command> link, Outbox o) {
    if (o.size() > 0) {
      link.tell(new Batch(getContext().getSelf(), o.subscribe, o.signals));
      o.subscribe.clear();
      o.signals.clear();
    }
  }

  private ActorRef<Command> peer(Address member) {
    return peers.computeIfAbsent(member, a -> ActorRefResolver.get(getContext().getSystem())
        .resolveActorRef(a + "/system/" + NAME));
  }

  static final String NAME = "fence-links";

  private static final class Id extends ExtensionId<Holder> {
    static final Id INSTANCE = new Id();

    @Override
    public Holder createExtension(ActorSystem<?> system) {
      return new Holder(system.systemActorOf(create(), NAME, Props.empty()));
    }
  }

  private record Holder(ActorRef<Command> ref) implements Extension {}
}
