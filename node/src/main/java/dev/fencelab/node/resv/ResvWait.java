package dev.fencelab.node.resv;

import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.FenceWaits;
import dev.fencelab.node.fence.WaitResult;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code dma_resv_wait_timeout} / {@code dma_resv_test_signaled} over a snapshot of a reservation object's fences:
 * one {@link FenceWait} child per fence, one reply — the remaining timeout ({@code > 0}) once all signalled, 0 as
 * soon as one timed out (a poll: one is still pending). No fences: signalled at once.
 */
public final class ResvWait extends AbstractBehavior<ResvWait.Command> {
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  private record ChildDone(WaitResult result) implements Command {}

  private final ActorRef<WaitResult> replyTo;
  private final Duration timeout;
  private final long start = System.nanoTime();
  private int pending;
  /** The latest model time among the fences waited for (the wait ends after all of them). */
  private long modelNanos;

  /**
   * Waits for {@code fences} (a snapshot of {@code resv}'s) on the caller's member: each wait is traced there and ends
   * with -ENODEV if its fence's member dies.
   */
  public static Behavior<Command> create(
      String resv, List<FenceRef> fences, Duration timeout, String waiter, ActorRef<WaitResult> replyTo, FenceServices services) {
    return Behaviors.setup(context -> {
      if (fences.isEmpty()) {
        replyTo.tell(new WaitResult(FenceRef.stub().id(), WaitResult.remaining(timeout, System.nanoTime()), new FenceStatus(1, 0, 0), -1));
        return Behaviors.stopped();
      }
      return new ResvWait(context, resv, fences, timeout, waiter, replyTo, services);
    });
  }

  private ResvWait(ActorContext<Command> context, String resv, List<FenceRef> fences, Duration timeout, String waiter,
      ActorRef<WaitResult> replyTo, FenceServices services) {
    super(context);
    this.replyTo = replyTo;
    this.timeout = timeout;
    this.pending = fences.size();
    ActorRef<WaitResult> adapter = context.messageAdapter(WaitResult.class, ChildDone::new);
    for (FenceRef f : fences) {
      FenceWaits.start(context, f, timeout, waiter, "dma_resv_wait_timeout " + resv, -1, adapter, services);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(ChildDone.class, this::onChildDone).build();
  }

  private Behavior<Command> onChildDone(ChildDone done) {
    if (!done.result().signalled()) {
      replyTo.tell(new WaitResult(FenceRef.stub().id(), 0, FenceStatus.PENDING, -1));
      return Behaviors.stopped(); // the other waits stop with us
    }
    modelNanos = Math.max(modelNanos, done.result().status().modelNanos());
    if (--pending > 0) {
      return this;
    }
    replyTo.tell(new WaitResult(FenceRef.stub().id(), WaitResult.remaining(timeout, start), new FenceStatus(1, 0, modelNanos), -1));
    return Behaviors.stopped();
  }
}
