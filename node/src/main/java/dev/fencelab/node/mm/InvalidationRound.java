package dev.fencelab.node.mm;

import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.node.mm.IntervalNotifiers.Interval;
import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * One call's invalidation ({@code mmu_notifier_invalidate_range_start} … {@code _end}) over its ranges, range by range:
 * start (the seq turns odd if an interval overlaps), then the {@code invalidate} callback of every overlapping
 * interval <em>one after the other</em>, as mn_itree_invalidate calls them; then the change is applied and every
 * started range ends (the seq turns even, deferred inserts and removes apply, read_begin waiters wake). A callback that
 * returns false on a non-blockable range ends the round at once with -EAGAIN and nothing applied; on a blockable one
 * it is the kernel's WARN and the round goes on.
 */
final class InvalidationRound {
  /** The model time its current callback was called at, when that callback is a remote driver's (link_delay). */
  long calledAtModel;

  /** What a round needs from its mm: call one interval's callback, wake parked waiters, report a WARN, trace. */
  interface Host {
    void call(InvalidationRound round, Interval interval, long seq);

    void wake(List<Runnable> woken);

    void warnRefused(InvalidationRound round, Interval interval);

    void ended(InvalidationRound round, int result);
  }

  final long id;
  final List<Invalidation> ranges;
  final boolean blockable;
  final String owner;
  final String why;
  final long startNanos = System.nanoTime();
  private final IntervalNotifiers<Runnable> notifiers;
  private final Host host;
  private final Runnable apply;
  private final IntConsumer done;
  private int range = -1;
  private int started;
  private List<Interval> hit = List.of();
  private int next;
  private long seq;
  private Interval calling;
  private int callbacks;
  private boolean finished;

  InvalidationRound(long id, List<Invalidation> ranges, boolean blockable, String owner, String why, IntervalNotifiers<Runnable> notifiers,
      Host host, Runnable apply, IntConsumer done) {
    this.id = id;
    this.ranges = List.copyOf(ranges);
    this.blockable = blockable;
    this.owner = owner;
    this.why = why;
    this.notifiers = notifiers;
    this.host = host;
    this.apply = apply;
    this.done = done;
  }

  /** The interval whose callback runs now, or null. */
  Interval calling() {
    return calling;
  }

  int callbacks() {
    return callbacks;
  }

  boolean finished() {
    return finished;
  }

  MmuEvent event() {
    return ranges.isEmpty() ? MmuEvent.UNMAP : ranges.get(0).event();
  }

  void start() {
    nextRange();
  }

  private void nextRange() {
    range++;
    if (range == ranges.size()) {
      apply.run();
      finish(0);
      return;
    }
    Invalidation r = ranges.get(range);
    IntervalNotifiers.Start s = notifiers.start(r.start(), r.end());
    started++;
    seq = s.seq();
    hit = s.hit();
    next = 0;
    nextCallback();
  }

  private void nextCallback() {
    while (next < hit.size()) {
      Interval i = hit.get(next++);
      if (!i.inTree()) {
        continue; // removed (its subscriber is gone) since the range started
      }
      calling = i;
      callbacks++;
      notifiers.setSeq(i, seq); // the callback's first act under its lock: mmu_interval_set_seq(sub, cur_seq)
      host.call(this, i, seq);
      return;
    }
    calling = null;
    nextRange();
  }

  /** The callback of {@code interval} returned {@code ok}. Ignored unless it is the one running. */
  void returned(long interval, boolean ok) {
    if (finished || calling == null || calling.id() != interval) {
      return;
    }
    switch (IntervalNotifiers.callback(ok, blockable)) {
      case CONTINUE -> nextCallback();
      case WARN_AND_CONTINUE -> {
        host.warnRefused(this, calling);
        nextCallback();
      }
      case WOULD_BLOCK -> {
        calling = null;
        finish(Errno.EAGAIN.negative());
      }
    }
  }

  private void finish(int result) {
    finished = true;
    for (int k = 0; k < started; k++) {
      host.wake(notifiers.end());
    }
    host.ended(this, result);
    done.accept(result);
  }
}
