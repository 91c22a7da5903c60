package dev.fencelab.node.fence;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code dma_fence_unwrap_merge} (kernel-semantics §1.8) over fences that may live on several members.
 *
 * <ol>
 *   <li>Unwrap: visit every leaf, flattening chain → array → leaf, head first (a container that has stopped
 *       is asked of its owner).
 *   <li>Poll every leaf; drop the signalled ones, remembering their latest timestamp.
 *   <li>None left → a signalled stub with that timestamp; one → that fence; several → keep the latest seqno
 *       per context (the fence's own 32/64-bit order) and, if more than one remains, a new fence array on a
 *       new context with seqno 1, which {@link Containers} creates and returns.
 * </ol>
 * So {@code merge(f, f)} is {@code f}, fences of one timeline merge to the latest, and results never nest.
 */
public final class UnwrapMerge extends AbstractBehavior<UnwrapMerge.Command> {
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  /** One unwrapped leaf with its status at the time it was polled. */
  public record Leaf(FenceRef fence, FenceStatus status) {}

  /** The answer of {@link #unwrap}: every leaf, in unwrap order. */
  public record Unwrapped(List<Leaf> leaves) implements NoSerializationVerificationNeeded {
    public Unwrapped {
      leaves = List.copyOf(leaves);
    }
  }

  private record Expanded(FenceProtocol.Members members) implements Command {}

  private record Polled(WaitResult result) implements Command {}

  private final ActorRef<ContextOwner.Command> containers;
  private final ActorRef<FenceRef> replyTo;
  private final ActorRef<Unwrapped> listTo;
  private final FenceServices services;
  private final Deque<FenceRef> work = new ArrayDeque<>();
  private final Set<FenceId> visited = new HashSet<>();
  private final List<FenceRef> leaves = new ArrayList<>();
  private final ActorRef<FenceProtocol.Members> membersAdapter;
  private FenceRef expanding;
  private boolean askedOwner;
  private WaitResult[] polls;
  private int polled;

  static Behavior<Command> create(
      List<FenceRef> fences, ActorRef<ContextOwner.Command> containers, ActorRef<FenceRef> replyTo, FenceServices services) {
    return Behaviors.setup(context -> new UnwrapMerge(context, fences, containers, replyTo, null, services).next());
  }

  /** {@code dma_fence_unwrap_for_each} over {@code fences}, with each leaf's status: no merge. */
  public static Behavior<Command> unwrap(List<FenceRef> fences, ActorRef<Unwrapped> replyTo, FenceServices services) {
    return Behaviors.setup(context -> new UnwrapMerge(context, fences, null, null, replyTo, services).next());
  }

  private UnwrapMerge(
      ActorContext<Command> context, List<FenceRef> fences, ActorRef<ContextOwner.Command> containers,
      ActorRef<FenceRef> replyTo, ActorRef<Unwrapped> listTo, FenceServices services) {
    super(context);
    this.containers = containers;
    this.replyTo = replyTo;
    this.listTo = listTo;
    this.services = services;
    this.work.addAll(fences);
    this.membersAdapter = context.messageAdapter(FenceProtocol.Members.class, Expanded::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Expanded.class, this::onExpanded)
        .onMessage(Polled.class, this::onPolled)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  /** Unwraps the next fence of the work list, or starts polling the leaves when there is none left. */
  private Behavior<Command> next() {
    while (!work.isEmpty()) {
      FenceRef f = work.removeFirst();
      if (!f.isContainer()) {
        leaves.add(f);
        continue;
      }
      if (!visited.add(f.id())) {
        continue;
      }
      expanding = f;
      askedOwner = false;
      getContext().watch(f.actor());
      f.actor().tell(new FenceProtocol.GetMembers(membersAdapter));
      return this;
    }
    return pollLeaves();
  }

  private Behavior<Command> onExpanded(Expanded expanded) {
    FenceProtocol.Members m = expanded.members();
    if (expanding == null || !m.id().equals(expanding.id())) {
      return this;
    }
    getContext().unwatch(expanding.actor());
    expanding = null;
    List<FenceRef> children = new ArrayList<>(m.members());
    if (m.prev() != null) {
      children.add(m.prev());
    }
    for (int i = children.size() - 1; i >= 0; i--) {
      work.addFirst(children.get(i)); // depth first, in order
    }
    return next();
  }

  private Behavior<Command> onTerminated(Terminated terminated) {
    if (expanding != null && terminated.getRef().equals(expanding.actor()) && !askedOwner) {
      askedOwner = true;
      expanding.owner().tell(new Containers.QueryMembers(expanding.id(), membersAdapter));
      return this;
    }
    return this;
  }

  private Behavior<Command> pollLeaves() {
    if (leaves.isEmpty()) {
      if (listTo != null) {
        listTo.tell(new Unwrapped(List.of()));
      } else {
        replyTo.tell(FenceRef.stub(0));
      }
      return Behaviors.stopped();
    }
    polls = new WaitResult[leaves.size()];
    ActorRef<WaitResult> adapter = getContext().messageAdapter(WaitResult.class, Polled::new);
    for (int i = 0; i < leaves.size(); i++) {
      getContext().spawnAnonymous(FenceWait.create(leaves.get(i), Duration.ZERO, "merge", "dma_fence_unwrap_merge", i, adapter, services));
    }
    return this;
  }

  private Behavior<Command> onPolled(Polled p) {
    polls[p.result().index()] = p.result();
    if (++polled < polls.length) {
      return this;
    }
    if (listTo != null) {
      List<Leaf> out = new ArrayList<>(polls.length);
      for (int i = 0; i < polls.length; i++) {
        out.add(new Leaf(leaves.get(i), polls[i].status()));
      }
      listTo.tell(new Unwrapped(out));
      return Behaviors.stopped();
    }
    long latestSignalled = 0;
    Map<FenceContext, FenceRef> latestPerContext = new LinkedHashMap<>();
    for (int i = 0; i < polls.length; i++) {
      FenceRef leaf = leaves.get(i);
      if (polls[i].signalled()) {
        latestSignalled = Math.max(latestSignalled, polls[i].status().wallNanos());
        continue;
      }
      latestPerContext.merge(leaf.id().context(), leaf, (a, b) ->
          Seqnos.isLater(b.id().seqno(), a.id().seqno(), b.seqno64()) ? b : a);
    }
    List<FenceRef> remaining = new ArrayList<>(latestPerContext.values());
    if (remaining.isEmpty()) {
      replyTo.tell(FenceRef.stub(latestSignalled));
    } else if (remaining.size() == 1) {
      replyTo.tell(remaining.get(0));
    } else {
      // The kernel sorts by context number (u64); here a context is (id, origin): numerically, never as text
      // ("ctx10" would sort before "ctx9").
      remaining.sort((a, b) -> {
        int byId = Long.compareUnsigned(a.id().context().id(), b.id().context().id());
        return byId != 0 ? byId : Long.compareUnsigned(a.id().context().origin(), b.id().context().origin());
      });
      containers.tell(new Containers.CreateArray(remaining, false, null, 1, replyTo));
    }
    return Behaviors.stopped();
  }
}
