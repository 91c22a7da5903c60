package dev.fencelab.coordinator;

import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.protocol.control.CoordinatorControl;
import dev.fencelab.protocol.control.GetStatus;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import dev.fencelab.protocol.control.Register;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The coordinator singleton.
 *
 * <p>Owns: the registry of node agents (by member address), the membership history and the member list.
 * The list and the history are fed by the same subscription, so one status never reports a member's
 * removal while still listing it (Pekko's {@code cluster.state()} is a separate view, updated apart).
 * Talks to: the
 * Receptionist (agent listing), the cluster (membership events), every node agent (Register, and Ping
 * through its {@link StatusQuery} children). Replies: {@link ClusterStatus} to {@link GetStatus}. Errors:
 * none — an agent that does not answer is reported as not responding.
 */
public final class Coordinator extends AbstractBehavior<CoordinatorControl> {
  /** How many membership events the status keeps; older ones are dropped first. */
  static final int MAX_EVENTS = 1024;
  /** How often an agent that has not described itself yet is asked again. */
  static final Duration REREGISTER_INTERVAL = Duration.ofSeconds(1);

  private record AgentsListed(Set<ActorRef<NodeControl>> agents)
      implements CoordinatorControl, NoSerializationVerificationNeeded {}

  private record Described(NodeInfo info) implements CoordinatorControl, NoSerializationVerificationNeeded {}

  private record MembershipChanged(ClusterEvent.MemberEvent event)
      implements CoordinatorControl, NoSerializationVerificationNeeded {}

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event)
      implements CoordinatorControl, NoSerializationVerificationNeeded {}

  private enum RegisterTick implements CoordinatorControl, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private final Cluster cluster;
  private final ActorRef<NodeInfo> describedAdapter;
  /** Agents the Receptionist lists, by the address of their member. */
  private final Map<Address, ActorRef<NodeControl>> agents = new HashMap<>();
  /** What each listed agent said of itself, by member address. */
  private final Map<Address, NodeInfo> registered = new HashMap<>();
  private final ArrayDeque<ClusterStatus.MemberEvent> events = new ArrayDeque<>();
  /** The members as the subscription last reported them, in the cluster's address order. */
  private final Map<Address, Member> members = new TreeMap<>(Member.addressOrdering());
  private final Set<Address> unreachable = new HashSet<>();
  private long queries;

  public static Behavior<CoordinatorControl> create() {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Coordinator(context, timers)));
  }

  private Coordinator(ActorContext<CoordinatorControl> context, TimerScheduler<CoordinatorControl> timers) {
    super(context);
    this.cluster = Cluster.get(context.getSystem());
    this.describedAdapter = context.messageAdapter(NodeInfo.class, Described::new);
    ActorRef<Receptionist.Listing> listingAdapter = context.messageAdapter(
        Receptionist.Listing.class, listing -> new AgentsListed(listing.getServiceInstances(NodeAgentKey.KEY)));
    context.getSystem().receptionist().tell(Receptionist.subscribe(NodeAgentKey.KEY, listingAdapter));
    cluster.subscriptions().tell(Subscribe.create(
        context.messageAdapter(ClusterEvent.MemberEvent.class, MembershipChanged::new), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(
        context.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new),
        ClusterEvent.ReachabilityEvent.class));
    timers.startTimerWithFixedDelay(RegisterTick.INSTANCE, REREGISTER_INTERVAL);
    context.getLog().info("coordinator started on {}", cluster.selfMember().address());
  }

  @Override
  public Receive<CoordinatorControl> createReceive() {
    return newReceiveBuilder()
        .onMessage(AgentsListed.class, this::onAgentsListed)
        .onMessage(Described.class, this::onDescribed)
        .onMessage(MembershipChanged.class, this::onMembershipChanged)
        .onMessage(ReachabilityChanged.class, this::onReachabilityChanged)
        .onMessageEquals(RegisterTick.INSTANCE, this::onRegisterTick)
        .onMessage(GetStatus.class, this::onGetStatus)
        .build();
  }

  private Behavior<CoordinatorControl> onAgentsListed(AgentsListed listed) {
    Map<Address, ActorRef<NodeControl>> now = new HashMap<>();
    for (ActorRef<NodeControl> agent : listed.agents()) {
      now.put(addressOf(agent), agent);
    }
    for (Address gone : new HashSet<>(agents.keySet())) {
      if (!now.containsKey(gone)) {
        agents.remove(gone);
        NodeInfo info = registered.remove(gone);
        getContext().getLog().info("node agent on {} ({}) is gone", gone, info == null ? "unregistered" : info.nodeName());
      }
    }
    for (Map.Entry<Address, ActorRef<NodeControl>> e : now.entrySet()) {
      if (!e.getValue().equals(agents.put(e.getKey(), e.getValue()))) {
        registered.remove(e.getKey());
        register(e.getValue());
      }
    }
    return this;
  }

  private Behavior<CoordinatorControl> onRegisterTick() {
    agents.forEach((address, agent) -> {
      if (!registered.containsKey(address)) {
        register(agent);
      }
    });
    return this;
  }

  private void register(ActorRef<NodeControl> agent) {
    agent.tell(new Register(getContext().getSelf(), describedAdapter));
  }

  private Behavior<CoordinatorControl> onDescribed(Described described) {
    NodeInfo info = described.info();
    Address address = agents.keySet().stream()
        .filter(a -> a.toString().equals(info.address()))
        .findFirst()
        .orElse(null);
    if (address == null) {
      getContext().getLog().debug("ignoring description of {} from {}: agent no longer listed", info.nodeName(), info.address());
      return this;
    }
    if (registered.put(address, info) == null) {
      getContext().getLog().info("node {} registered: {} pid {}", info.nodeName(), info.address(), info.pid());
    }
    return this;
  }

  private Behavior<CoordinatorControl> onMembershipChanged(MembershipChanged changed) {
    ClusterEvent.MemberEvent e = changed.event();
    if (e instanceof ClusterEvent.MemberRemoved) {
      members.remove(e.member().address());
      unreachable.remove(e.member().address());
    } else {
      members.put(e.member().address(), e.member());
    }
    ClusterStatus.Kind kind;
    if (e instanceof ClusterEvent.MemberJoined) kind = ClusterStatus.Kind.JOINED;
    else if (e instanceof ClusterEvent.MemberUp) kind = ClusterStatus.Kind.UP;
    else if (e instanceof ClusterEvent.MemberLeft) kind = ClusterStatus.Kind.LEFT;
    else if (e instanceof ClusterEvent.MemberExited) kind = ClusterStatus.Kind.EXITED;
    else if (e instanceof ClusterEvent.MemberDowned) kind = ClusterStatus.Kind.DOWNED;
    else if (e instanceof ClusterEvent.MemberRemoved) kind = ClusterStatus.Kind.REMOVED;
    else return this; // WeaklyUp, PreparingForShutdown, ReadyForShutdown: not part of the history we report
    record(kind, e.member());
    return this;
  }

  private Behavior<CoordinatorControl> onReachabilityChanged(ReachabilityChanged changed) {
    ClusterEvent.ReachabilityEvent e = changed.event();
    if (e instanceof ClusterEvent.UnreachableMember) {
      unreachable.add(e.member().address());
    } else {
      unreachable.remove(e.member().address());
    }
    record(e instanceof ClusterEvent.UnreachableMember ? ClusterStatus.Kind.UNREACHABLE : ClusterStatus.Kind.REACHABLE, e.member());
    return this;
  }

  private void record(ClusterStatus.Kind kind, Member member) {
    if (events.size() == MAX_EVENTS) {
      events.removeFirst();
    }
    events.addLast(new ClusterStatus.MemberEvent(
        System.currentTimeMillis(), kind, member.address().toString(), ClusterStatus.userRoles(member.getRoles())));
    getContext().getLog().info("member {} {} roles {}", member.address(), kind, ClusterStatus.userRoles(member.getRoles()));
  }

  private Behavior<CoordinatorControl> onGetStatus(GetStatus request) {
    List<StatusQuery.Target> targets = new ArrayList<>();
    agents.forEach((address, agent) -> {
      NodeInfo info = registered.get(address);
      targets.add(new StatusQuery.Target(agent, info == null ? "?" : info.nodeName(), address.toString(), info == null ? 0 : info.pid()));
    });
    getContext().spawn(
        StatusQuery.create(targets, snapshot(), request.pingTimeout(), request.replyTo()), "status-" + (++queries));
    return this;
  }

  /** The status without node round trips, which the {@link StatusQuery} adds. */
  private ClusterStatus snapshot() {
    List<ClusterStatus.Member> listed = new ArrayList<>(members.size());
    for (Member m : members.values()) {
      NodeInfo info = registered.get(m.address());
      listed.add(new ClusterStatus.Member(
          m.address().toString(),
          ClusterStatus.userRoles(m.getRoles()),
          m.status().toString(),
          !unreachable.contains(m.address()),
          info == null ? "" : info.nodeName()));
    }
    return new ClusterStatus(
        cluster.selfMember().address().toString(), System.currentTimeMillis(), listed, List.of(), List.copyOf(events));
  }

  private Address addressOf(ActorRef<?> ref) {
    Address address = ref.path().address();
    return address.hasLocalScope() ? cluster.selfMember().address() : address;
  }
}
