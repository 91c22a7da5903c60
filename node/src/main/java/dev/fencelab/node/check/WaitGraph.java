package dev.fencelab.node.check;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The waits outstanding on one member: one edge per wait, from the waiter to what it waits on — a fence, or another
 * vertex of the wait-for graph (a job, a lock, an invalidate callback) — with the reason and the start time. Owns:
 * the edges. Talks to: the run's deadlock detector, if one watches ({@link Watch}): it gets the edges open now, then
 * every change in batches ({@link #BATCH} apart at most). Replies: {@link Pending} to {@link ListPending}.
 */
public final class WaitGraph extends AbstractBehavior<WaitGraph.Command> {
  /** Local to the member: never crosses the wire. */
  public sealed interface Command extends org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /** One wait: {@code waiter} (who, e.g. {@code n2/proc1}) waits on {@code fence} because of {@code reason}. */
  public record Edge(long waitId, String waiter, String fence, String fenceAddress, String reason, long sinceWallNanos) {
    public Edge {
      Objects.requireNonNull(waiter, "waiter");
      Objects.requireNonNull(fence, "fence");
      Objects.requireNonNull(fenceAddress, "fenceAddress");
      Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
      return waiter + " -> " + fence + " (" + reason + ")";
    }
  }

  public record AddEdge(Edge edge) implements Command {}

  public record RemoveEdge(long waitId) implements Command {}

  /** Several {@link RemoveEdge}s in one message (a link's batch of signals ends many waits at once). */
  public record RemoveEdges(long[] waitIds) implements Command {}

  public record ListPending(ActorRef<Pending> replyTo) implements Command {}

  /** Send {@code watcher} this member's edges (as {@code node}'s) as they change, until it stops. */
  public record Watch(String node, ActorRef<dev.fencelab.protocol.control.WaitsChanged> watcher) implements Command {}

  private enum Flush implements Command {
    INSTANCE
  }

  private record WatcherGone(ActorRef<dev.fencelab.protocol.control.WaitsChanged> watcher) implements Command {}

  /** How long changes gather before they go to the watchers. */
  static final java.time.Duration BATCH = java.time.Duration.ofMillis(10);

  /** Local reply (the coordinator's collection of waits gets its own wire form with the trace work). */
  public record Pending(List<Edge> edges) implements org.apache.pekko.actor.NoSerializationVerificationNeeded {
    public Pending {
      edges = List.copyOf(edges);
    }
  }

  private final Map<Long, Edge> edges = new LinkedHashMap<>();
  private final Map<ActorRef<dev.fencelab.protocol.control.WaitsChanged>, String> watchers = new java.util.HashMap<>();
  private final Map<Long, Edge> added = new LinkedHashMap<>();
  private final java.util.List<Long> removed = new ArrayList<>();
  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers;

  public static Behavior<Command> create() {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new WaitGraph(context, timers)));
  }

  private WaitGraph(ActorContext<Command> context, org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers) {
    super(context);
    this.timers = timers;
  }

  /** An edge in its wire form (the run's detector and ListWaits). */
  public static dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge wire(Edge e) {
    return dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge.newBuilder().setWaitId(e.waitId()).setWaiter(e.waiter()).setFence(e.fence())
        .setFenceAddress(e.fenceAddress()).setReason(e.reason()).setSinceWallNanos(e.sinceWallNanos()).build();
  }

  private void changed() {
    if (!watchers.isEmpty() && !timers.isTimerActive(Flush.INSTANCE)) {
      timers.startSingleTimer(Flush.INSTANCE, BATCH);
    }
  }

  private void flush() {
    if (added.isEmpty() && removed.isEmpty()) {
      return;
    }
    java.util.List<dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge> adds = added.values().stream().map(WaitGraph::wire).toList();
    watchers.forEach((w, node) -> w.tell(new dev.fencelab.protocol.control.WaitsChanged(node, adds, removed)));
    added.clear();
    removed.clear();
  }

  private void remove(long waitId) {
    if (edges.remove(waitId) != null && !watchers.isEmpty() && added.remove(waitId) == null) {
      removed.add(waitId); // an edge added and removed within one batch is never sent
      changed();
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(AddEdge.class, add -> {
          edges.put(add.edge().waitId(), add.edge());
          if (!watchers.isEmpty()) {
            added.put(add.edge().waitId(), add.edge());
            changed();
          }
          return this;
        })
        .onMessage(RemoveEdge.class, remove -> {
          remove(remove.waitId());
          return this;
        })
        .onMessage(RemoveEdges.class, remove -> {
          for (long id : remove.waitIds()) {
            remove(id);
          }
          return this;
        })
        .onMessage(Watch.class, w -> {
          flush();
          watchers.put(w.watcher(), w.node());
          getContext().watchWith(w.watcher(), new WatcherGone(w.watcher()));
          w.watcher().tell(new dev.fencelab.protocol.control.WaitsChanged(w.node(), edges.values().stream().map(WaitGraph::wire).toList(),
              java.util.List.of()));
          return this;
        })
        .onMessage(WatcherGone.class, g -> {
          watchers.remove(g.watcher());
          return this;
        })
        .onMessageEquals(Flush.INSTANCE, () -> {
          flush();
          return this;
        })
        .onMessage(ListPending.class, list -> {
          list.replyTo().tell(new Pending(new ArrayList<>(edges.values())));
          return this;
        })
        .build();
  }
}
