package dev.fencelab.coordinator;

import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One status request: pings every node agent once and replies once.
 *
 * <p>Fan-out/fan-in in the style of Pekko's {@code DeviceGroupQuery}: a timer bounds the wait, every agent is
 * watched (an agent whose member dies is settled at once as not responding), one outcome is recorded per
 * agent, the reply goes out when every agent is settled or the timer fires, and the actor stops.
 */
final class StatusQuery extends AbstractBehavior<StatusQuery.Command> {

  /** An agent to ping, with what the coordinator knows of it. */
  record Target(ActorRef<NodeControl> agent, String nodeName, String address, long pid) {
    Target {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(nodeName, "nodeName");
      Objects.requireNonNull(address, "address");
    }
  }

  /** Internal only: never leaves this JVM. */
  sealed interface Command extends NoSerializationVerificationNeeded {}

  private record Answered(Pong pong, long receivedNanos) implements Command {}

  private record AgentTerminated(int index) implements Command {}

  private enum Timeout implements Command {
    INSTANCE
  }

  private final List<Target> targets;
  private final ClusterStatus snapshot;
  private final ActorRef<ClusterStatus> replyTo;
  /** Round trip per target index; absent while pending, -1 when the agent died before answering. */
  private final Map<Integer, Long> outcomes = new HashMap<>();

  static Behavior<Command> create(
      List<Target> targets, ClusterStatus snapshot, Duration timeout, ActorRef<ClusterStatus> replyTo) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new StatusQuery(context, timers, List.copyOf(targets), snapshot, timeout, replyTo).replyIfSettled()));
  }

  private StatusQuery(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      List<Target> targets,
      ClusterStatus snapshot,
      Duration timeout,
      ActorRef<ClusterStatus> replyTo) {
    super(context);
    this.targets = targets;
    this.snapshot = snapshot;
    this.replyTo = replyTo;
    timers.startSingleTimer(Timeout.INSTANCE, timeout);
    ActorRef<Pong> pongAdapter = context.messageAdapter(Pong.class, pong -> new Answered(pong, System.nanoTime()));
    for (int i = 0; i < targets.size(); i++) {
      ActorRef<NodeControl> agent = targets.get(i).agent();
      context.watchWith(agent, new AgentTerminated(i));
      agent.tell(new Ping(i, System.nanoTime(), pongAdapter));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Answered.class, this::onAnswered)
        .onMessage(AgentTerminated.class, this::onAgentTerminated)
        .onMessageEquals(Timeout.INSTANCE, this::reply)
        .build();
  }

  private Behavior<Command> onAnswered(Answered answered) {
    int index = (int) answered.pong().seq();
    if (index >= 0 && index < targets.size()) {
      outcomes.putIfAbsent(index, Math.max(0, answered.receivedNanos() - answered.pong().sentMonoNanos()));
    }
    return replyIfSettled();
  }

  private Behavior<Command> onAgentTerminated(AgentTerminated terminated) {
    outcomes.putIfAbsent(terminated.index(), -1L);
    return replyIfSettled();
  }

  private Behavior<Command> replyIfSettled() {
    return outcomes.size() == targets.size() ? reply() : this;
  }

  private Behavior<Command> reply() {
    List<ClusterStatus.Node> nodes = new ArrayList<>(targets.size());
    for (int i = 0; i < targets.size(); i++) {
      Target t = targets.get(i);
      long rtt = outcomes.getOrDefault(i, -1L);
      nodes.add(new ClusterStatus.Node(t.nodeName(), t.address(), rtt >= 0, Math.max(rtt, 0), t.pid()));
    }
    nodes.sort((a, b) -> a.nodeName().compareTo(b.nodeName()));
    replyTo.tell(new ClusterStatus(
        snapshot.coordinatorAddress(), snapshot.asOfEpochMillis(), snapshot.members(), nodes, snapshot.events()));
    return Behaviors.stopped();
  }
}
