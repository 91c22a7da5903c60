package dev.fencelab.protocol.control;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * To a node agent: a page of the waits still open on its member (the wait-for edges, in wait id order): {@code offset}
 * skipped, at most {@code max}; answered with {@link WaitsListed}, which says how many there are in all.
 */
public record ListWaits(ActorRef<WaitsListed> replyTo, int offset, int max) implements NodeControl, ControlMessage {
  /** Waits per page: a page of edges stays far under Artery's frame size. */
  public static final int PAGE = 500;

  public ListWaits {
    Objects.requireNonNull(replyTo, "replyTo");
    if (offset < 0 || max < 1 || max > PAGE) {
      throw new IllegalArgumentException("a page of waits has offset >= 0 and 1..." + PAGE + " waits, not " + offset + "+" + max);
    }
  }

  /** The first page. */
  public ListWaits(ActorRef<WaitsListed> replyTo) {
    this(replyTo, 0, PAGE);
  }
}
