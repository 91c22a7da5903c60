package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/** Coordinator to node agent: registers the node with the coordinator, which wants a {@link NodeInfo} back. */
public record Register(ActorRef<CoordinatorControl> coordinator, ActorRef<NodeInfo> replyTo)
    implements NodeControl, ControlMessage {
  public Register {
    Objects.requireNonNull(coordinator, "coordinator");
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
