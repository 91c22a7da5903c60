package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The owner of a fence context (a timeline, an engine): it creates the fences of its context as children,
 * learns of their completion, and answers for them once they have stopped (DESIGN.md: "no fence actor
 * lives forever"). Owners are {@code Behavior<ContextOwner.Command>}; their own commands extend this type.
 */
public final class ContextOwner {
  private ContextOwner() {}

  /** What an owner accepts. Not sealed: each kind of owner adds its own commands. */
  public interface Command {}

  /** From one of its fences: it signalled with this status. */
  public record FenceCompleted(FenceId id, FenceStatus status) implements Command, NodeWireMessage {
    public FenceCompleted {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(status, "status");
    }
  }

  /** From one of its fences: a deadline hint was set (§1.3); owners that model deadlines record the earliest. */
  public record DeadlineHint(long seqno, long deadlineNanos) implements Command, NodeWireMessage {}

  /** Anyone: how did this fence of yours end? Asked when the fence actor is gone. */
  public record QueryCompletion(FenceId id, ActorRef<Completion> replyTo) implements Command, NodeWireMessage {
    public QueryCompletion {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * Answer to {@link QueryCompletion}. {@code known = false}: the owner has no record of the fence completing
   * (it was never signalled, or it is not of this context).
   */
  public record Completion(FenceId id, boolean known, FenceStatus status) implements NodeWireMessage {
    public Completion {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(status, "status");
    }
  }
}
