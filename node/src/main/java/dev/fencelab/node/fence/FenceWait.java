package dev.fencelab.node.fence;

import dev.fencelab.node.trace.TraceRecorder;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One wait on one fence ({@code dma_fence_wait_timeout}, kernel-semantics §1.5), as a short-lived actor on
 * the waiter's member. It never blocks a thread and always ends: signalled, signalled with an error, or
 * timed out — and exactly one {@link WaitResult} goes to {@code replyTo}.
 *
 * <p>How it ends:
 * <ul>
 *   <li>the fence's callback arrives ({@link FenceProtocol.Signalled}) → signalled; for a fence of another member it
 *       comes through this member's {@link FenceLinks}, which also ends the wait with {@code -ENODEV} when the cluster
 *       removes the fence's member;
 *   <li>the fence actor is gone before its callback arrived (it had already stopped, or Pekko delivered the
 *       death notice first — a system message, not ordered with the callback) → the context owner is asked
 *       how the fence ended; if the owner is gone too (the member died: a SIGKILLed node is seen here once the
 *       cluster has removed it) → signalled with {@code -ENODEV};
 *   <li>the timeout passes → result 0; the callback is removed. An unbounded wait is bounded by the wait cap
 *       and, if it hits it, ends timed out with a {@link Violation.Kind#WAIT_CAP_EXCEEDED} violation.
 * </ul>
 * While it runs, the wait is an edge in the member's {@link WaitGraph}.
 */
public final class FenceWait extends AbstractBehavior<FenceWait.Command> {
  /** Internal only. */
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  private record Callback(FenceProtocol.Callback callback) implements Command {}

  private record OwnerAnswered(ContextOwner.Completion completion) implements Command {}

  private enum Timeout implements Command {
    INSTANCE
  }

  private enum Cancel implements Command {
    INSTANCE
  }

  private final FenceRef fence;
  private final Duration timeout; // null: unbounded
  private final long startNanos;
  private final int index;
  private final ActorRef<WaitResult> replyTo;
  private final FenceServices services;
  private final long waitId;
  private final boolean bookkeeping;
  private final ActorRef<FenceProtocol.Callback> callbackAdapter;
  /** Waiting through {@link FenceLinks} (a fence of another member), not on the fence's actor directly. */
  private final boolean linked;
  private boolean askedOwner;
  private boolean signalled;
  private boolean ended;
  private final TraceRecorder trace;
  private final String waiter;

  /**
   * @param timeout null for an unbounded wait ({@code MAX_SCHEDULE_TIMEOUT}); zero to poll
   * @param waiter who waits, for the wait-for graph (e.g. {@code n2/proc1})
   * @param reason why, for the wait-for graph (e.g. {@code sync_file poll}, {@code job in-fence})
   */
  public static Behavior<Command> create(
      FenceRef fence, Duration timeout, String waiter, String reason, ActorRef<WaitResult> replyTo, FenceServices services) {
    return create(fence, timeout, waiter, reason, -1, replyTo, services);
  }

  /** As {@link #create(FenceRef, Duration, String, String, ActorRef, FenceServices)}, with {@code index} in the result (correlation). */
  public static Behavior<Command> create(
      FenceRef fence, Duration timeout, String waiter, String reason, int index, ActorRef<WaitResult> replyTo,
      FenceServices services) {
    return create(fence, timeout, waiter, reason, index, false, replyTo, services);
  }

  /**
   * Bookkeeping, not a wait: learn when {@code fence} signals (or its member dies), for as long as the parent
   * lives. No wait-for edge, no timeout, no wait-cap violation — a reservation object tracking its fences is not
   * a thread blocked on them.
   */
  public static Behavior<Command> follow(FenceRef fence, int index, ActorRef<WaitResult> replyTo, FenceServices services) {
    return create(fence, null, "", "", index, true, replyTo, services);
  }

  private static Behavior<Command> create(
      FenceRef fence, Duration timeout, String waiter, String reason, int index, boolean bookkeeping,
      ActorRef<WaitResult> replyTo, FenceServices services) {
    return Behaviors.setup(context -> {
      if (timeout != null && timeout.isNegative()) {
        replyTo.tell(new WaitResult(fence.id(), Errno.EINVAL.negative(), FenceStatus.PENDING, index));
        return Behaviors.stopped();
      }
      if (fence.isStub()) {
        replyTo.tell(new WaitResult(fence.id(), WaitResult.remaining(timeout, System.nanoTime()), fence.stubStatus(), index));
        return Behaviors.stopped();
      }
      return Behaviors.withTimers(timers ->
          new FenceWait(context, timers, fence, timeout, waiter, reason, index, bookkeeping, replyTo, services));
    });
  }

  private FenceWait(
      ActorContext<Command> context, TimerScheduler<Command> timers, FenceRef fence, Duration timeout, String waiter,
      String reason, int index, boolean bookkeeping, ActorRef<WaitResult> replyTo, FenceServices services) {
    super(context);
    this.bookkeeping = bookkeeping;
    this.fence = fence;
    this.timeout = timeout;
    this.startNanos = System.nanoTime();
    this.index = index;
    this.replyTo = replyTo;
    this.services = services;
    this.waitId = services.nextWaitId();
    this.callbackAdapter = context.messageAdapter(FenceProtocol.Callback.class, Callback::new);
    this.waiter = waiter;
    this.trace = TraceRecorder.get(context.getSystem());
    if (!bookkeeping) {
      WaitEvents.begin(trace, services, waitId, waiter, fence, reason);
    }
    boolean poll = timeout != null && timeout.isZero();
    this.linked = !poll && fence.actor().path().address().hasGlobalScope();
    if (linked) { // a fence of another member: through this member's link to it (one subscription per fence and member)
      FenceLinks.get(context.getSystem()).tell(new FenceLinks.Watch(fence, callbackAdapter));
    } else {
      context.watch(fence.actor());
      fence.actor().tell(new FenceProtocol.AddCallback(callbackAdapter, poll));
    }
    if (!poll && !bookkeeping) {
      timers.startSingleTimer(Timeout.INSTANCE, timeout == null ? services.waitCap() : timeout);
    }
  }

  /** Stops a wait early (wait-any: another fence won). The wait ends without a reply. */
  static Command cancel() {
    return Cancel.INSTANCE;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Callback.class, this::onCallback)
        .onMessage(OwnerAnswered.class, this::onOwnerAnswered)
        .onMessageEquals(Timeout.INSTANCE, this::onTimeout)
        .onMessageEquals(Cancel.INSTANCE, () -> {
          traceEnd(0, FenceStatus.PENDING, "cancelled");
          return Behaviors.stopped();
        })
        .onSignal(Terminated.class, this::onTerminated)
        .onSignal(PostStop.class, stop -> onPostStop())
        .build();
  }

  private Behavior<Command> onCallback(Callback callback) {
    if (callback.callback() instanceof FenceProtocol.Signalled signalled) {
      return finish(WaitResult.remaining(timeout, startNanos), arrived(signalled.status()));
    }
    // CallbackAdded: only polls ask for it — the fence is pending, so the poll answers 0.
    return finish(0, FenceStatus.PENDING);
  }

  private Behavior<Command> onTerminated(Terminated terminated) {
    if (terminated.getRef().equals(fence.actor()) && !askedOwner) {
      askedOwner = true;
      getContext().watch(fence.owner());
      ActorRef<ContextOwner.Completion> adapter = getContext().messageAdapter(ContextOwner.Completion.class, OwnerAnswered::new);
      fence.owner().tell(new ContextOwner.QueryCompletion(fence.id(), adapter));
      return this;
    }
    if (terminated.getRef().equals(fence.owner())) {
      return finish(WaitResult.remaining(timeout, startNanos), WaitEvents.memberGone());
    }
    return this;
  }

  private Behavior<Command> onOwnerAnswered(OwnerAnswered answered) {
    ContextOwner.Completion c = answered.completion();
    FenceStatus status = c.known() ? arrived(c.status()) : WaitEvents.memberGone();
    return finish(WaitResult.remaining(timeout, startNanos), status);
  }

  private FenceStatus arrived(FenceStatus status) {
    return WaitEvents.arrived(getContext().getSystem(), fence, status);
  }

  private Behavior<Command> onTimeout() {
    if (timeout == null) {
      services.violation(Violation.Kind.WAIT_CAP_EXCEEDED, fence.id(),
          "an unbounded wait lasted " + services.waitCap() + " (the wait cap); in the kernel it would still hang");
    }
    return finish(0, FenceStatus.PENDING);
  }

  private Behavior<Command> finish(long result, FenceStatus status) {
    signalled = result > 0;
    traceEnd(result, status, WaitEvents.how(result));
    replyTo.tell(new WaitResult(fence.id(), result, status, index));
    return Behaviors.stopped();
  }

  private void traceEnd(long result, FenceStatus status, String how) {
    ended = true;
    if (!bookkeeping) {
      WaitEvents.end(trace, waitId, waiter, fence, result, status, how);
    }
  }

  private Behavior<Command> onPostStop() {
    if (!bookkeeping) {
      services.waits().tell(new WaitGraph.RemoveEdge(waitId));
      if (!ended) {
        traceEnd(0, FenceStatus.PENDING, "cancelled: the waiter went away"); // every wait ends, and is traced
      }
    }
    if (!signalled) {
      // Timed out, polled a pending fence, or cancelled: the callback must not outlive the wait.
      if (linked) {
        FenceLinks.get(getContext().getSystem()).tell(new FenceLinks.Unwatch(fence.id(), callbackAdapter));
      } else {
        fence.actor().tell(new FenceProtocol.RemoveCallback(callbackAdapter, null));
      }
    }
    return this;
  }
}
