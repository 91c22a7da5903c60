package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages every fence actor accepts (leaf, array, chain), and what it answers. Kernel-semantics
 * §1.1–§1.5 is the specification; the kernel call each message stands for is named on it.
 */
public final class FenceProtocol {
  private FenceProtocol() {}

  /** What a fence actor accepts. Not sealed: container fences add internal messages of their own. */
  public interface Command {}

  /** What a callback target receives: {@link Signalled} and, when asked for, {@link CallbackAdded}. */
  public interface Callback {}

  /**
   * {@code dma_fence_add_callback}. If the fence has already signalled the callback is not added and the
   * target at once gets {@link Signalled} with {@code alreadySignalled = true} — the {@code -ENOENT}
   * outcome. Otherwise the callback is appended (callbacks run once each, in registration order, §1.1 F2),
   * signalling is enabled (§1.4), and {@link CallbackAdded} is sent when {@code ack} is set.
   */
  public record AddCallback(ActorRef<Callback> callback, boolean ack) implements Command, NodeWireMessage {
    public AddCallback {
      Objects.requireNonNull(callback, "callback");
    }
  }

  /** {@code dma_fence_remove_callback}: answers whether the callback was still pending and is now removed. */
  public record RemoveCallback(ActorRef<Callback> callback, ActorRef<CallbackRemoved> replyTo)
      implements Command, NodeWireMessage {
    public RemoveCallback {
      Objects.requireNonNull(callback, "callback");
    }
  }

  /**
   * {@code dma_fence_set_error} (when {@code error != 0}) then {@code dma_fence_signal}. A second signal is
   * refused with {@code -EINVAL} and recorded as a contract violation; callbacks are not run again.
   *
   * @param modelNanos the signaller's model time, the fence's model-time timestamp
   * @param replyTo gets the {@code dma_fence_signal} return value, or null when nobody wants it
   */
  public record Signal(int error, long modelNanos, ActorRef<SignalResult> replyTo) implements Command, NodeWireMessage {}

  /** {@code dma_fence_set_error}: WARNs (a violation) after signal or for an error out of [-4095, -1]; stored anyway. */
  public record SetError(int error) implements Command, NodeWireMessage {}

  /** {@code dma_fence_enable_sw_signaling}: runs the fence's enable_signaling once per lifetime (§1.4). */
  public enum EnableSignaling implements Command, NodeWireMessage {
    INSTANCE
  }

  /** {@code dma_fence_set_deadline}: a hint, ignored once signalled; forwarded to the context owner. */
  public record SetDeadline(long deadlineNanos) implements Command, NodeWireMessage {}

  /** {@code dma_fence_get_status} and friends. */
  public record GetStatus(ActorRef<StatusReply> replyTo) implements Command, NodeWireMessage {
    public GetStatus {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * The owner drops the last reference ({@code dma_fence_release}). A fence that is still pending with
   * callbacks is force-signalled with {@code -EDEADLK} and a violation is recorded (§1.1 F4); the actor stops.
   */
  public enum Release implements Command, NodeWireMessage {
    INSTANCE
  }

  /**
   * Unwrap support ({@code dma_fence_unwrap_for_each}, §1.8): what a fence is made of. A leaf answers with no
   * members; an array with its members; a chain point with its contained fence and, while any earlier point is
   * unsignalled, its {@code prev} link.
   */
  public record GetMembers(ActorRef<Members> replyTo) implements Command, NodeWireMessage {
    public GetMembers {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Answer to {@link GetMembers}. {@code prev} is null for leaves, arrays, and chains whose earlier points all signalled. */
  public record Members(FenceId id, FenceRef.Kind kind, java.util.List<FenceRef> members, FenceRef prev) implements NodeWireMessage {
    public Members {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(kind, "kind");
      members = java.util.List.copyOf(members);
    }
  }

  /** To a callback target: the fence signalled (or, with {@code alreadySignalled}, had signalled: -ENOENT). */
  public record Signalled(FenceId id, FenceStatus status, boolean alreadySignalled) implements Callback, NodeWireMessage {
    public Signalled {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(status, "status");
    }
  }

  /** To a callback target that asked for an acknowledgement: the callback is registered (return 0). */
  public record CallbackAdded(FenceId id) implements Callback, NodeWireMessage {}

  /** Answer to {@link RemoveCallback}. */
  public record CallbackRemoved(FenceId id, boolean wasPending) implements NodeWireMessage {}

  /** Answer to {@link Signal}: 0, or -EINVAL when the fence had already signalled (≤ v6.17 semantics). */
  public record SignalResult(FenceId id, int result) implements NodeWireMessage {}

  /**
   * Answer to {@link GetStatus}. {@code deadlineNanos} is the earliest deadline set, 0 if none; {@code enableOpsCalls}
   * how many times the fence's {@code enable_signaling} op has run ({@link FenceOps}).
   */
  public record StatusReply(FenceId id, FenceStatus status, boolean signalingEnabled, long deadlineNanos, int enableOpsCalls)
      implements NodeWireMessage {
    public StatusReply(FenceId id, FenceStatus status, boolean signalingEnabled, long deadlineNanos) {
      this(id, status, signalingEnabled, deadlineNanos, 0);
    }
  }
}
