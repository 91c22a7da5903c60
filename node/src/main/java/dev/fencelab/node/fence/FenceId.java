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
    return o instanceof FenceId f && f.seqno == seqno && (f.context == context || f.context.equals(context));
  }

  @Override
  public int hashCode() {
    // consecutive seqnos land in consecutive buckets: a burst signals in seqno order, and a table walked in order stays
    // in cache (a multiplicative hash scattered them: HashMap.remove was 12-15% of each member's CPU under a burst)
    return Long.hashCode(seqno) ^ context.hashCode();
  }

  @Override
  public String toString() {
    return context + "#" + Long.toUnsignedString(seqno);
  }
}
