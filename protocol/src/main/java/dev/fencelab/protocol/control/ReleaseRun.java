package dev.fencelab.protocol.control;

import java.util.Objects;

/**
 * Runner to node agent: run {@code run} is over; stop what it created on this member (its names carry {@code tag}):
 * devices, processes, and what its steps spawned. A long-lived cluster then holds nothing of it. No reply.
 */
public record ReleaseRun(String run, String tag) implements NodeControl, ControlMessage {
  public ReleaseRun {
    Objects.requireNonNull(run, "run");
    Objects.requireNonNull(tag, "tag");
  }
}
