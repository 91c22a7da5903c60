package dev.fencelab.node.fence;

import dev.fencelab.protocol.Errno;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A {@code struct dma_fence_cb} of the fence-API steps (the selftests' {@code simple_cb}), kernel-semantics §1.4.
 * On {@link Add} it registers itself on the fence ({@code dma_fence_add_callback}) and answers 0, or {@code -ENOENT} when
 * the fence had already signalled (the callback is then never called). Afterwards it remembers whether it ran
 * ({@code cb.seen}) and answers {@code dma_fence_remove_callback}: true when it was still pending and is now
 * removed, false when it had already run. It lives until its step executor stops it.
 */
public final class MockCallback extends AbstractBehavior<MockCallback.Command> {
  public sealed interface Command extends NoSerializationVerificationNeeded {}

  private record Called(FenceProtocol.Callback callback) implements Command {}

  private record Removed(FenceProtocol.CallbackRemoved removed) implements Command {}

  private record Probed(FenceProtocol.StatusReply reply) implements Command {}

  /** Whether the callback has run, and the fence's status when it did. */
  public record Seen(boolean seen, FenceStatus status) implements NoSerializationVerificationNeeded {}

  public record Query(ActorRef<Seen> replyTo) implements Command {
    public Query {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_fence_add_callback}: answers 0 or {@code -ENOENT}. Once per callback. */
  public record Add(ActorRef<Integer> replyTo) implements Command {
    public Add {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_fence_remove_callback}: answers whether the callback was still pending. */
  public record Remove(ActorRef<Boolean> replyTo) implements Command {
    public Remove {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  private final FenceRef fence;
  private final ActorRef<FenceProtocol.Callback> target;
  private ActorRef<Integer> added;
  private ActorRef<Boolean> removing;
  private boolean registered;
  private boolean removed;
  private Seen seen = new Seen(false, FenceStatus.PENDING);
  private final java.util.List<ActorRef<Seen>> queries = new java.util.ArrayList<>();

  /** A callback for {@code fence}, not yet registered. */
  public static Behavior<Command> create(FenceRef fence) {
    return Behaviors.setup(context -> new MockCallback(context, fence));
  }

  private MockCallback(ActorContext<Command> context, FenceRef fence) {
    super(context);
    this.fence = fence;
    this.target = context.messageAdapter(FenceProtocol.Callback.class, Called::new);
  }

  private Behavior<Command> onAdd(Add add) {
    if (added != null || registered) {
      add.replyTo().tell(Errno.EBUSY.negative()); // a dma_fence_cb is on one list at a time
      return this;
    }
    added = add.replyTo();
    if (fence.isStub()) {
      answerAdded(Errno.ENOENT.negative());
    } else {
      getContext().watch(fence.actor());
      fence.actor().tell(new FenceProtocol.AddCallback(target, true));
    }
    return this;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Add.class, this::onAdd)
        .onMessage(Called.class, this::onCalled)
        .onMessage(Query.class, this::onQuery)
        .onMessage(Probed.class, this::onProbed)
        .onMessage(Remove.class, this::onRemove)
        .onMessage(Removed.class, r -> {
          answerRemove(r.removed().wasPending());
          return this;
        })
        .onSignal(Terminated.class, t -> {
          // The fence stopped: it signalled. Not registered yet → -ENOENT; a pending removal → false.
          answerAdded(Errno.ENOENT.negative());
          answerRemove(false);
          return this;
        })
        .build();
  }

  private Behavior<Command> onCalled(Called called) {
    if (called.callback() instanceof FenceProtocol.CallbackAdded) {
      registered = true;
      answerAdded(0);
    } else if (called.callback() instanceof FenceProtocol.Signalled s) {
      if (s.alreadySignalled()) {
        answerAdded(Errno.ENOENT.negative());
      } else if (!removed) {
        seen = new Seen(true, s.status());
        answerAdded(0);
        answerQueries();
      }
    }
    return this;
  }

  /**
   * {@code cb.seen}. In the kernel the callback has run by the time {@code dma_fence_signal} returns; here it is a
   * message in flight: when the fence has signalled but the callback has not arrived yet, the answer waits for it.
   */
  private Behavior<Command> onQuery(Query query) {
    if (seen.seen() || !registered || removed) {
      query.replyTo().tell(seen);
      return this;
    }
    queries.add(query.replyTo());
    if (queries.size() == 1) {
      getContext().spawnAnonymous(StatusProbe.create(fence, java.util.List.of(),
          getContext().messageAdapter(FenceProtocol.StatusReply.class, Probed::new)));
    }
    return this;
  }

  private Behavior<Command> onProbed(Probed probed) {
    FenceStatus status = probed.reply().status();
    if (!status.isSignalled() || seen.seen() || status.value() == Errno.ENODEV.negative()) {
      answerQueries(); // pending: not seen; seen meanwhile: seen; its member died: the callback will never come
    }
    return this; // signalled, callback still in flight: answered when it arrives
  }

  private void answerQueries() {
    queries.forEach(q -> q.tell(seen));
    queries.clear();
  }

  private Behavior<Command> onRemove(Remove remove) {
    if (!registered || seen.seen() || removed) {
      remove.replyTo().tell(false);
      return this;
    }
    removing = remove.replyTo();
    fence.actor().tell(new FenceProtocol.RemoveCallback(target,
        getContext().messageAdapter(FenceProtocol.CallbackRemoved.class, Removed::new)));
    return this;
  }

  private void answerAdded(int result) {
    if (added != null) {
      added.tell(result);
      added = null;
    }
  }

  private void answerRemove(boolean wasPending) {
    if (removing != null) {
      removed = wasPending;
      removing.tell(wasPending);
      removing = null;
    }
  }
}
