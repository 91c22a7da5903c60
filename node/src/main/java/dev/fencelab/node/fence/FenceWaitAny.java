package dev.fencelab.node.fence;

import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code dma_fence_wait_any_timeout} (kernel-semantics §1.5): one {@link FenceWait} child per fence, one reply.
 *
 * <ul>
 *   <li>no fences or a negative timeout → {@code -EINVAL};
 *   <li>timeout 0 → 1 with the first signalled index (in index order) if any is signalled, else 0;
 *   <li>otherwise the remaining timeout with the index of the first fence to signal, or 0 on timeout.
 * </ul>
 * When it replies it stops, and its remaining children stop with it and remove their callbacks.
 */
public final class FenceWaitAny extends AbstractBehavior<FenceWaitAny.Command> {
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  private record ChildDone(WaitResult result) implements Command {}

  private final boolean poll;
  private final ActorRef<WaitResult> replyTo;
  private final WaitResult[] results;
  private int settled;

  public static Behavior<Command> create(
      List<FenceRef> fences, Duration timeout, String waiter, String reason, ActorRef<WaitResult> replyTo,
      FenceServices services) {
    return Behaviors.setup(context -> {
      if (fences.isEmpty() || timeout != null && timeout.isNegative()) {
        replyTo.tell(new WaitResult(FenceRef.stub().id(), Errno.EINVAL.negative(), FenceStatus.PENDING, -1));
        return Behaviors.stopped();
      }
      return new FenceWaitAny(context, List.copyOf(fences), timeout, waiter, reason, replyTo, services);
    });
  }

  private FenceWaitAny(
      ActorContext<Command> context, List<FenceRef> fences, Duration timeout, String waiter, String reason,
      ActorRef<WaitResult> replyTo, FenceServices services) {
    super(context);
    this.poll = timeout != null && timeout.isZero();
    this.replyTo = replyTo;
    this.results = new WaitResult[fences.size()];
    ActorRef<WaitResult> adapter = context.messageAdapter(WaitResult.class, ChildDone::new);
    for (int i = 0; i < fences.size(); i++) {
      FenceWaits.start(context, fences.get(i), timeout, waiter, reason + " [any " + i + "]", i, adapter, services);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(ChildDone.class, this::onChildDone).build();
  }

  private Behavior<Command> onChildDone(ChildDone done) {
    WaitResult r = done.result();
    if (results[r.index()] == null) {
      results[r.index()] = r;
      settled++;
    }
    if (!poll && r.signalled()) {
      replyTo.tell(r);
      return Behaviors.stopped();
    }
    if (settled < results.length) {
      return this;
    }
    List<WaitResult> signalled = new ArrayList<>();
    for (WaitResult x : results) {
      if (x.signalled()) {
        signalled.add(x);
      }
    }
    replyTo.tell(signalled.isEmpty()
        ? new WaitResult(results[0].id(), 0, FenceStatus.PENDING, -1)
        : new WaitResult(signalled.get(0).id(), 1, signalled.get(0).status(), signalled.get(0).index()));
    return Behaviors.stopped();
  }
}
