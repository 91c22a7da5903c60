package dev.fencelab.node.check;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The contract violations recorded on one member, oldest first, bounded (the oldest are dropped first and
 * counted). Owns: that record. Talks to: nobody; every primitive tells it. Replies: {@link Recorded} to
 * {@link List}.
 */
public final class Violations extends AbstractBehavior<Violations.Command> {
  /** Local to the member: never crosses the wire. */
  public sealed interface Command extends org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /** Record one violation (fire and forget). */
  public record Report(Violation violation) implements Command {
    public Report {
      Objects.requireNonNull(violation, "violation");
    }
  }

  public record List(ActorRef<Recorded> replyTo) implements Command {}

  /** Local reply (collected over the wire with the trace work). */
  public record Recorded(java.util.List<Violation> violations, long dropped) implements org.apache.pekko.actor.NoSerializationVerificationNeeded {
    public Recorded {
      violations = java.util.List.copyOf(violations);
    }
  }

  private final int capacity;
  private final ArrayDeque<Violation> recorded = new ArrayDeque<>();
  private long dropped;

  public static Behavior<Command> create(int capacity) {
    return Behaviors.setup(context -> new Violations(context, capacity));
  }

  private Violations(ActorContext<Command> context, int capacity) {
    super(context);
    this.capacity = capacity;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Report.class, this::onReport)
        .onMessage(List.class, this::onList)
        .build();
  }

  private Behavior<Command> onReport(Report report) {
    if (recorded.size() == capacity) {
      recorded.removeFirst();
      dropped++;
    }
    recorded.addLast(report.violation());
    Violation v = report.violation();
    dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).record(
        dev.fencelab.node.trace.TraceRecorder.event(dev.fencelab.protocol.trace.v1.EventKind.VIOLATION, "violations")
            .setName(v.kind().name()).setSubject(v.subject()).setDetail(v.detail()).setStatus(v.fatal() ? 1 : 0));
    getContext().getLog().warn("contract violation: {}", report.violation());
    return this;
  }

  private Behavior<Command> onList(List list) {
    list.replyTo().tell(new Recorded(java.util.List.copyOf(recorded), dropped));
    return this;
  }
}
