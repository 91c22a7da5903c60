package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.node.check.Violation;
import dev.fencelab.node.trace.TraceRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Waiting across nodes, grouped by node (DESIGN "Waiting across nodes is grouped by node"): one link actor per member,
 * at {@code /system/fence-links}, both ends of every cross-node wait.
 *
 * <ul>
 *   <li><b>Waiter side: the member's wait registry.</b> A wait on a fence of another member is an entry here, not an
 *       actor ({@link Wait}, through {@link FenceWaits#start}): its wait-for edge, its trace events, its timeout (or the
 *       wait cap) and its result are the link's, exactly as a {@link FenceWait} keeps them for a local fence. The first
 *       wait on a fence subscribes once to the fence's member's link; every later waiter on this member joins it. When
 *       the signal comes back, every local waiter gets it. A waiter that stops ends its waits, traced as cancelled.
 *       ({@link Watch} hands over a bare callback instead, for a {@link FenceWait} that keeps the rest itself.)
 *   <li><b>Fence side.</b> The link adds one callback to the fence for all the members subscribed to it, asking an
 *       acknowledgement; when it signals each subscribed member gets one entry. A fence that has already signalled
 *       answers at once; a pending one acknowledges, and from then on its callbacks run whatever ends it (§1.1 F4: a
 *       released fence signals its callbacks). Only a fence that does neither within {@link #ACK_GRACE} is watched:
 *       it may have stopped before the callback reached it, and then its context owner says how it ended. No death
 *       watch per fence on the common path (it cost a third of a member's CPU under a burst of cross-node wakes).
 *       Its books are a {@link LinkSubscriptions}.
 *   <li><b>Batched per destination.</b> Subscriptions, signals and wait results bound for one member travel as one
 *       {@link Batch} (up to {@value LinkOutboxes#MAX_BATCH} entries; {@link LinkOutboxes}). An entry for a member this link
 *       sent nothing to for {@value LinkOutboxes#IDLE_MICROS} µs goes at once — at low load one message, and a lone wait result straight to its
 *       waiter — and what follows it within the dispatcher turn waits for the turn's end: under load, far fewer
 *       messages than entries.
 *   <li><b>Node-level failure.</b> A member learns that a fence's member died from cluster membership (one subscription
 *       per member), not from a death watch per fence: every wait on that member's fences ends signalled with
 *       {@code -ENODEV}, as a per-fence death watch made them end before.
 * </ul>
 *
 * <p>Polls ({@code timeout == 0}) ask the fence itself: they need its answer now, not a subscription.
 */
public final class FenceLinks extends AbstractBehavior<FenceLinks.Command> {

  /** How long a fence may take to acknowledge a callback before it is watched (it may have stopped already). */
  static final Duration ACK_GRACE = Duration.ofMillis(20);


  public interface Command {}

  /** Local, from a wait: deliver {@code fence}'s signal to {@code callback}. */
  public record Watch(FenceRef fence, ActorRef<FenceProtocol.Callback> callback) implements Command, NoSerializationVerificationNeeded {}

  /** Local, from a wait that ended otherwise (timed out, cancelled): its callback is dropped. */
  public record Unwatch(FenceId id, ActorRef<FenceProtocol.Callback> callback) implements Command, NoSerializationVerificationNeeded {}

  /**
   * Local, from {@link FenceWaits#start}: a wait of {@code owner} on {@code fence}, a fence of another member
   * ({@code dma_fence_wait_timeout}, kernel-semantics §1.5). Exactly one {@link WaitResult} goes to {@code replyTo},
   * unless the wait is cancelled ({@link CancelWait}) or {@code owner} stops first.
   *
   * @param timeout null for an unbounded wait (bounded by the wait cap); positive otherwise
   */
  public record Wait(long waitId, FenceRef fence, Duration timeout, String waiter, String reason, int index,
      ActorRef<WaitResult> replyTo, ActorRef<?> owner, FenceServices services) implements Command, NoSerializationVerificationNeeded {}

  /** Local: the wait ends without a result (wait-any: another fence won). */
  public record CancelWait(long waitId) implements Command, NoSerializationVerificationNeeded {}

  /** A wait's result bound for a waiter on another member, carried in a {@link Batch}. */
  public record Delivery(ActorRef<WaitResult> to, WaitResult result) {
    public Delivery {
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(result, "result");
    }
  }

  /**
   * Link to link: {@code from} subscribes to {@code subscribe}'s signals; the {@code signals} it subscribed to; the
   * {@code results} of waits for waiters on the receiving member.
   */
  public record Batch(ActorRef<Command> from, List<FenceRef> subscribe, List<FenceProtocol.Signalled> signals,
      List<Delivery> results) implements Command, NodeWireMessage {
    public Batch {
      Objects.requireNonNull(from, "from");
      subscribe = List.copyOf(subscribe);
      signals = List.copyOf(signals);
      results = List.copyOf(results);
    }
  }

  private record Local(FenceProtocol.Callback callback) implements Command, NoSerializationVerificationNeeded {}

  private record FenceGone(FenceId id) implements Command, NoSerializationVerificationNeeded {}

  private record OwnerAnswered(FenceId id, ContextOwner.Completion completion) implements Command, NoSerializationVerificationNeeded {}

  private record MemberGone(Address address) implements Command, NoSerializationVerificationNeeded {}

  private record MemberUp(Address address) implements Command, NoSerializationVerificationNeeded {}

  /** The earliest deadline of a held wait passed (one timer for all of them). */
  private enum Deadline implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private record OwnerGone(ActorRef<?> owner) implements Command, NoSerializationVerificationNeeded {}

  /** Time to send what waits: the outboxes' batches, and the edges of the waits ended since the last flush. */
  private enum Flush implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** The oldest unacknowledged subscription's grace is over. */
  private enum AckCheck implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** A membership event other than Up and Removed: nothing changes here. */
  private enum OtherMemberEvent implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Waiter side: the local callbacks and waits of one remote fence. */
  private static final class Waiting {
    final FenceRef fence;
    final List<ActorRef<FenceProtocol.Callback>> callbacks = new ArrayList<>(1);
    final List<HeldWaits.Held> waits = new ArrayList<>(1);
    /** The waited fences of the fence's member (kept here: an address is a costly hash key). */
    final Set<FenceId> ofMember;

    Waiting(FenceRef fence, Set<FenceId> ofMember) {
      this.fence = fence;
      this.ofMember = ofMember;
    }
  }

  private final Map<FenceId, Waiting> waiting = new HashMap<>();
  private final Map<Address, Set<FenceId>> waitingByMember = new HashMap<>();
  private final LinkSubscriptions subscribed = new LinkSubscriptions();
  private boolean ackCheckArmed;
  private final LinkOutboxes out;
  private final Map<Address, ActorRef<Command>> peers = new HashMap<>();
  /** Members the cluster removed: a wait on one of their fences ends at once, -ENODEV. */
  private final Set<Address> removed = new HashSet<>();
  private final HeldWaits held = new HeldWaits();
  /** When the deadline timer fires next ({@link Long#MAX_VALUE}: not running). */
  private long timerDue = Long.MAX_VALUE;
  private final ActorRef<FenceProtocol.Callback> localCallback;
  private final TimerScheduler<Command> timers;
  private final TraceRecorder trace;
  private final LinkDelays delays;
  /** The edges of the waits ended since the last flush, sent to the wait-for graph together (null until one ends). */
  private dev.fencelab.node.check.EdgeRemovals endedEdges;

  public static ActorRef<Command> get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system).ref;
  }

  private static Behavior<Command> create() {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new FenceLinks(context, timers)));
  }

  private FenceLinks(ActorContext<Command> context, TimerScheduler<Command> timers) {
    super(context);
    this.timers = timers;
    this.trace = TraceRecorder.get(context.getSystem());
    this.delays = LinkDelays.get(context.getSystem());
    this.out = new LinkOutboxes(context.getSelf(), () -> context.getSelf().tell(Flush.INSTANCE)); // after what is in the mailbox now
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
    // The builder tries its cases in order (a class check each): the per-fence messages of a burst come first.
    return newReceiveBuilder()
        .onMessage(Local.class, this::onLocal)
        .onMessage(Batch.class, this::onBatch)
        .onMessage(Watch.class, this::onWatch)
        .onMessage(Unwatch.class, this::onUnwatch)
        .onMessage(Wait.class, this::onWait)
        .onMessage(CancelWait.class, c -> {
          end(c.waitId(), null, 0, FenceStatus.PENDING, "cancelled");
          return this;
        })
        .onMessageEquals(Deadline.INSTANCE, this::onDeadline)
        .onMessage(OwnerGone.class, this::onOwnerGone)
        .onMessage(FenceGone.class, this::onFenceGone)
        .onMessage(OwnerAnswered.class, this::onOwnerAnswered)
        .onMessage(MemberGone.class, this::onMemberGone)
        .onMessage(MemberUp.class, up -> {
          removed.remove(up.address()); // a member at that address again (a restart on a fixed port)
          return this;
        })
        .onMessageEquals(Flush.INSTANCE, () -> {
          out.flush();
          if (endedEdges != null) {
            endedEdges.flush();
          }
          return this;
        })
        .onMessageEquals(AckCheck.INSTANCE, this::onAckCheck)
        .onMessageEquals(OtherMemberEvent.INSTANCE, () -> this)
        .build();
  }

  // --- waiter side

  private Behavior<Command> onWatch(Watch w) {
    if (removed.contains(w.fence().actor().path().address())) { // its member is gone already: nobody would answer
      w.callback().tell(new FenceProtocol.Signalled(w.fence().id(), WaitEvents.memberGone(), false));
      return this;
    }
    waitingFor(w.fence()).callbacks.add(w.callback());
    return this;
  }

  /** The entry of a remote fence; the first one subscribes to the fence's member's link. */
  private Waiting waitingFor(FenceRef fence) {
    Waiting entry = waiting.get(fence.id());
    if (entry == null) {
      Address member = fence.actor().path().address();
      entry = new Waiting(fence, waitingByMember.computeIfAbsent(member, a -> new HashSet<>()));
      entry.ofMember.add(fence.id());
      waiting.put(fence.id(), entry);
      out.subscribe(peer(member), fence);
    }
    return entry;
  }

  private Behavior<Command> onWait(Wait w) {
    WaitEvents.begin(trace, w.services(), w.waitId(), w.waiter(), w.fence(), w.reason());
    long now = System.nanoTime();
    HeldWaits.Held h = new HeldWaits.Held(w, now, now + (w.timeout() == null ? w.services().waitCap() : w.timeout()).toNanos());
    if (held.add(h)) {
      getContext().watchWith(w.owner(), new OwnerGone(w.owner()));
    }
    if (removed.contains(w.fence().actor().path().address())) { // its member is gone already: nobody would answer
      FenceStatus gone = WaitEvents.memberGone();
      end(w.waitId(), gone, WaitResult.remaining(w.timeout(), now), gone, "signalled");
      return this;
    }
    waitingFor(w.fence()).waits.add(h);
    if (h.deadlineNanos < timerDue) {
      armTimer(h.deadlineNanos, now);
    }
    return this;
  }

  private void armTimer(long due, long now) {
    timerDue = due;
    timers.startSingleTimer(Deadline.INSTANCE, Duration.ofNanos(Math.max(0, due - now)));
  }

  private Behavior<Command> onDeadline() {
    long now = System.nanoTime();
    for (HeldWaits.Held h = held.pollDue(now); h != null; h = held.pollDue(now)) {
      Wait w = h.request;
      if (w.timeout() == null) {
        w.services().violation(Violation.Kind.WAIT_CAP_EXCEEDED, w.fence().id(),
            "an unbounded wait lasted " + w.services().waitCap() + " (the wait cap); in the kernel it would still hang");
      }
      end(w.waitId(), FenceStatus.PENDING, 0, FenceStatus.PENDING, "timeout");
    }
    timerDue = Long.MAX_VALUE;
    long next = held.nextDeadline();
    if (next != Long.MAX_VALUE) {
      armTimer(next, now);
    }
    return this;
  }

  private Behavior<Command> onOwnerGone(OwnerGone gone) {
    for (Long id : held.removeOwner(gone.owner())) {
      end(id, null, 0, FenceStatus.PENDING, "cancelled: the waiter went away"); // every wait ends, and is traced
    }
    return this;
  }

  /**
   * Ends a held wait: its timer, its edge, its {@code WAIT_END}, and — unless {@code reply} is null (cancelled) — its
   * result to the waiter.
   */
  private void end(long waitId, FenceStatus reply, long result, FenceStatus status, String how) {
    HeldWaits.Held h = held.remove(waitId);
    if (h == null) {
      return; // ended already
    }
    Wait w = h.request;
    Waiting entry = waiting.get(w.fence().id());
    if (entry != null) {
      entry.waits.remove(h); // the subscription stays: its signal ends the entry
    }
    WaitEvents.end(trace, waitId, w.waiter(), w.fence(), result, status, how);
    if (endedEdges == null) {
      endedEdges = new dev.fencelab.node.check.EdgeRemovals(w.services().waits(), () -> getContext().getSelf().tell(Flush.INSTANCE));
    }
    if (endedEdges.isFor(w.services().waits())) {
      endedEdges.remove(waitId); // with the others this turn ends (a batch of signals ends many at once)
    } else {
      w.services().waits().tell(new dev.fencelab.node.check.WaitGraph.RemoveEdge(waitId));
    }
    if (reply != null) {
      deliver(w.replyTo(), new WaitResult(w.fence().id(), result, status, w.index()));
    }
  }

  /** A result to its waiter: at once if it is on this member, through the waiter's member's link otherwise. */
  private void deliver(ActorRef<WaitResult> to, WaitResult result) {
    Address at = to.path().address();
    if (!at.hasGlobalScope()) {
      to.tell(result);
      return;
    }
    out.result(peer(at), new Delivery(to, result));
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
    entry.ofMember.remove(s.id()); // (a member gone removed its set, and iterates a copy)
    entry.callbacks.forEach(cb -> cb.tell(s));
    if (!entry.waits.isEmpty()) {
      FenceStatus status = WaitEvents.arrived(delays, entry.fence, s.status());
      for (HeldWaits.Held h : entry.waits.size() == 1 ? List.of(entry.waits.get(0)) : List.copyOf(entry.waits)) {
        long result = WaitResult.remaining(h.request.timeout(), h.startNanos);
        end(h.request.waitId(), status, result, status, WaitEvents.how(result));
      }
    }
  }

  private Behavior<Command> onMemberGone(MemberGone gone) {
    removed.add(gone.address());
    Set<FenceId> ids = waitingByMember.remove(gone.address());
    if (ids != null) {
      // the fences' member is gone with them: each wait on them ends signalled -ENODEV, as after the death watch it replaces
      for (FenceId id : List.copyOf(ids)) { // a copy: each delivery takes its id out of the set
        delivered(new FenceProtocol.Signalled(id, WaitEvents.memberGone(), false));
      }
    }
    peers.remove(gone.address());
    subscribed.forget(gone.address());
    out.forget(gone.address());
    return this;
  }

  // --- fence side

  private Behavior<Command> onBatch(Batch b) {
    for (FenceRef fence : b.subscribe()) {
      if (subscribed.subscribe(fence, b.from())) {
        fence.actor().tell(new FenceProtocol.AddCallback(localCallback, true));
        if (!ackCheckArmed) {
          armAckCheck(ACK_GRACE);
        }
      }
    }
    if (!b.signals().isEmpty()) {
      b.signals().forEach(this::delivered);
    }
    b.results().forEach(d -> d.to().tell(d.result()));
    return this;
  }

  private void armAckCheck(Duration in) {
    ackCheckArmed = true;
    timers.startSingleTimer(AckCheck.INSTANCE, in);
  }

  /** Watches every subscribed fence that has not acknowledged within the grace; re-arms for the next one. */
  private Behavior<Command> onAckCheck() {
    ackCheckArmed = false;
    List<LinkSubscriptions.Subscribed> toWatch = new ArrayList<>();
    long next = subscribed.overdue(System.nanoTime(), ACK_GRACE.toNanos(), toWatch);
    // stopped before the callback came, or slow: a dead one's Terminated comes at once
    toWatch.forEach(s -> getContext().watchWith(s.fence.actor(), new FenceGone(s.fence.id())));
    if (next >= 0) {
      armAckCheck(Duration.ofNanos(next));
    }
    return this;
  }

  private Behavior<Command> onLocal(Local local) {
    if (local.callback() instanceof FenceProtocol.CallbackAdded added) {
      subscribed.acked(added.id());
      return this;
    }
    if (local.callback() instanceof FenceProtocol.Signalled signalled) {
      forward(signalled);
    }
    return this;
  }

  private Behavior<Command> onFenceGone(FenceGone gone) {
    LinkSubscriptions.Subscribed s = subscribed.get(gone.id());
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
    FenceStatus status = c != null && c.known() ? c.status() : WaitEvents.memberGone();
    forward(new FenceProtocol.Signalled(a.id(), status, true));
    return this;
  }

  private void forward(FenceProtocol.Signalled signalled) {
    LinkSubscriptions.Subscribed s = subscribed.answered(signalled.id());
    if (s == null) {
      return;
    }
    if (s.watched) {
      getContext().unwatch(s.fence.actor());
    }
    s.links.forEach(link -> out.signal(link, signalled));
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
