package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A run's deadlock detector to a node agent: send {@code watcher} this member's wait-for edges as they change
 * ({@link WaitsChanged}, batched), starting with those open now, until the watcher stops.
 */
public record WatchWaits(String run, ActorRef<WaitsChanged> watcher) implements NodeControl, ControlMessage {
  public WatchWaits {
    Objects.requireNonNull(run, "run");
    Objects.requireNonNull(watcher, "watcher");
  }
}
