package dev.fencelab.node.mm;

import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * The interval notifiers of one address space ({@code struct mmu_notifier_subscriptions}, mm/mmu_notifier.c,
 * kernel-semantics §1.14): the state and every decision, no messaging — the {@code mm} that owns it sends the
 * callbacks and parks the waiters.
 *
 * <ul>
 *   <li>{@code invalidate_seq} starts at 2; it is odd while an invalidation that hit the tree runs, and made even
 *       again (and deferred inserts and removes applied, waiters woken) when the last active range ends.
 *   <li>{@link #start}: one more active range; if any interval overlaps, the seq becomes odd; the callbacks get the
 *       current seq. {@link #callback}: a callback that returns false on a non-blockable range makes the caller end
 *       the invalidation and return -EAGAIN; on a blockable range it is the kernel's WARN, and the round goes on.
 *   <li>{@link #readBegin}: the interval's seq; the reader waits (a parked waiter, never a thread) while it equals the
 *       tree's seq (an invalidation that hit it still runs). {@link #readRetry}: the interval's seq moved.
 *   <li>{@link #insert}: -EOVERFLOW for length 0 or an end past 2^64; with no active range the interval gets
 *       {@code seq - 1} and is inserted; with an active range it gets the (then odd) current seq — inserted at once if
 *       the tree was not invalidating (which makes it so), else deferred to the end of the invalidation.
 *   <li>{@link #remove}: immediate when nothing invalidates; otherwise deferred, and the remover waits until the seq
 *       it saw is released (a remove called from inside a callback would wait for itself: the caller reports it).
 * </ul>
 *
 * @param <W> a parked waiter (a read_begin or a remove), woken by {@link #end}
 */
public final class IntervalNotifiers<W> {
  /** One {@code struct mmu_interval_notifier}: an interval {@code [start, last]} and its own seq. */
  public static final class Interval {
    private final long id;
    private final long start;
    private final long last;
    private long seq;
    private boolean inTree;
    private boolean removing;

    private Interval(long id, long start, long last) {
      this.id = id;
      this.start = start;
      this.last = last;
    }

    public long id() {
      return id;
    }

    public long start() {
      return start;
    }

    /** The last address inside the interval (the kernel's interval tree includes its end point). */
    public long last() {
      return last;
    }

    public long seq() {
      return seq;
    }

    public boolean inTree() {
      return inTree;
    }

    boolean overlaps(long start, long endExclusive) {
      return Long.compareUnsigned(this.start, endExclusive - 1) <= 0 && Long.compareUnsigned(start, this.last) <= 0;
    }
  }

  /** An insert's answer: the interval, or a negative errno. */
  public record Inserted(Interval interval, int errno) {}

  /** An invalidation's start: the seq its callbacks get, and the intervals it hits (in address order). */
  public record Start(long seq, List<Interval> hit) {}

  /** What a callback's answer means for the round. */
  public enum CallbackOutcome { CONTINUE, WARN_AND_CONTINUE, WOULD_BLOCK }

  /** A read_begin's answer: the seq to retry against, and whether the reader must wait for it to be released first. */
  public record ReadBegin(long seq, boolean waits) {}

  private record Parked<W>(long seq, W waiter) {}

  private long invalidateSeq = 2;
  private int activeRanges;
  private long nextId = 1;
  private final List<Interval> tree = new ArrayList<>();
  private final List<Interval> deferred = new ArrayList<>();
  private final List<Parked<W>> parked = new ArrayList<>();

  public long invalidateSeq() {
    return invalidateSeq;
  }

  public int activeRanges() {
    return activeRanges;
  }

  /** True while an invalidation that hit the tree runs (the seq is odd). */
  public boolean invalidating() {
    return (invalidateSeq & 1) == 1;
  }

  /** The intervals in the tree now (not those deferred). */
  public List<Interval> intervals() {
    return List.copyOf(tree);
  }

  /** {@code mmu_interval_notifier_insert(start, length)}. */
  public Inserted insert(long start, long length) {
    if (length == 0 || Long.compareUnsigned(start + length - 1, start) < 0) {
      return new Inserted(null, Errno.EOVERFLOW.negative());
    }
    Interval i = new Interval(nextId++, start, start + length - 1);
    if (activeRanges > 0) {
      if (invalidating()) {
        deferred.add(i); // the tree may not change while it is being walked: added at the end of the invalidation
      } else {
        invalidateSeq |= 1; // an unknown range is being invalidated: assume it covers the new interval
        addToTree(i);
      }
      i.seq = invalidateSeq; // odd: the first read_begin waits for this invalidation to end
    } else {
      i.seq = invalidateSeq - 1; // odd, and never equal to the current seq
      addToTree(i);
    }
    return new Inserted(i, 0);
  }

  private void addToTree(Interval i) {
    i.inTree = true;
    tree.add(i);
    tree.sort((a, b) -> Long.compareUnsigned(a.start, b.start));
  }

  /**
   * {@code mmu_interval_notifier_remove}: true when done at once; false when the remover must wait until the
   * invalidation in progress ends ({@code waiter} is parked and woken by {@link #end}).
   */
  public boolean remove(Interval i, W waiter) {
    Objects.requireNonNull(i, "interval");
    if (invalidating()) {
      if (!i.inTree) {
        deferred.remove(i); // inserted during this invalidation, not yet added: forget it
        return true;
      }
      i.removing = true;
      deferred.add(i);
      parked.add(new Parked<>(invalidateSeq, waiter));
      return false;
    }
    tree.remove(i);
    i.inTree = false;
    return true;
  }

  /** {@code mn_itree_inv_start_range} over {@code [start, end)}. */
  public Start start(long start, long end) {
    activeRanges++;
    List<Interval> hit = new ArrayList<>();
    for (Interval i : tree) {
      if (i.overlaps(start, end)) {
        hit.add(i);
      }
    }
    if (!hit.isEmpty()) {
      invalidateSeq |= 1;
    }
    return new Start(invalidateSeq, hit);
  }

  /** What a callback that returned {@code ok} means, on a blockable or non-blockable range. */
  public static CallbackOutcome callback(boolean ok, boolean blockable) {
    if (ok) {
      return CallbackOutcome.CONTINUE;
    }
    return blockable ? CallbackOutcome.WARN_AND_CONTINUE : CallbackOutcome.WOULD_BLOCK;
  }

  /** {@code mmu_interval_set_seq}: the driver records the seq of the invalidation it is in. */
  public void setSeq(Interval i, long seq) {
    i.seq = seq;
  }

  /**
   * {@code mn_itree_inv_end}: one active range fewer; when none is left and the seq is odd, it becomes even, the
   * deferred inserts and removes are applied, and the waiters whose seq is released are returned (wake them).
   */
  public List<W> end() {
    if (activeRanges == 0) {
      throw new IllegalStateException("an invalidation ended that did not start");
    }
    if (--activeRanges > 0 || !invalidating()) {
      return List.of();
    }
    invalidateSeq++;
    for (Interval i : deferred) {
      if (i.removing) {
        tree.remove(i);
        i.inTree = false;
        i.removing = false;
      } else {
        addToTree(i);
      }
    }
    deferred.clear();
    List<W> woken = new ArrayList<>();
    for (Iterator<Parked<W>> it = parked.iterator(); it.hasNext();) {
      Parked<W> p = it.next();
      if (p.seq() != invalidateSeq) {
        woken.add(p.waiter());
        it.remove();
      }
    }
    return woken;
  }

  /**
   * {@code mmu_interval_read_begin}: the interval's seq; when it equals the tree's (an invalidation that hit this
   * interval still runs) the reader waits — {@code waiter} is parked until {@link #end} releases that seq.
   */
  public ReadBegin readBegin(Interval i, W waiter) {
    long seq = i.seq;
    boolean waits = seq == invalidateSeq;
    if (waits) {
      parked.add(new Parked<>(seq, waiter));
    }
    return new ReadBegin(seq, waits);
  }

  /** {@code mmu_interval_read_retry}: true when the interval's seq moved since {@code seq} (retry the fault). */
  public boolean readRetry(Interval i, long seq) {
    return i.seq != seq;
  }
}
