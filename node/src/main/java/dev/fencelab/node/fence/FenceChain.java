package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.NodeWireMessage;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One point of a {@code dma_fence_chain} (kernel-semantics §1.7): a timeline point (64-bit seqno) that
 * contains one fence and links to the previous point. It signals once its contained fence and every earlier
 * point's fence have signalled — that is, once its contained fence and its {@code prev} have signalled.
 * Errors do not propagate through chains (§1.7, as read): a chain point always signals with status 1.
 *
 * <p>Owns: its callbacks, whether its contained fence and its prev have signalled. Created by
 * {@link Containers}, which also answers for it after it stops. Talks to: a {@link FenceWait} child on the
 * contained fence and one on {@code prev}. Answers {@link ChainStep} (one step of {@code find_seqno} /
 * {@code dma_fence_chain_walk}) and {@link FenceProtocol.GetMembers}. A contained fence that is itself a
 * chain is a {@link Violation.Kind#NESTED_CONTAINER} violation (the kernel WARNs).
 */
public final class FenceChain extends AbstractBehavior<FenceProtocol.Command> {

  /** One step of a chain walk: what this point knows of itself and its link. */
  public record ChainStep(ActorRef<ChainStepReply> replyTo) implements FenceProtocol.Command, NodeWireMessage {
    public ChainStep {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * @param prev the previous point while any earlier fence is unsignalled; null once all are (GC'd)
   * @param prevSeqno the seqno of the previous point at init ({@code prev_seqno}, never updated by GC)
   */
  public record ChainStepReply(FenceId id, boolean containedSignalled, long prevSeqno, FenceRef prev)
      implements NodeWireMessage {
    public ChainStepReply {
      Objects.requireNonNull(id, "id");
    }
  }

  private record Followed(WaitResult result) implements FenceProtocol.Command, NoSerializationVerificationNeeded {}

  private static final int CONTAINED = 0;
  private static final int PREV = 1;

  private final FenceRef self;
  private final FenceRef contained;
  private final FenceRef prev;
  private final long prevSeqno;
  private final FenceServices services;
  private final FenceCallbacks state;
  private boolean containedSignalled;
  private boolean prevSignalled;

  public static Behavior<FenceProtocol.Command> create(
      FenceId id, FenceRef contained, FenceRef prev, long prevSeqno, ActorRef<ContextOwner.Command> owner, FenceServices services) {
    return Behaviors.setup(context -> new FenceChain(context, id, contained, prev, prevSeqno, owner, services));
  }

  private FenceChain(
      ActorContext<FenceProtocol.Command> context, FenceId id, FenceRef contained, FenceRef prev, long prevSeqno,
      ActorRef<ContextOwner.Command> owner, FenceServices services) {
    super(context);
    this.self = new FenceRef(id, FenceRef.Kind.CHAIN, true, context.getSelf(), owner, 0);
    this.contained = contained;
    this.prev = prev;
    this.prevSeqno = prevSeqno;
    this.services = services;
    this.state = new FenceCallbacks(id);
    this.prevSignalled = prev == null;
    if (contained.kind() == FenceRef.Kind.CHAIN) {
      services.violation(Violation.Kind.NESTED_CONTAINER, id, "dma_fence_chain_init with a chain as the contained fence");
    }
    ActorRef<WaitResult> adapter = context.messageAdapter(WaitResult.class, Followed::new);
    context.spawnAnonymous(FenceWait.create(contained, null, id.toString(), "chain point fence", CONTAINED, adapter, services));
    if (prev != null) {
      context.spawnAnonymous(FenceWait.create(prev, null, id.toString(), "chain previous point", PREV, adapter, services));
    }
  }

  @Override
  public Receive<FenceProtocol.Command> createReceive() {
    return state.onCallbackCommands(newReceiveBuilder(), this)
        .onMessage(Followed.class, this::onFollowed)
        .onMessage(ChainStep.class, step -> {
          step.replyTo().tell(new ChainStepReply(self.id(), containedSignalled, prevSeqno, prevSignalled ? null : prev));
          return this;
        })
        .onMessage(FenceProtocol.GetMembers.class, get -> {
          get.replyTo().tell(new FenceProtocol.Members(self.id(), FenceRef.Kind.CHAIN, List.of(contained), prevSignalled ? null : prev));
          return this;
        })
        .onMessage(FenceProtocol.SetDeadline.class, set -> {
          state.deadline(set.deadlineNanos());
          if (!contained.isStub()) {
            contained.actor().tell(set);
          }
          return this;
        })
        .onMessageEquals(FenceProtocol.EnableSignaling.INSTANCE, () -> this)
        // The last user reference: a container still waiting on its fences is kept alive by the callbacks it armed on
        // them (each holds a reference, as in the kernel); it stops once it has signalled.
        .onMessageEquals(FenceProtocol.Release.INSTANCE, () -> state.signalled() ? Behaviors.stopped() : this)
        .onMessage(FenceProtocol.Signal.class, signal -> {
          services.violation(Violation.Kind.DOUBLE_SIGNAL, self.id(), "chain points are signalled by their fences, not directly");
          return this;
        })
        .onMessage(FenceProtocol.SetError.class, set -> this)
        .onSignal(PostStop.class, stop -> {
          state.releaseIfPending(services, self.owner());
          return this;
        })
        .build();
  }

  private Behavior<FenceProtocol.Command> onFollowed(Followed followed) {
    WaitResult r = followed.result();
    if (!r.signalled()) {
      return this; // wait cap: stays pending, as the kernel's would
    }
    if (r.index() == CONTAINED) {
      containedSignalled = true;
    } else {
      prevSignalled = true;
    }
    if (containedSignalled && prevSignalled) {
      state.signal(0, 0, self.owner());
      return Behaviors.stopped();
    }
    return this;
  }
}
