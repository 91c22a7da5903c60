package dev.fencelab.protocol.control;

import java.util.Objects;

/**
 * The "kill node" fault on a member the caller cannot SIGKILL (another machine): the member halts at once, with no
 * shutdown hooks, no cluster leave and no goodbye — the nearest a JVM gets to losing power. No reply.
 */
public record Crash(String reason) implements NodeControl, ControlMessage {
  public Crash {
    Objects.requireNonNull(reason, "reason");
  }
}
