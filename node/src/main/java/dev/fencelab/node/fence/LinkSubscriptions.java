package dev.fencelab.node.fence;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The fence side of a member's {@link FenceLinks}: which links (members) are subscribed to each local fence, and which
 * fences have not yet acknowledged the link's callback. One callback per fence serves every subscribed member; a fence
 * that neither acknowledges nor answers within the grace is to be watched (it may have stopped before the callback
 * reached it). The link does the messaging and the watching; this keeps the books. Not thread-safe: the link owns it.
 */
final class LinkSubscriptions {
  /** The links subscribed to one local fence. */
  static final class Subscribed {
    final FenceRef fence;
    /** Usually one or two: a list, not a set (a set's iterator showed in the profile of a burst). */
    final List<ActorRef<FenceLinks.Command>> links = new ArrayList<>(1);
    final long sentNanos = System.nanoTime();
    /** The fence acknowledged the callback (or answered it). */
    boolean acked;
    /** Watched: it did not acknowledge within the grace. */
    boolean watched;

    Subscribed(FenceRef fence) {
      this.fence = fence;
    }
  }

  private final Map<FenceId, Subscribed> subscribed = new HashMap<>();
  /** Subscriptions in the order their callbacks went out, until acknowledged or watched. */
  private final ArrayDeque<Subscribed> unacked = new ArrayDeque<>();

  /** {@code link} subscribes to {@code fence}; true if the fence is new here (its callback is to be added). */
  boolean subscribe(FenceRef fence, ActorRef<FenceLinks.Command> link) {
    Subscribed s = subscribed.get(fence.id());
    boolean fresh = s == null;
    if (fresh) {
      s = new Subscribed(fence);
      subscribed.put(fence.id(), s);
      unacked.add(s);
    }
    if (!s.links.contains(link)) {
      s.links.add(link);
    }
    return fresh;
  }

  /** The fence acknowledged its callback. */
  void acked(FenceId id) {
    Subscribed s = subscribed.get(id);
    if (s != null) {
      s.acked = true;
    }
  }

  /** The subscription of a fence still to be answered, or null. */
  Subscribed get(FenceId id) {
    return subscribed.get(id);
  }

  /** The fence answered (signalled, or its owner said how it ended): its subscription, no longer held; or null. */
  Subscribed answered(FenceId id) {
    return subscribed.remove(id);
  }

  /**
   * Takes off the queue the unacknowledged subscriptions whose grace ({@code graceNanos}) is over at {@code now}, marked
   * watched, into {@code toWatch}; answers how long until the next one's grace ends, or -1 if none is waiting.
   */
  long overdue(long now, long graceNanos, List<Subscribed> toWatch) {
    while (!unacked.isEmpty()) {
      Subscribed s = unacked.peek();
      if (s.acked || subscribed.get(s.fence.id()) != s) {
        unacked.poll(); // acknowledged, or already answered
        continue;
      }
      if (now - s.sentNanos < graceNanos) {
        return graceNanos - (now - s.sentNanos);
      }
      unacked.poll();
      s.watched = true;
      toWatch.add(s);
    }
    return -1;
  }

  /** The member at {@code address} is gone: its links are subscribed to nothing. */
  void forget(Address address) {
    subscribed.values().forEach(s -> s.links.removeIf(l -> l.path().address().equals(address)));
  }
}
