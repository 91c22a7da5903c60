package dev.fencelab.protocol.control;

import java.util.Objects;

/**
 * Node agent to coordinator: the answer to a {@link Ping}, with the node's own clocks at the moment it
 * answered, so that the coordinator can estimate the node's wall-clock offset from round trips.
 */
public record Pong(String nodeName, long seq, long sentMonoNanos, long nodeWallEpochMicros, long nodeMonoNanos)
    implements ControlMessage {
  public Pong {
    Objects.requireNonNull(nodeName, "nodeName");
  }
}
