package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code dma_fence_chain_find_seqno} (kernel-semantics §1.7), as a walk along chain points that may live on
 * several members:
 *
 * <ul>
 *   <li>{@code seqno == 0} → 0, the head unchanged;
 *   <li>the head is not a chain, or its seqno is below {@code seqno} → {@code -EINVAL};
 *   <li>otherwise, starting at the head, while the current point is of the head's context and its
 *       {@code prev_seqno >= seqno}, move to the next earlier point whose contained fence is unsignalled
 *       ({@code dma_fence_chain_walk}, which skips — garbage-collects — points whose fence signalled); the
 *       result is the point where that stops, or NULL (here: a null fence) when every earlier fence signalled.
 * </ul>
 * A point that has stopped has signalled, so everything before it has too: its owner answers the step from its
 * record. If the owner's member is gone as well, the walk ends with {@code -ENODEV}.
 */
public final class ChainFindSeqno extends AbstractBehavior<ChainFindSeqno.Command> {
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  private record Stepped(FenceChain.ChainStepReply reply) implements Command {}

  private record Polled(WaitResult result) implements Command {}

  /** The outcome: {@code result} 0 or a negative errno; {@code point} the covering point, or null (NULL). */
  public record SeqnoFound(int result, FenceRef point) implements NodeWireMessage {}

  private final FenceRef head;
  private final long seqno;
  private final ActorRef<SeqnoFound> replyTo;
  private final FenceServices services;
  private final ActorRef<FenceChain.ChainStepReply> stepAdapter;
  private FenceRef asking;
  /** true: the point asked is the iterator's current element; false: a candidate the walk may skip. */
  private boolean current;
  private boolean askedOwner;

  public static Behavior<Command> create(FenceRef head, long seqno, ActorRef<SeqnoFound> replyTo, FenceServices services) {
    return Behaviors.setup(context -> {
      if (seqno == 0) {
        replyTo.tell(new SeqnoFound(0, head));
        return Behaviors.stopped();
      }
      if (head.kind() != FenceRef.Kind.CHAIN || Long.compareUnsigned(head.id().seqno(), seqno) < 0) {
        replyTo.tell(new SeqnoFound(Errno.EINVAL.negative(), null));
        return Behaviors.stopped();
      }
      return new ChainFindSeqno(context, head, seqno, replyTo, services);
    });
  }

  private ChainFindSeqno(
      ActorContext<Command> context, FenceRef head, long seqno, ActorRef<SeqnoFound> replyTo, FenceServices services) {
    super(context);
    this.head = head;
    this.seqno = seqno;
    this.replyTo = replyTo;
    this.services = services;
    this.stepAdapter = context.messageAdapter(FenceChain.ChainStepReply.class, Stepped::new);
    ask(head, true);
  }

  private void ask(FenceRef point, boolean asCurrent) {
    asking = point;
    current = asCurrent;
    askedOwner = false;
    getContext().watch(point.actor());
    point.actor().tell(new FenceChain.ChainStep(stepAdapter));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Stepped.class, this::onStepped)
        .onMessage(Polled.class, this::onPolled)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  private Behavior<Command> onStepped(Stepped stepped) {
    FenceChain.ChainStepReply r = stepped.reply();
    if (!r.id().equals(asking.id())) {
      return this; // a late answer from a point we already gave up on
    }
    getContext().unwatch(asking.actor());
    if (!current && r.containedSignalled()) {
      return advance(r); // walk: a point whose fence signalled is skipped (GC)
    }
    if (!r.id().context().equals(head.id().context()) || Long.compareUnsigned(r.prevSeqno(), seqno) < 0) {
      return reply(0, asking);
    }
    return advance(r);
  }

  private Behavior<Command> advance(FenceChain.ChainStepReply r) {
    FenceRef next = r.prev();
    if (next == null) {
      return reply(0, null);
    }
    if (next.kind() == FenceRef.Kind.CHAIN) {
      ask(next, false);
      return this;
    }
    // A non-chain prev ends the chain: it is the result unless it has signalled (then NULL).
    asking = next;
    getContext().spawnAnonymous(FenceWait.create(next, Duration.ZERO, "find_seqno", "chain walk",
        getContext().messageAdapter(WaitResult.class, Polled::new), services));
    return this;
  }

  private Behavior<Command> onPolled(Polled polled) {
    return polled.result().signalled() ? reply(0, null) : reply(0, asking);
  }

  private Behavior<Command> onTerminated(Terminated terminated) {
    if (asking != null && terminated.getRef().equals(asking.actor()) && !askedOwner) {
      askedOwner = true; // the point signalled and stopped: its owner answers the step
      getContext().watch(asking.owner());
      asking.owner().tell(new Containers.QueryChainStep(asking.id(), stepAdapter));
      return this;
    }
    if (asking != null && terminated.getRef().equals(asking.owner())) {
      return reply(Errno.ENODEV.negative(), null);
    }
    return this;
  }

  private Behavior<Command> reply(int result, FenceRef point) {
    replyTo.tell(new SeqnoFound(result, point));
    return Behaviors.stopped();
  }
}
