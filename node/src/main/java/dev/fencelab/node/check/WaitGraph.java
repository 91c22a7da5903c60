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
 * The waits outstanding on one member: one edge per wait, from the waiter to the fence it waits on, with
 * the reason and the start time. Owns: the edges. Talks to: nobody; waiters add and remove their edges.
 * Replies: {@link Pending} to {@link ListPending}.
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

  public record ListPending(ActorRef<Pending> replyTo) implements Command {}

  /** Local reply (the coordinator's collection of waits gets its own wire form with the trace work). */
  public record Pending(List<Edge> edges) implements org.apache.pekko.actor.NoSerializationVerificationNeeded {
    public Pending {
      edges = List.copyOf(edges);
    }
  }

  private final Map<Long, Edge> edges = new LinkedHashMap<>();

  public static Behavior<Command> create() {
    return Behaviors.setup(WaitGraph::new);
  }

  private WaitGraph(ActorContext<Command> context) {
    super(context);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(AddEdge.class, add -> {
          edges.put(add.edge().waitId(), add.edge());
          return this;
        })
        .onMessage(RemoveEdge.class, remove -> {
          edges.remove(remove.waitId());
          return this;
        })
        .onMessage(ListPending.class, list -> {
          list.replyTo().tell(new Pending(new ArrayList<>(edges.values())));
          return this;
        })
        .build();
  }
}
