package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

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
  private final Map<Long, ActorRef<FenceProtocol.Command>> live = new LinkedHashMap<>();
  /** Live seqnos not yet being signalled, in order: the earliest decides whether a signal is in order. */
  private final java.util.TreeSet<Long> unsignalled = new java.util.TreeSet<>(Long::compareUnsigned);
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
    Long key = seqno; // one box for both (heap per pending fence)
    live.put(key, fence);
    unsignalled.add(key);
  }

  public Optional<ActorRef<FenceProtocol.Command>> live(long seqno) {
    return Optional.ofNullable(live.get(seqno));
  }

  public Map<Long, ActorRef<FenceProtocol.Command>> liveFences() {
    return live;
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
    unsignalled.remove(seqno);
    Long earliest = unsignalled.isEmpty() ? null : unsignalled.first();
    if (earliest != null && Seqnos.isLater(seqno, earliest, seqno64)) {
      services.violation(Violation.Kind.OUT_OF_ORDER_SIGNAL, id(seqno),
          "signalled before " + id(earliest) + ", an earlier seqno of the same context");
    }
    signalling.add(seqno);
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
    live.remove(seqno);
    unsignalled.remove(seqno); // signalled straight through the fence actor, not through the owner
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
    live.entrySet().stream()
        .sorted((a, b) -> Seqnos.isLater(a.getKey(), b.getKey(), seqno64) ? 1 : a.getKey().equals(b.getKey()) ? 0 : -1)
        .forEach(e -> {
          unsignalled.remove(e.getKey());
          if (signalling.add(e.getKey())) {
            e.getValue().tell(new FenceProtocol.Signal(error.negative(), modelNanos, null));
          }
        });
  }
}
