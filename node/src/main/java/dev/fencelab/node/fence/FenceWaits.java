package dev.fencelab.node.fence;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * Starts a wait on a fence ({@code dma_fence_wait_timeout}, kernel-semantics §1.5) on behalf of the calling actor, and
 * puts it where it costs least: a wait on a fence of another member is an entry in the member's wait registry
 * ({@link FenceLinks.Wait}), with no actor of its own; a wait on a local fence, a poll, a stub or an invalid timeout is a
 * {@link FenceWait} child. Either way it behaves the same: one {@link WaitResult} to {@code replyTo}, the same trace
 * events and wait-for edge, the same timeout, wait cap and {@code -ENODEV}, and it ends, traced as cancelled, when the
 * caller stops.
 *
 * <p>Not for fence actors (containers waiting on their members): the registry watches its callers, and the link
 * already watches the fences subscribed to it.
 */
public final class FenceWaits {
  private FenceWaits() {}

  /** A started wait; {@link #cancel()} ends it without a result (wait-any: another fence won). */
  public interface Handle {
    void cancel();
  }

  /**
   * @param timeout null for an unbounded wait (bounded by the wait cap); zero to poll
   * @param index correlation, returned in the result ({@code -1} for none)
   */
  public static Handle start(
      ActorContext<?> context, FenceRef fence, Duration timeout, String waiter, String reason, int index,
      ActorRef<WaitResult> replyTo, FenceServices services) {
    boolean remote = !fence.isStub() && fence.actor().path().address().hasGlobalScope();
    if (remote && (timeout == null || !timeout.isNegative() && !timeout.isZero())) {
      long waitId = services.nextWaitId();
      ActorRef<FenceLinks.Command> link = FenceLinks.get(context.getSystem());
      link.tell(new FenceLinks.Wait(waitId, fence, timeout, waiter, reason, index, replyTo, context.getSelf(), services));
      return () -> link.tell(new FenceLinks.CancelWait(waitId));
    }
    ActorRef<FenceWait.Command> child = context.spawnAnonymous(FenceWait.create(fence, timeout, waiter, reason, index, replyTo, services));
    return () -> child.tell(FenceWait.cancel());
  }
}
