package dev.fencelab.node.resv;

import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The {@code ww_mutex} of one reservation object, wait-die flavour (kernel-semantics §1.9): the state and the
 * decisions, no messaging. A free lock is granted; its holder locking again gets -EALREADY; a younger context (larger
 * stamp) that is not in its slow path dies with -EDEADLK (it backs off, releases what it holds, and retries with
 * {@code lock_slow}); an older one, or one in the slow path, waits. On release the oldest waiter gets the lock.
 * {@code trylock} never waits: -EBUSY.
 *
 * @param <R> whom a grant is answered to (the waiter's reply reference)
 */
final class WwMutex<R> {
  /** A context waiting for the lock, and whom to answer. */
  record Waiter<R>(AcquireCtx ctx, R replyTo) {}

  /** What a lock call does now. */
  enum Outcome { GRANTED, QUEUED, ALREADY_HELD, DIE }

  private AcquireCtx holder;
  private R holderRef;
  private final List<Waiter<R>> waiters = new ArrayList<>();

  /** {@code ww_mutex_lock} ({@code slow}: {@code ww_mutex_lock_slow}). GRANTED makes {@code ctx} the holder. */
  Outcome lock(AcquireCtx ctx, boolean slow, R replyTo) {
    Objects.requireNonNull(ctx, "ctx");
    if (holder == null) {
      grant(ctx, replyTo);
      return Outcome.GRANTED;
    }
    if (holder.equals(ctx)) {
      return Outcome.ALREADY_HELD;
    }
    if (!slow && !ctx.olderThan(holder)) {
      return Outcome.DIE;
    }
    waiters.add(new Waiter<>(ctx, replyTo));
    return Outcome.QUEUED;
  }

  /** The errno a lock call answers now (0 when granted); a queued call is answered later. */
  static int errno(Outcome outcome) {
    return switch (outcome) {
      case GRANTED, QUEUED -> 0;
      case ALREADY_HELD -> Errno.EALREADY.negative();
      case DIE -> Errno.EDEADLK.negative();
    };
  }

  /** {@code ww_mutex_trylock}: the lock if free, else false (-EBUSY). */
  boolean tryLock(AcquireCtx ctx, R replyTo) {
    if (holder != null) {
      return false;
    }
    grant(ctx, replyTo);
    return true;
  }

  private void grant(AcquireCtx ctx, R replyTo) {
    holder = ctx;
    holderRef = replyTo;
  }

  AcquireCtx holder() {
    return holder;
  }

  R holderRef() {
    return holderRef;
  }

  boolean heldBy(AcquireCtx ctx) {
    return holder != null && holder.equals(ctx);
  }

  /** Unlocks; the oldest waiter, if any, is the new holder and is returned (answer it), else null. */
  Waiter<R> release() {
    holder = null;
    holderRef = null;
    Waiter<R> oldest = waiters.stream().min(Comparator.comparingLong(w -> w.ctx().stamp())).orElse(null);
    if (oldest != null) {
      waiters.remove(oldest);
      grant(oldest.ctx(), oldest.replyTo());
    }
    return oldest;
  }

  /** Gives up the wait of the context with {@code stamp}; returns it (to be answered -ETIMEDOUT), or null. */
  Waiter<R> abandon(long stamp) {
    for (Waiter<R> w : waiters) {
      if (w.ctx().stamp() == stamp) {
        waiters.remove(w);
        return w;
      }
    }
    return null;
  }
}
