package dev.fencelab.protocol.control;

import java.util.Objects;

/**
 * Runner to node agent: run {@code run} is over; stop what it created on this member (its names carry {@code tag}):
 * devices, processes, and what its steps spawned. A long-lived cluster then holds nothing of it. {@code replyTo}
 * (may be null: no reply) gets an {@link Ack} once all of it has stopped — so whatever its stopping records (a fence
 * released with callbacks) is in the member's trace before the next run starts, and not judged as that run's.
 */
public record ReleaseRun(String run, String tag, org.apache.pekko.actor.typed.ActorRef<Ack> replyTo) implements NodeControl, ControlMessage {
  public ReleaseRun {
    Objects.requireNonNull(run, "run");
    Objects.requireNonNull(tag, "tag");
  }

  public ReleaseRun(String run, String tag) {
    this(run, tag, null);
  }
}
