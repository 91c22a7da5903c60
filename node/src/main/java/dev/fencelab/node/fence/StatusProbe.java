package dev.fencelab.node.fence;

import dev.fencelab.protocol.Errno;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code dma_fence_get_status} without enabling signalling (kernel-semantics §1.3): a short-lived actor that asks a
 * fence for its {@link FenceProtocol.StatusReply}, and — when the fence actor has already stopped (it signalled) —
 * its context owner. If the owner is gone too (its member died) the fence reads as signalled with {@code -ENODEV},
 * as every waiter sees it. One reply, then it stops.
 *
 * <p>{@code first} is sent to the fence before the query, from this actor, so it is ordered before it
 * ({@code dma_fence_enable_sw_signaling} then a status read).
 */
public final class StatusProbe extends AbstractBehavior<StatusProbe.Command> {
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  private record Reply(FenceProtocol.StatusReply reply) implements Command {}

  private record OwnerAnswered(ContextOwner.Completion completion) implements Command {}

  private final FenceRef fence;
  private final ActorRef<FenceProtocol.StatusReply> replyTo;
  private boolean askedOwner;

  public static Behavior<Command> create(FenceRef fence, List<FenceProtocol.Command> first, ActorRef<FenceProtocol.StatusReply> replyTo) {
    return Behaviors.setup(context -> {
      if (fence.isStub()) {
        replyTo.tell(new FenceProtocol.StatusReply(fence.id(), fence.stubStatus(), true, 0, 0));
        return Behaviors.stopped();
      }
      return new StatusProbe(context, fence, first, replyTo);
    });
  }

  private StatusProbe(ActorContext<Command> context, FenceRef fence, List<FenceProtocol.Command> first,
      ActorRef<FenceProtocol.StatusReply> replyTo) {
    super(context);
    this.fence = fence;
    this.replyTo = replyTo;
    context.watch(fence.actor());
    first.forEach(fence.actor()::tell);
    fence.actor().tell(new FenceProtocol.GetStatus(context.messageAdapter(FenceProtocol.StatusReply.class, Reply::new)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Reply.class, r -> finish(r.reply()))
        .onMessage(OwnerAnswered.class, a -> finish(new FenceProtocol.StatusReply(fence.id(),
            a.completion().known() ? a.completion().status() : FenceStatus.signalled(Errno.ENODEV.negative(), Clocks.wallNanos(), 0),
            true, 0, 0)))
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  private Behavior<Command> onTerminated(Terminated terminated) {
    if (terminated.getRef().equals(fence.actor()) && !askedOwner) {
      askedOwner = true;
      getContext().watch(fence.owner());
      fence.owner().tell(new ContextOwner.QueryCompletion(fence.id(),
          getContext().messageAdapter(ContextOwner.Completion.class, OwnerAnswered::new)));
      return this;
    }
    if (terminated.getRef().equals(fence.owner())) {
      return finish(new FenceProtocol.StatusReply(fence.id(), FenceStatus.signalled(Errno.ENODEV.negative(), Clocks.wallNanos(), 0),
          true, 0, 0));
    }
    return this;
  }

  private Behavior<Command> finish(FenceProtocol.StatusReply reply) {
    replyTo.tell(reply);
    return Behaviors.stopped();
  }
}
