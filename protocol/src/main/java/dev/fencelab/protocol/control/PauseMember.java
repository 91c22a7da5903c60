package dev.fencelab.protocol.control;

import java.util.Objects;

/**
 * Runner to node agent, the {@code pause_node} fault: the member is stopped (SIGSTOP) for {@code nanos}, then
 * continued (SIGCONT). No reply: a stopped member cannot answer.
 */
public record PauseMember(long nanos, String reason) implements NodeControl, ControlMessage {
  public PauseMember {
    if (nanos <= 0) {
      throw new IllegalArgumentException("a pause lasts more than 0 ns, was " + nanos);
    }
    Objects.requireNonNull(reason, "reason");
  }
}
