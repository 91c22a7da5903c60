package dev.fencelab.node.fence;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What holding a {@code struct dma_fence *} means here: the fence's identity, its actor (which may live on
 * another member, and stops once it has signalled and told its waiters), and the owner of its context,
 * which answers for it afterwards. A waiter never needs to know whether the fence is a leaf, an array or a
 * chain: all of them take {@link FenceProtocol} commands.
 *
 * <p>A {@link Kind#STUB} fence has neither actor nor owner: it is always signalled (context 0, seqno 0;
 * §1.3 {@code dma_fence_get_stub}), with {@code stubTimestamp} as its signal time.
 */
public record FenceRef(
    FenceId id,
    Kind kind,
    boolean seqno64,
    ActorRef<FenceProtocol.Command> actor,
    ActorRef<ContextOwner.Command> owner,
    long stubTimestampNanos) implements dev.fencelab.node.NodeWireMessage {

  /** What sort of fence this is. Containers: ARRAY and CHAIN (§1.6, §1.7). */
  public enum Kind {
    HARDWARE,
    SW_SYNC,
    ARRAY,
    CHAIN,
    STUB
  }

  public FenceRef {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(kind, "kind");
    if (kind == Kind.STUB) {
      if (actor != null || owner != null) {
        throw new IllegalArgumentException("a stub fence has no actor and no owner");
      }
    } else {
      Objects.requireNonNull(actor, "actor");
      Objects.requireNonNull(owner, "owner");
    }
  }

  /** The global stub: signalled, context 0, seqno 0 (§1.3). */
  public static FenceRef stub() {
    return new FenceRef(new FenceId(FenceContext.STUB, 0), Kind.STUB, false, null, null, 0);
  }

  /** {@code dma_fence_allocate_private_stub(ts)}: a signalled stub with its own timestamp. */
  public static FenceRef stub(long timestampNanos) {
    return new FenceRef(new FenceId(FenceContext.STUB, 0), Kind.STUB, false, null, null, timestampNanos);
  }

  public boolean isStub() {
    return kind == Kind.STUB;
  }

  public boolean isContainer() {
    return kind == Kind.ARRAY || kind == Kind.CHAIN;
  }

  /** The status of a stub (the only fence whose status is known without asking). */
  public FenceStatus stubStatus() {
    if (!isStub()) {
      throw new IllegalStateException(this + " is not a stub");
    }
    return new FenceStatus(1, stubTimestampNanos, 0);
  }

  @Override
  public String toString() {
    return kind == Kind.STUB ? "stub" : id + "(" + kind.name().toLowerCase(java.util.Locale.ROOT) + ")";
  }
}
