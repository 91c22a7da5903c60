package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Coordinator to node agent: answer with a {@link Pong} that echoes {@code seq} and {@code sentMonoNanos}.
 *
 * @param sentMonoNanos the sender's {@code System.nanoTime()} when it sent the ping; only the sender can
 *     interpret it (round trip = its clock at the pong minus this)
 */
public record Ping(long seq, long sentMonoNanos, ActorRef<Pong> replyTo) implements NodeControl, ControlMessage {
  public Ping {
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
