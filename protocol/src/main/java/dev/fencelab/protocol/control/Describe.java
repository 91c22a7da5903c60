package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/** Anyone to node agent: answer with your {@link NodeInfo}. Unlike {@link Register}, registers nothing. */
public record Describe(ActorRef<NodeInfo> replyTo) implements NodeControl, ControlMessage {
  public Describe {
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
