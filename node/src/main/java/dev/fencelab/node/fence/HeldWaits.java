package dev.fencelab.node.fence;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The waits a member's {@link FenceLinks} holds (its wait registry), by id, by waiter, and by deadline: one queue of
 * deadlines for all of them instead of a timer each. Ended waits leave the queue lazily, and it is rebuilt when most
 * of it is stale, so it stays in proportion to the waits held. By id, a primitive {@link SeqnoMap}; by owner, a list
 * threaded through the waits themselves, so ending a wait costs no hash of an actor ref and no box.
 */
final class HeldWaits {
  /** One held wait; identity is equality. */
  static final class Held {
    final FenceLinks.Wait request;
    final long startNanos;
    final long deadlineNanos;
    /** The list of the waits of the same owner (null once that owner is gone), and this wait's neighbours in it. */
    private Owner owner;
    private Held prev;
    private Held next;

    Held(FenceLinks.Wait request, long startNanos, long deadlineNanos) {
      this.request = request;
      this.startNanos = startNanos;
      this.deadlineNanos = deadlineNanos;
    }
  }

  /** The waits of one owner, most recent first. */
  private static final class Owner {
    Held head;
  }

  private final SeqnoMap<Held> byId = new SeqnoMap<>();
  private final Map<ActorRef<?>, Owner> byOwner = new HashMap<>();
  private final PriorityQueue<Held> deadlines = new PriorityQueue<>((a, b) -> Long.compare(a.deadlineNanos, b.deadlineNanos));

  /** Holds {@code w}, due at {@code deadlineNanos}; true if its owner is new here (to be watched). */
  boolean add(Held h) {
    byId.put(h.request.waitId(), h);
    deadlines.add(h);
    Owner owner = byOwner.get(h.request.owner());
    boolean fresh = owner == null;
    if (fresh) {
      owner = new Owner();
      byOwner.put(h.request.owner(), owner);
    }
    h.owner = owner;
    h.next = owner.head;
    if (owner.head != null) {
      owner.head.prev = h;
    }
    owner.head = h;
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
    if (h.owner != null) { // (an owner gone took its list away first)
      if (h.prev != null) {
        h.prev.next = h.next;
      } else {
        h.owner.head = h.next;
      }
      if (h.next != null) {
        h.next.prev = h.prev;
      }
      h.owner = null;
      h.prev = null;
      h.next = null;
    }
    if (deadlines.size() > 1024 && deadlines.size() > 4 * byId.size()) {
      deadlines.clear(); // mostly ended waits: rebuilt from the held ones
      for (long id : byId.keys()) {
        deadlines.add(byId.get(id));
      }
    }
    return h;
  }

  /** The ids of the waits of {@code owner}, which is gone; it is forgotten. */
  List<Long> removeOwner(ActorRef<?> owner) {
    Owner gone = byOwner.remove(owner);
    if (gone == null) {
      return List.of();
    }
    List<Long> ids = new ArrayList<>();
    for (Held h = gone.head; h != null; ) {
      ids.add(h.request.waitId());
      Held next = h.next;
      h.owner = null;
      h.prev = null;
      h.next = null;
      h = next;
    }
    return ids;
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
