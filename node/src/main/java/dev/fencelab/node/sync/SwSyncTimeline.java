package dev.fencelab.node.sync;

import dev.fencelab.node.fence.ContextLedger;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.Fence;
import dev.fencelab.node.fence.FenceId;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.Seqnos;
import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A sw_sync timeline (kernel-semantics §1.11): its own fence context, a 32-bit value starting at 0, points
 * created at chosen values and signalled by {@link Inc}. "Test and debug only": these are exactly the
 * userspace-controlled fences §1.1 F6 warns about, which is why fencelab's checks care who waits on them.
 *
 * <p>Owns: the context, the value, the pending points, the earliest deadline per point. Replies:
 * {@link PointCreated} (same fence for the same pending value; a point not later than the value is created
 * signalled; {@code -EBADF} once closed), {@link DeadlineReply} ({@code -EINVAL} for a fence of another
 * timeline, {@code -ENOENT} when no deadline was set), {@link Value}. {@link Close} signals every pending
 * point with {@code -ENOENT}; the actor stays to answer for its fences.
 */
public final class SwSyncTimeline extends AbstractBehavior<ContextOwner.Command> {

  /** {@code SW_SYNC_IOC_CREATE_FENCE}: a point at {@code value} (u32). */
  public record CreatePoint(long value, String name, ActorRef<PointCreated> replyTo) implements ContextOwner.Command, NodeWireMessage {
    public CreatePoint {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Answer to {@link CreatePoint}: the fence, or {@code error < 0} and no fence. */
  public record PointCreated(FenceRef fence, int error) implements NodeWireMessage {}

  /** {@code SW_SYNC_IOC_INC}: advance by {@code n} (u32) and signal what is due, in seqno order. */
  public record Inc(long n) implements ContextOwner.Command, NodeWireMessage {}

  /** Closing the timeline fd. */
  public enum Close implements ContextOwner.Command, NodeWireMessage {
    INSTANCE
  }

  /** {@code SW_SYNC_GET_DEADLINE} for one of this timeline's fences. */
  public record GetDeadline(FenceRef fence, ActorRef<DeadlineReply> replyTo) implements ContextOwner.Command, NodeWireMessage {}

  public record DeadlineReply(int error, long deadlineNanos) implements NodeWireMessage {}

  public record GetValue(ActorRef<Value> replyTo) implements ContextOwner.Command, NodeWireMessage {}

  public record Value(long value, boolean closed) implements NodeWireMessage {}

  private final FenceServices services;
  private final ContextLedger ledger;
  /** Pending points by value, so that the same value gives the same fence. */
  private final Map<Long, FenceRef> pending = new HashMap<>();
  private final Map<Long, Long> deadlines = new HashMap<>();
  private long value; // u32
  private boolean closed;
  private final List<GetValue> deferred = new ArrayList<>();
  private long created;

  public static Behavior<ContextOwner.Command> create(FenceServices services) {
    return Behaviors.setup(context -> new SwSyncTimeline(context, services));
  }

  private SwSyncTimeline(ActorContext<ContextOwner.Command> context, FenceServices services) {
    super(context);
    this.services = services;
    this.ledger = new ContextLedger(services.contexts().allocate(), false, services);
  }

  @Override
  public Receive<ContextOwner.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(CreatePoint.class, this::onCreatePoint)
        .onMessage(Inc.class, this::onInc)
        .onMessageEquals(Close.INSTANCE, this::onClose)
        .onMessage(GetDeadline.class, this::onGetDeadline)
        .onMessage(GetValue.class, get -> {
          // SW_SYNC_IOC_INC and close signal their points before the ioctl returns: so does the answer here, which
          // waits until every point being signalled has signalled (and so has sent its callbacks).
          if (ledger.signallingCount() > 0) {
            deferred.add(get);
          } else {
            get.replyTo().tell(new Value(value, closed));
          }
          return this;
        })
        .onMessage(ContextOwner.FenceCompleted.class, c -> {
          ledger.completed(c.id().seqno(), c.status());
          pending.remove(c.id().seqno());
          if (ledger.signallingCount() == 0 && !deferred.isEmpty()) {
            deferred.forEach(get -> get.replyTo().tell(new Value(value, closed)));
            deferred.clear();
          }
          return this;
        })
        .onMessage(ContextOwner.DeadlineHint.class, h -> {
          deadlines.merge(h.seqno(), h.deadlineNanos(), Math::min);
          return this;
        })
        .onMessage(ContextOwner.QueryCompletion.class, q -> {
          ledger.answer(q);
          return this;
        })
        .build();
  }

  private Behavior<ContextOwner.Command> onCreatePoint(CreatePoint create) {
    if (closed) {
      create.replyTo().tell(new PointCreated(null, Errno.EBADF.negative()));
      return this;
    }
    long point = create.value() & 0xffffffffL;
    FenceRef existing = pending.get(point);
    if (existing != null) {
      create.replyTo().tell(new PointCreated(existing, 0));
      return this;
    }
    FenceId id = ledger.id(point);
    ActorRef<FenceProtocol.Command> actor =
        getContext().spawn(Fence.create(id, FenceRef.Kind.SW_SYNC, getContext().getSelf(), services), "pt" + point + "-" + (++created));
    FenceRef ref = new FenceRef(id, FenceRef.Kind.SW_SYNC, false, actor, getContext().getSelf(), 0);
    if (Seqnos.isLater(point, value, false)) {
      ledger.register(point, actor);
      pending.put(point, ref);
    } else {
      // Not later than the timeline: a new fence, signalled at creation (each such create is a new fence).
      actor.tell(new FenceProtocol.Signal(0, 0, null));
    }
    create.replyTo().tell(new PointCreated(ref, 0));
    return this;
  }

  private Behavior<ContextOwner.Command> onInc(Inc inc) {
    long n = inc.n() & 0xffffffffL;
    while (n > 0) { // the kernel adds in chunks of at most INT_MAX so that wrap-around comparison stays sane
      long step = Math.min(n, Integer.MAX_VALUE);
      value = (value + step) & 0xffffffffL;
      n -= step;
      signalDue();
    }
    return this;
  }

  private void signalDue() {
    List<Long> due = new ArrayList<>();
    for (long point : pending.keySet()) {
      if (!Seqnos.isLater(point, value, false)) {
        due.add(point);
      }
    }
    due.sort((a, b) -> Seqnos.isLater(a, b, false) ? 1 : a.equals(b) ? 0 : -1);
    for (long point : due) {
      FenceRef ref = pending.remove(point);
      if (ledger.beginSignal(point)) {
        ref.actor().tell(new FenceProtocol.Signal(0, 0, null));
      }
    }
  }

  private Behavior<ContextOwner.Command> onClose() {
    if (!closed) {
      closed = true;
      ledger.signalAll(Errno.ENOENT, 0);
      pending.clear();
    }
    return this;
  }

  private Behavior<ContextOwner.Command> onGetDeadline(GetDeadline get) {
    FenceRef f = get.fence();
    if (f == null || f.kind() != FenceRef.Kind.SW_SYNC || !f.id().context().equals(ledger.context())) {
      get.replyTo().tell(new DeadlineReply(Errno.EINVAL.negative(), 0));
      return this;
    }
    Long deadline = deadlines.get(f.id().seqno());
    get.replyTo().tell(deadline == null ? new DeadlineReply(Errno.ENOENT.negative(), 0) : new DeadlineReply(0, deadline));
    return this;
  }
}
