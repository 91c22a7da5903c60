package dev.fencelab.node.fence;

import java.util.Objects;

/** Identity of a fence: its context and its seqno on that context. Printed as {@code ctx7.1a2b#42}. */
public record FenceId(FenceContext context, long seqno) {
  public FenceId {
    Objects.requireNonNull(context, "context");
  }

  /** Written out: a fence id is a hash key on every signal's path, and the generated record methods go through a bootstrap. */
  @Override
  public boolean equals(Object o) {
    return o instanceof FenceId f && f.seqno == seqno && f.context.equals(context);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(seqno * 0x9E3779B97F4A7C15L) ^ context.hashCode();
  }

  @Override
  public String toString() {
    return context + "#" + Long.toUnsignedString(seqno);
  }
}
