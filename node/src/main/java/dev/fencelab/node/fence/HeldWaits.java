package dev.fencelab.node.fence;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The waits a member's {@link FenceLinks} holds (its wait registry), by id, by waiter, and by deadline: one queue of
 * deadlines for all of them instead of a timer each. Ended waits leave the queue lazily, and it is rebuilt when most
 * of it is stale, so it stays in proportion to the waits held.
 */
final class HeldWaits {
  /** One held wait; identity is equality. */
  static final class Held {
    final FenceLinks.Wait request;
    final long startNanos;
    final long deadlineNanos;
    /** The held waits of the same owner (kept here: an actor ref is a costly hash key). */
    Set<Long> ofOwner;

    Held(FenceLinks.Wait request, long startNanos, long deadlineNanos) {
      this.request = request;
      this.startNanos = startNanos;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final Map<Long, Held> byId = new HashMap<>();
  private final Map<ActorRef<?>, Set<Long>> byOwner = new HashMap<>();
  private final PriorityQueue<Held> deadlines = new PriorityQueue<>((a, b) -> Long.compare(a.deadlineNanos, b.deadlineNanos));

  /** Holds {@code w}, due at {@code deadlineNanos}; true if its owner is new here (to be watched). */
  boolean add(Held h) {
    byId.put(h.request.waitId(), h);
    deadlines.add(h);
    Set<Long> ofOwner = byOwner.get(h.request.owner());
    boolean fresh = ofOwner == null;
    if (fresh) {
      ofOwner = new HashSet<>();
      byOwner.put(h.request.owner(), ofOwner);
    }
    ofOwner.add(h.request.waitId());
    h.ofOwner = ofOwner;
    return fresh;
  }

  Held get(long waitId) {
    return byId.get(waitId);
  }

  /** Ends the hold of {@code waitId}: the wait, or null if it had ended already. */
  Held remove(long waitId) {
    Held h = byId.remove(waitId);
    if (h == null) {
      return null;
    }
    h.ofOwner.remove(waitId); // (an owner gone took its set away first)
    if (deadlines.size() > 1024 && deadlines.size() > 4 * byId.size()) {
      deadlines.clear(); // mostly ended waits: rebuilt from the held ones
      deadlines.addAll(byId.values());
    }
    return h;
  }

  /** The ids of the waits of {@code owner}, which is gone; it is forgotten. */
  List<Long> removeOwner(ActorRef<?> owner) {
    Set<Long> ids = byOwner.remove(owner);
    return ids == null ? List.of() : List.copyOf(ids);
  }

  /** The earliest deadline of a held wait, or {@link Long#MAX_VALUE}. */
  long nextDeadline() {
    while (!deadlines.isEmpty() && byId.get(deadlines.peek().request.waitId()) != deadlines.peek()) {
      deadlines.poll(); // ended already
    }
    return deadlines.isEmpty() ? Long.MAX_VALUE : deadlines.peek().deadlineNanos;
  }

  /** The next held wait due at {@code now}, taken off the deadline queue (still held), or null. */
  Held pollDue(long now) {
    if (nextDeadline() > now) {
      return null;
    }
    return deadlines.poll();
  }

  int size() {
    return byId.size();
  }
}
