package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * What a context owner knows of its fences: the live ones, the ones it is signalling, and a bounded record of
 * completions for late queries. Not an actor: owners embed it. Kernel facts used: one context signals in
 * seqno order (§1.2), so a completion evicted from the record but not later than the highest completed seqno
 * is reported as signalled without error.
 */
public final class ContextLedger {
  private final FenceContext context;
  private final boolean seqno64;
  private final FenceServices services;
  private final int capacity;
  /**
   * Live fences by seqno, as untyped refs: no box, entry or typed adapter is kept per pending fence (heap per pending
   * fence); {@link #live} wraps the one it returns.
   */
  private final SeqnoMap<org.apache.pekko.actor.ActorRef> live = new SeqnoMap<>();
  /** Live seqnos in order; the ones not being signalled ({@link #unsignalled}) decide whether a signal is in order. */
  private final SeqnoOrder order = new SeqnoOrder();
  private final Set<Long> signalling = new HashSet<>();
  private final LinkedHashMap<Long, FenceStatus> completed;
  private boolean anyCompleted;
  private long highestCompleted;

  public ContextLedger(FenceContext context, boolean seqno64, FenceServices services) {
    this.context = context;
    this.seqno64 = seqno64;
    this.services = services;
    this.capacity = services.completionRecord();
    this.completed = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, FenceStatus> eldest) {
        return size() > capacity;
      }
    };
  }

  public FenceContext context() {
    return context;
  }

  public boolean seqno64() {
    return seqno64;
  }

  public FenceId id(long seqno) {
    return new FenceId(context, seqno);
  }

  /** How many fences are being signalled (their signal sent, their completion not yet reported). */
  public int signallingCount() {
    return signalling.size();
  }

  public void register(long seqno, ActorRef<FenceProtocol.Command> fence) {
    live.put(seqno, Adapter.toClassic(fence));
    order.add(seqno);
  }

  public Optional<ActorRef<FenceProtocol.Command>> live(long seqno) {
    org.apache.pekko.actor.ActorRef fence = live.get(seqno);
    return fence == null ? Optional.empty() : Optional.of(Adapter.toTyped(fence));
  }

  /** Live and not being signalled. */
  private boolean unsignalled(long seqno) {
    return live.containsKey(seqno) && !signalling.contains(seqno);
  }

  /**
   * Owner-routed {@code dma_fence_signal}: true when the caller may forward the signal to the fence; false
   * (and a violation) when this seqno is already signalled or being signalled — the {@code -EINVAL} outcome,
   * decided here so it holds even after the fence actor has stopped.
   */
  public boolean beginSignal(long seqno) {
    if (completion(seqno).known() || signalling.contains(seqno)) {
      services.violation(Violation.Kind.DOUBLE_SIGNAL, id(seqno), "dma_fence_signal on a fence already signalled");
      return false;
    }
    if (!live.containsKey(seqno)) {
      return false;
    }
    // Signal order is the order signals are issued (the fences then signal concurrently, so completion reports
    // may arrive in any order). Checked against the earliest unsignalled seqno: O(log n). The unsigned order
    // ignores 32-bit wrap-around, which only a context past 2^32 fences would reach.
    signalling.add(seqno);
    int pending = live.size() - signalling.size();
    if (pending > 0) {
      long earliest = order.first(this::unsignalled, pending, seqno);
      if (earliest != seqno && Seqnos.isLater(seqno, earliest, seqno64)) {
        services.violation(Violation.Kind.OUT_OF_ORDER_SIGNAL, id(seqno),
            "signalled before " + id(earliest) + ", an earlier seqno of the same context");
      }
    }
    return true;
  }

  /**
   * {@code dma_fence_set_error} on a fence that has already signalled (or is being signalled): records the
   * violation, stores the error in the completion record as the kernel stores it in the fence, and returns
   * true. Returns false when the fence is still pending (the caller forwards the error to it).
   */
  public boolean setErrorAfterSignal(long seqno, int error) {
    ContextOwner.Completion c = completion(seqno);
    if (!c.known() && !signalling.contains(seqno)) {
      return false;
    }
    services.violation(Violation.Kind.ERROR_AFTER_SIGNAL, id(seqno),
        "dma_fence_set_error(" + Errno.describe(error) + ") after the fence signalled");
    if (error < 0 && error >= -Errno.MAX_ERRNO && c.known()) {
      completed.put(seqno, new FenceStatus(error, c.status().wallNanos(), c.status().modelNanos()));
    }
    return true;
  }

  /** A fence reported its completion (in any order: fences signal concurrently). */
  public void completed(long seqno, FenceStatus status) {
    live.remove(seqno); // and so out of the order too (lazily)
    signalling.remove(seqno);
    completed.put(seqno, status);
    if (!anyCompleted || Seqnos.isLater(seqno, highestCompleted, seqno64)) {
      highestCompleted = seqno;
      anyCompleted = true;
    }
  }

  public ContextOwner.Completion completion(long seqno) {
    FenceId fid = id(seqno);
    FenceStatus status = completed.get(seqno);
    if (status != null) {
      return new ContextOwner.Completion(fid, true, status);
    }
    if (!live.containsKey(seqno) && anyCompleted && Seqnos.isLaterOrSame(highestCompleted, seqno, seqno64)) {
      return new ContextOwner.Completion(fid, true, new FenceStatus(1, 0, 0)); // evicted from the record
    }
    return new ContextOwner.Completion(fid, false, FenceStatus.PENDING);
  }

  /** Answers a {@link ContextOwner.QueryCompletion}; a fence of another context is unknown. */
  public void answer(ContextOwner.QueryCompletion query) {
    if (!query.id().context().equals(context)) {
      query.replyTo().tell(new ContextOwner.Completion(query.id(), false, FenceStatus.PENDING));
      return;
    }
    query.replyTo().tell(completion(query.id().seqno()));
  }

  /** Signals every live fence with {@code error}, in seqno order (teardown: close, unplug). */
  public void signalAll(Errno error, long modelNanos) {
    java.util.Arrays.stream(live.keys()).boxed()
        .sorted((a, b) -> Seqnos.isLater(a, b, seqno64) ? 1 : a.equals(b) ? 0 : -1)
        .forEach(seqno -> {
          if (signalling.add(seqno)) {
            live(seqno).orElseThrow().tell(new FenceProtocol.Signal(error.negative(), modelNanos, null));
          }
        });
  }
}
