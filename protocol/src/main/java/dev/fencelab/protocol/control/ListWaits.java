package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/** To a node agent: every wait still open on its member (the wait-for edges), answered with {@link WaitsListed}. */
public record ListWaits(ActorRef<WaitsListed> replyTo) implements NodeControl, ControlMessage {
  public ListWaits {
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
