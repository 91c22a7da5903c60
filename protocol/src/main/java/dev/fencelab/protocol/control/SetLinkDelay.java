package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Runner to node agent, the {@code link_delay} fault: a fence signalled on the member at {@code peer} (its Artery
 * address) reaches this member's jobs and waiters {@code latencyNanos} later in model time; 0 removes the delay.
 * Replies {@link Ack}.
 */
public record SetLinkDelay(String peer, long latencyNanos, ActorRef<Ack> replyTo) implements NodeControl, ControlMessage {
  public SetLinkDelay {
    Objects.requireNonNull(peer, "peer");
    if (latencyNanos < 0) {
      throw new IllegalArgumentException("a link latency is 0 or more, was " + latencyNanos);
    }
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
