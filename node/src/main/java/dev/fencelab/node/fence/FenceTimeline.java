package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A driver-style fence context: fences get consecutive seqnos from 1 and are signalled by their driver
 * through this owner — the shape of a GPU ring's fence context, and the base that engines build on.
 *
 * <p>Owns: one {@link FenceContext} and its {@link ContextLedger}. Talks to: its fences (children).
 * Replies: {@link FenceRef} to {@link CreateFence}; {@link FenceProtocol.SignalResult} to {@link SignalFence}
 * ({@code -EINVAL} for a seqno already signalled or unknown); {@link ContextOwner.Completion} to queries.
 */
public final class FenceTimeline extends AbstractBehavior<ContextOwner.Command> {

  /** Creates the next fence of this context. */
  public record CreateFence(ActorRef<FenceRef> replyTo) implements ContextOwner.Command, NodeWireMessage {
    public CreateFence {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * A mock fence on this context (the fence-API steps): at {@code seqno}, or the next seqno when 0, with the given
   * {@code enable_signaling} op. Answers the fence, or null when a live fence already has that seqno. Local to the
   * context's member: the step that creates it runs there.
   */
  public record CreateMockFence(long seqno, FenceOps ops, ActorRef<java.util.Optional<FenceRef>> replyTo)
      implements ContextOwner.Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {
    public CreateMockFence {
      Objects.requireNonNull(ops, "ops");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_fence_set_error} (if error ≠ 0) + {@code dma_fence_signal} on fence {@code seqno}. */
  public record SignalFence(long seqno, int error, long modelNanos, ActorRef<FenceProtocol.SignalResult> replyTo)
      implements ContextOwner.Command, NodeWireMessage {}

  /**
   * {@code dma_fence_set_error} on fence {@code seqno}: before the signal it is stored and hidden; after it
   * (the fence actor may have stopped) it is a violation and, as in the kernel, stored anyway — later status
   * queries report it.
   */
  public record SetFenceError(long seqno, int error) implements ContextOwner.Command, NodeWireMessage {}

  /** The driver drops its reference to fence {@code seqno} ({@code dma_fence_put} of the last reference). */
  public record ReleaseFence(long seqno) implements ContextOwner.Command, NodeWireMessage {}

  private final FenceServices services;
  private final ContextLedger ledger;
  private final FenceRef.Kind kind;
  private long nextSeqno = 1;

  public static Behavior<ContextOwner.Command> create(FenceServices services, boolean seqno64) {
    return Behaviors.setup(context -> new FenceTimeline(context, services, services.contexts().allocate(), seqno64));
  }

  /** A timeline on {@code fenceContext}, allocated by the caller ({@code dma_fence_context_alloc}). */
  public static Behavior<ContextOwner.Command> create(FenceServices services, FenceContext fenceContext, boolean seqno64) {
    return Behaviors.setup(context -> new FenceTimeline(context, services, fenceContext, seqno64));
  }

  private FenceTimeline(ActorContext<ContextOwner.Command> context, FenceServices services, FenceContext fenceContext, boolean seqno64) {
    super(context);
    this.services = services;
    this.ledger = new ContextLedger(fenceContext, seqno64, services);
    this.kind = FenceRef.Kind.HARDWARE;
  }

  @Override
  public Receive<ContextOwner.Command> createReceive() {
    // The builder tries its cases in order (a class check each): one completion per fence, then create and signal.
    return newReceiveBuilder()
        .onMessage(ContextOwner.FenceCompleted.class, c -> {
          ledger.completed(c.id().seqno(), c.status());
          return this;
        })
        .onMessage(CreateFence.class, this::onCreate)
        .onMessage(SignalFence.class, this::onSignal)
        .onMessage(CreateMockFence.class, this::onCreateMock)
        .onMessage(SetFenceError.class, this::onSetError)
        .onMessage(ReleaseFence.class, this::onRelease)
        .onMessage(ContextOwner.DeadlineHint.class, h -> this)
        .onMessage(ContextOwner.QueryCompletion.class, q -> {
          ledger.answer(q);
          return this;
        })
        .build();
  }

  private Behavior<ContextOwner.Command> onCreate(CreateFence create) {
    long seqno = nextSeqno++;
    FenceId id = ledger.id(seqno);
    ActorRef<FenceProtocol.Command> fence =
        getContext().spawn(Fence.create(id, getContext().getSelf(), services), "f" + Long.toUnsignedString(seqno));
    ledger.register(seqno, fence);
    create.replyTo().tell(new FenceRef(id, kind, ledger.seqno64(), fence, getContext().getSelf(), 0));
    return this;
  }

  private Behavior<ContextOwner.Command> onCreateMock(CreateMockFence create) {
    long seqno = create.seqno() == 0 ? nextSeqno : create.seqno();
    if (ledger.live(seqno).isPresent() || getContext().getChild("f" + Long.toUnsignedString(seqno)).isPresent()) {
      create.replyTo().tell(java.util.Optional.empty());
      return this;
    }
    if (Long.compareUnsigned(seqno, nextSeqno) >= 0) {
      nextSeqno = seqno + 1;
    }
    FenceId id = ledger.id(seqno);
    ActorRef<FenceProtocol.Command> fence =
        getContext().spawn(Fence.create(id, kind, create.ops(), getContext().getSelf(), services), "f" + Long.toUnsignedString(seqno));
    ledger.register(seqno, fence);
    create.replyTo().tell(java.util.Optional.of(new FenceRef(id, kind, ledger.seqno64(), fence, getContext().getSelf(), 0)));
    return this;
  }

  private Behavior<ContextOwner.Command> onSignal(SignalFence signal) {
    if (!ledger.beginSignal(signal.seqno())) {
      if (signal.replyTo() != null) {
        signal.replyTo().tell(new FenceProtocol.SignalResult(ledger.id(signal.seqno()), Errno.EINVAL.negative()));
      }
      return this;
    }
    ledger.live(signal.seqno()).orElseThrow()
        .tell(new FenceProtocol.Signal(signal.error(), signal.modelNanos(), signal.replyTo()));
    return this;
  }

  private Behavior<ContextOwner.Command> onSetError(SetFenceError set) {
    if (!ledger.setErrorAfterSignal(set.seqno(), set.error())) {
      ledger.live(set.seqno()).ifPresent(f -> f.tell(new FenceProtocol.SetError(set.error())));
    }
    return this;
  }

  private Behavior<ContextOwner.Command> onRelease(ReleaseFence release) {
    ledger.live(release.seqno()).ifPresent(f -> f.tell(FenceProtocol.Release.INSTANCE));
    return this;
  }
}
