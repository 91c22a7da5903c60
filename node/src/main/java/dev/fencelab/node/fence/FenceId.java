package dev.fencelab.node.fence;

import java.util.Objects;

/** Identity of a fence: its context and its seqno on that context. Printed as {@code ctx7.1a2b#42}. */
public record FenceId(FenceContext context, long seqno) {
  public FenceId {
    Objects.requireNonNull(context, "context");
  }

  @Override
  public String toString() {
    return context + "#" + Long.toUnsignedString(seqno);
  }
}
