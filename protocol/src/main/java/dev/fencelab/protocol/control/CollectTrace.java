package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/** Runner to node agent: a page of the member's recorded trace events with {@code seq >= fromSeq}; answered with a {@link TracePage}. */
public record CollectTrace(long fromSeq, int max, ActorRef<TracePage> replyTo) implements NodeControl, ControlMessage {
  public CollectTrace {
    Objects.requireNonNull(replyTo, "replyTo");
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive, was " + max);
    }
  }
}
