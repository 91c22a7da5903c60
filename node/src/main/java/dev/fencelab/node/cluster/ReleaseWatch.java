package dev.fencelab.node.cluster;

import dev.fencelab.protocol.control.Ack;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Answers a {@link dev.fencelab.protocol.control.ReleaseRun} once every actor it stopped has terminated — their
 * children first, so whatever stopping them recorded is in the trace — or after {@link #BOUND}, whichever is first.
 */
final class ReleaseWatch {
  static final Duration BOUND = Duration.ofSeconds(5);

  private enum Bound {
    INSTANCE
  }

  private ReleaseWatch() {}

  static Behavior<Object> create(List<ActorRef<Void>> stopping, String node, ActorRef<Ack> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Set<ActorRef<Void>> left = new HashSet<>(stopping);
      if (left.isEmpty()) {
        replyTo.tell(new Ack(node, "released: nothing to stop"));
        return Behaviors.stopped();
      }
      left.forEach(ctx::watch);
      timers.startSingleTimer(Bound.INSTANCE, BOUND);
      return Behaviors.receive(Object.class)
          .onMessage(Bound.class, b -> {
            replyTo.tell(new Ack(node, "released: " + left.size() + " of " + stopping.size() + " still stopping after " + BOUND.toSeconds() + " s"));
            return Behaviors.stopped();
          })
          .onSignal(Terminated.class, t -> {
            left.remove(t.getRef());
            if (left.isEmpty()) {
              replyTo.tell(new Ack(node, "released: " + stopping.size() + " stopped"));
              return Behaviors.stopped();
            }
            return Behaviors.same();
          })
          .build();
    }));
  }
}
