package dev.fencelab.node.fence;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a member's {@link FenceLinks} sends to the other members' links, batched per destination: subscriptions, signals
 * and wait results bound for one member travel as one {@link FenceLinks.Batch} of at most {@value #MAX_BATCH} entries.
 * An entry for a member that was sent nothing for {@value #IDLE_MICROS} µs goes at once (low load: no batching delay,
 * and a lone result goes straight to its waiter); what follows it within the link's turn waits for {@link #flush()}.
 * Not thread-safe: the link owns it.
 */
final class LinkOutboxes {
  /** Entries per batch at most (a frame stays far under Artery's size limit). */
  static final int MAX_BATCH = 512;

  /** A member sent nothing for this long gets the next entry at once. */
  static final long IDLE_MICROS = 200;

  /** What goes to one link at the next flush. */
  private static final class Outbox {
    final List<FenceRef> subscribe = new ArrayList<>();
    final List<FenceProtocol.Signalled> signals = new ArrayList<>();
    final List<FenceLinks.Delivery> results = new ArrayList<>();
    long lastSentNanos = System.nanoTime() - IDLE_MICROS * 1000;

    int size() {
      return subscribe.size() + signals.size() + results.size();
    }
  }

  private final Map<ActorRef<FenceLinks.Command>, Outbox> outboxes = new LinkedHashMap<>();
  private final ActorRef<FenceLinks.Command> self;
  /** Asks the link for one {@link #flush()} after what is in its mailbox now. */
  private final Runnable flushLater;
  private boolean flushDue;

  LinkOutboxes(ActorRef<FenceLinks.Command> self, Runnable flushLater) {
    this.self = self;
    this.flushLater = flushLater;
  }

  void subscribe(ActorRef<FenceLinks.Command> link, FenceRef fence) {
    Outbox o = outbox(link);
    o.subscribe.add(fence);
    posted(link, o);
  }

  void signal(ActorRef<FenceLinks.Command> link, FenceProtocol.Signalled signalled) {
    Outbox o = outbox(link);
    o.signals.add(signalled);
    posted(link, o);
  }

  void result(ActorRef<FenceLinks.Command> link, FenceLinks.Delivery delivery) {
    Outbox o = outbox(link);
    o.results.add(delivery);
    posted(link, o);
  }

  /** Sends what waits, to every link. */
  void flush() {
    flushDue = false;
    outboxes.forEach(this::send);
  }

  /** The member at {@code address} is gone: what was bound for it is dropped. */
  void forget(Address address) {
    outboxes.keySet().removeIf(l -> l.path().address().equals(address));
  }

  private Outbox outbox(ActorRef<FenceLinks.Command> link) {
    return outboxes.computeIfAbsent(link, l -> new Outbox());
  }

  /** After one entry was added: a lone one for an idle link goes at once, a full batch now, anything else at the flush. */
  private void posted(ActorRef<FenceLinks.Command> link, Outbox o) {
    if (o.size() >= MAX_BATCH || o.size() == 1 && System.nanoTime() - o.lastSentNanos > IDLE_MICROS * 1000) {
      send(link, o);
      return;
    }
    if (!flushDue) {
      flushDue = true;
      flushLater.run();
    }
  }

  private void send(ActorRef<FenceLinks.Command> link, Outbox o) {
    if (o.size() == 0) {
      return;
    }
    if (o.size() == 1 && o.results.size() == 1) {
      FenceLinks.Delivery d = o.results.get(0); // a lone result goes straight to its waiter: one hop, as a per-wait reply
      d.to().tell(d.result());
    } else {
      link.tell(new FenceLinks.Batch(self, o.subscribe, o.signals, o.results));
    }
    o.subscribe.clear();
    o.signals.clear();
    o.results.clear();
    o.lastSentNanos = System.nanoTime();
  }
}
