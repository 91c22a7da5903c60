package dev.fencelab.protocol.control;

import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Runner to node agent, the {@code partition} fault: this member's transport drops every message to and from the
 * members at {@code addresses} (Artery addresses, {@code pekko://fencelab@host:port}), heartbeats included, while
 * {@code on}; {@code on == false} lets them through again. Replies {@link Ack}.
 */
public record Blackhole(List<String> addresses, boolean on, String reason, ActorRef<Ack> replyTo)
    implements NodeControl, ControlMessage {
  public Blackhole {
    addresses = List.copyOf(addresses);
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
