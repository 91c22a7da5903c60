package dev.fencelab.node.resv;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One reservation object ({@code struct dma_resv}, kernel-semantics §1.9). The package documentation states the
 * rules; this class applies them.
 *
 * <p>Owns: its fences ({@link ResvList}: the list and its rules) and its lock ({@link WwMutex}). Talks to:
 * a bookkeeping follower per fence (to know which have signalled), {@link Containers} for
 * {@code get_singleton}, the lock's holder (watched). Replies: {@link LockReply}, {@link Result}, {@link Fences},
 * {@link Singleton}, {@link WaitResult} (wait: {@code > 0} all signalled, 0 timed out), {@link State}.
 */
public final class Resv extends AbstractBehavior<Resv.Command> {
  /** Which kernel's rules: selected per cluster. */
  public enum Mode {
    MODERN,
    Y2020
  }

  public interface Command {}

  /** {@code dma_resv_lock} ({@code slow}: {@code dma_resv_lock_slow}, after backing off). */
  public record Lock(AcquireCtx ctx, boolean slow, ActorRef<LockReply> replyTo) implements Command, NodeWireMessage {
    public Lock {
      Objects.requireNonNull(ctx, "ctx");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_resv_trylock}: 0 or -EBUSY, never waits. */
  public record TryLock(AcquireCtx ctx, ActorRef<LockReply> replyTo) implements Command, NodeWireMessage {}

  /** 0, -EDEADLK (back off), -EALREADY, -EBUSY (trylock), -ETIMEDOUT (the wait cap). */
  public record LockReply(String resv, int result) implements NodeWireMessage {}

  public record Unlock(AcquireCtx ctx) implements Command, NodeWireMessage {}

  /** {@code dma_resv_reserve_fences(obj, n)} (2020: {@code dma_resv_reserve_shared}). */
  public record Reserve(AcquireCtx ctx, int n, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  /** Modern {@code dma_resv_add_fence(obj, fence, usage)}. */
  public record AddFence(AcquireCtx ctx, FenceRef fence, ResvUsage usage, ActorRef<Result> replyTo) implements Command, NodeWireMessage {
    public AddFence {
      Objects.requireNonNull(fence, "fence");
      Objects.requireNonNull(usage, "usage");
    }
  }

  /** 2020 {@code dma_resv_add_shared_fence}. {@code orderedAfter}: fences the new one is known to signal after. */
  public record AddShared(AcquireCtx ctx, FenceRef fence, List<String> orderedAfter, ActorRef<Result> replyTo)
      implements Command, NodeWireMessage {
    public AddShared {
      Objects.requireNonNull(fence, "fence");
      orderedAfter = List.copyOf(orderedAfter);
    }
  }

  /**
   * 2020 {@code dma_resv_add_excl_fence} ({@code fence} may be null). Drops the old exclusive fence and every shared
   * fence. {@code orderedAfter} names (by fence id) what the new fence's producer waited for — the DAG assumption.
   */
  public record AddExclusive(AcquireCtx ctx, FenceRef fence, List<String> orderedAfter, ActorRef<Result> replyTo)
      implements Command, NodeWireMessage {
    public AddExclusive {
      orderedAfter = List.copyOf(orderedAfter);
    }
  }

  /** 0 or a negative errno. */
  public record Result(int result) implements NodeWireMessage {}

  /**
   * Fences with usage ≤ {@code usage}: the locked iterator ({@code includeSignalled}) or the unlocked one (only
   * unsignalled). In 2020 mode the exclusive fence has usage WRITE and shared fences READ.
   */
  public record GetFences(ResvUsage usage, boolean includeSignalled, ActorRef<Fences> replyTo) implements Command, NodeWireMessage {}

  public record Entry(FenceRef fence, ResvUsage usage, boolean signalled) {}

  /**
   * Fences, and for an {@link Exchange} the latest model time at which a fence it did not return (already signalled)
   * signalled: a job that depends on it implicitly starts no earlier (issue: a dependency that had signalled was lost
   * to model time).
   */
  public record Fences(List<Entry> entries, long signalledModelNanos) implements NodeWireMessage {
    public Fences {
      entries = List.copyOf(entries);
    }

    public Fences(List<Entry> entries) {
      this(entries, 0);
    }
  }

  /** {@code dma_resv_get_singleton}: no fence → null; one → it; several → a new fence array. */
  public record GetSingleton(ResvUsage usage, ActorRef<Singleton> replyTo) implements Command, NodeWireMessage {}

  public record Singleton(int result, FenceRef fence) implements NodeWireMessage {}

  /**
   * {@code dma_resv_wait_timeout(obj, usage, intr, timeout)}; {@code timeoutNanos < 0}: forever (bounded by the wait
   * cap), 0: {@code dma_resv_test_signaled}.
   */
  public record Wait(ResvUsage usage, long timeoutNanos, String waiter, ActorRef<WaitResult> replyTo) implements Command, NodeWireMessage {}

  /**
   * 2020 {@code dma_resv_test_signaled_rcu} / {@code wait_timeout_rcu}: {@code all} = wait_all/test_all (the shared
   * fences, and the exclusive one only when there is no shared fence — as the 2020 code does for test_all).
   */
  public record Wait2020(boolean all, long timeoutNanos, String waiter, ActorRef<WaitResult> replyTo) implements Command, NodeWireMessage {}

  public record GetState(ActorRef<State> replyTo) implements Command, NodeWireMessage {}

  /**
   * A driver's submit path on this object as one step (what a command submission does while it holds the lock):
   * {@code dma_resv_lock}; collect the unsignalled fences with usage ≤ {@code waitUsage} (null: none) — the job's
   * implicit dependencies, {@code dma_resv_usage_rw(write)}; {@code dma_resv_reserve_fences(n)} and
   * {@code dma_resv_add_fence} each of {@code add} with {@code addUsage} (2020 mode: WRITE/KERNEL as the exclusive
   * fence, ordered after the collected fences; READ as shared); unlock. Waits behind the lock's holder; answers
   * the collected fences. Also the sync_file import bridge (§1.12: it only adds), with {@code waitUsage} null.
   * With {@code ctx}: the caller already holds the lock under that acquire context (a submission that locked every
   * buffer it touches first, as the kernel does) and the step runs at once — without holding it, it is a
   * {@code RESV_NOT_LOCKED} violation.
   */
  public record Exchange(AcquireCtx ctx, List<FenceRef> add, ResvUsage addUsage, ResvUsage waitUsage, ActorRef<Fences> replyTo)
      implements Command, NodeWireMessage {
    public Exchange {
      add = List.copyOf(add);
      Objects.requireNonNull(addUsage, "addUsage");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Counts and holder, for tests and traces. */
  public record State(String name, Mode mode, int numFences, int maxFences, String holder) implements NodeWireMessage {}

  private record Followed(WaitResult result) implements Command, NoSerializationVerificationNeeded {}

  private record LockTimeout(long stamp) implements Command, NoSerializationVerificationNeeded {}

  private final String name;
  private final Mode mode;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final TimerScheduler<Command> timers;
  private final ActorRef<WaitResult> followAdapter;
  private final ResvList fences;
  private final WwMutex<ActorRef<LockReply>> lock = new WwMutex<>();
  private final ArrayDeque<Exchange> deferred = new ArrayDeque<>();

  public static Behavior<Command> create(String name, Mode mode, ActorRef<ContextOwner.Command> containers, FenceServices services) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Resv(context, timers, name, mode, containers, services)));
  }

  private Resv(ActorContext<Command> context, TimerScheduler<Command> timers, String name, Mode mode,
      ActorRef<ContextOwner.Command> containers, FenceServices services) {
    super(context);
    this.timers = timers;
    this.name = name;
    this.mode = mode;
    this.containers = containers;
    this.services = services;
    this.followAdapter = context.messageAdapter(WaitResult.class, Followed::new);
    this.fences = new ResvList(new ResvList.Hooks() {
      @Override
      public void violation(Violation.Kind kind, String detail) {
        services.violation(kind, name, detail);
      }

      @Override
      public void fatal(Violation.Kind kind, String detail) {
        services.fatal(kind, name, detail);
      }

      @Override
      public void follow(FenceRef fence, int key) {
        context.spawnAnonymous(FenceWait.follow(fence, key, followAdapter, services));
      }
    });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Lock.class, this::onLock)
        .onMessage(TryLock.class, this::onTryLock)
        .onMessage(Unlock.class, this::onUnlock)
        .onMessage(LockTimeout.class, this::onLockTimeout)
        .onSignal(Terminated.class, this::onHolderTerminated)
        .onMessage(Reserve.class, this::onReserve)
        .onMessage(AddFence.class, this::onAddFence)
        .onMessage(AddShared.class, this::onAddShared)
        .onMessage(AddExclusive.class, this::onAddExclusive)
        .onMessage(Followed.class, this::onFollowed)
        .onMessage(GetFences.class, this::onGetFences)
        .onMessage(GetSingleton.class, this::onGetSingleton)
        .onMessage(SingletonReady.class, this::onSingletonReady)
        .onMessage(Wait.class, this::onWait)
        .onMessage(Wait2020.class, this::onWait2020)
        .onMessage(Exchange.class, this::onExchange)
        .onMessage(GetState.class, this::onGetState)
        .build();
  }

  private Behavior<Command> onExchange(Exchange ex) {
    if (ex.ctx() != null) {
      assertHeld(ex.ctx(), "dma_resv_add_fence (submission)");
      exchange(ex);
    } else if (lock.holder() != null) {
      deferred.add(ex);
    } else {
      exchange(ex);
    }
    return this;
  }

  private Behavior<Command> onGetState(GetState get) {
    get.replyTo().tell(new State(name, mode, fences.count(), fences.maxFences(), lock.holder() == null ? "" : lock.holder().name()));
    return this;
  }

  // --- lock (the ww_mutex's decisions: WwMutex)

  private Behavior<Command> onLock(Lock request) {
    WwMutex.Outcome outcome = lock.lock(request.ctx(), request.slow(), request.replyTo());
    switch (outcome) {
      case GRANTED -> granted(request.replyTo());
      case QUEUED -> timers.startSingleTimer("lock-" + request.ctx().stamp(), new LockTimeout(request.ctx().stamp()), services.waitCap());
      default -> request.replyTo().tell(new LockReply(name, WwMutex.errno(outcome))); // -EDEADLK: back off, then lock_slow
    }
    return this;
  }

  private Behavior<Command> onTryLock(TryLock request) {
    if (lock.tryLock(request.ctx(), request.replyTo())) {
      granted(request.replyTo());
    } else {
      request.replyTo().tell(new LockReply(name, Errno.EBUSY.negative()));
    }
    return this;
  }

  /** The holder is watched: a holder that dies must not keep the lock. */
  private void granted(ActorRef<LockReply> replyTo) {
    getContext().watch(replyTo);
    replyTo.tell(new LockReply(name, 0));
  }

  private Behavior<Command> onUnlock(Unlock unlock) {
    if (!lock.heldBy(unlock.ctx())) {
      services.violation(Violation.Kind.RESV_NOT_LOCKED, name, "dma_resv_unlock by " + unlock.ctx().name() + ", which does not hold it");
      return this;
    }
    release();
    return this;
  }

  private void release() {
    getContext().unwatch(lock.holderRef());
    fences.forgetReservations();
    WwMutex.Waiter<ActorRef<LockReply>> next = lock.release();
    if (next != null) {
      timers.cancel("lock-" + next.ctx().stamp());
      granted(next.replyTo());
      return;
    }
    while (lock.holder() == null && !deferred.isEmpty()) {
      exchange(deferred.poll());
    }
  }

  private void exchange(Exchange ex) {
    java.util.Set<String> adding = new java.util.HashSet<>();
    ex.add().forEach(f -> adding.add(f.id().toString()));
    List<ResvList.Slot> implicit = ex.waitUsage() == null ? List.of() : fences.selectUpTo(ex.waitUsage());
    List<Entry> deps = implicit.stream()
        .filter(s -> !s.signalled && !adding.contains(s.fence.id().toString()))
        .map(s -> new Entry(s.fence, s.usage, false)).toList();
    long signalledModel = implicit.stream().filter(s -> s.signalled).mapToLong(s -> s.signalModel).max().orElse(0);
    List<String> after = deps.stream().map(e -> e.fence().id().toString()).toList();
    for (FenceRef f : ex.add()) {
      boolean exclusiveUsage = ex.addUsage() == ResvUsage.WRITE || ex.addUsage() == ResvUsage.KERNEL;
      if (mode == Mode.Y2020 && exclusiveUsage) {
        fences.addExclusive(f, after, "dma_resv_add_excl_fence");
        continue;
      }
      fences.reserveOne();
      if (mode == Mode.Y2020) {
        fences.addShared(f, after, "dma_resv_add_shared_fence");
      } else {
        fences.addModern(f, ex.addUsage());
      }
    }
    if (ex.ctx() == null) {
      fences.forgetReservations(); // the submission's implicit unlock
    }
    ex.replyTo().tell(new Fences(deps, signalledModel));
  }

  private Behavior<Command> onLockTimeout(LockTimeout timeout) {
    WwMutex.Waiter<ActorRef<LockReply>> w = lock.abandon(timeout.stamp());
    if (w != null) {
      services.violation(Violation.Kind.WAIT_CAP_EXCEEDED, name, w.ctx().name() + " waited for the lock held by "
          + (lock.holder() == null ? "nobody" : lock.holder().name()) + " for " + services.waitCap());
      w.replyTo().tell(new LockReply(name, Errno.ETIMEDOUT.negative()));
    }
    return this;
  }

  private Behavior<Command> onHolderTerminated(Terminated terminated) {
    if (lock.holderRef() != null && terminated.getRef().equals(lock.holderRef())) {
      release(); // the holder died: the lock must not stay held forever
    }
    return this;
  }

  private void assertHeld(AcquireCtx ctx, String what) {
    if (!lock.heldBy(ctx)) {
      services.violation(Violation.Kind.RESV_NOT_LOCKED, name, what + " without holding the reservation lock");
    }
  }

  // --- fences (the list's rules: ResvList)

  private Behavior<Command> onReserve(Reserve reserve) {
    assertHeld(reserve.ctx(), "dma_resv_reserve_fences");
    fences.reserve(reserve.n());
    reply(reserve.replyTo(), 0);
    return this;
  }

  private Behavior<Command> onAddFence(AddFence add) {
    assertHeld(add.ctx(), "dma_resv_add_fence");
    reply(add.replyTo(), fences.addModern(add.fence(), add.usage()));
    return this;
  }

  private Behavior<Command> onAddShared(AddShared add) {
    assertHeld(add.ctx(), "dma_resv_add_shared_fence");
    reply(add.replyTo(), fences.addShared(add.fence(), add.orderedAfter(), "dma_resv_add_shared_fence"));
    return this;
  }

  private Behavior<Command> onAddExclusive(AddExclusive add) {
    assertHeld(add.ctx(), "dma_resv_add_excl_fence");
    fences.addExclusive(add.fence(), add.orderedAfter(), "dma_resv_add_excl_fence");
    reply(add.replyTo(), 0);
    return this;
  }

  private Behavior<Command> onFollowed(Followed followed) {
    if (followed.result().signalled()) {
      fences.signalled(followed.result().index(), followed.result().status().modelNanos());
    }
    return this;
  }

  private static void reply(ActorRef<Result> replyTo, int result) {
    if (replyTo != null) {
      replyTo.tell(new Result(result));
    }
  }

  // --- queries

  private Behavior<Command> onGetFences(GetFences get) {
    Predicate<ResvList.Slot> keep = s -> get.includeSignalled() || !s.signalled;
    get.replyTo().tell(new Fences(fences.selectUpTo(get.usage()).stream().filter(keep)
        .map(s -> new Entry(s.fence, s.usage, s.signalled)).toList()));
    return this;
  }

  private Behavior<Command> onGetSingleton(GetSingleton get) {
    List<FenceRef> pending = fences.selectUpTo(get.usage()).stream().filter(s -> !s.signalled).map(s -> s.fence).toList();
    if (pending.isEmpty()) {
      get.replyTo().tell(new Singleton(0, null));
    } else if (pending.size() == 1) {
      get.replyTo().tell(new Singleton(0, pending.get(0)));
    } else {
      ActorRef<FenceRef> adapter = dev.fencelab.node.fence.OneShot.adapter(getContext(), FenceRef.class, f -> new SingletonReady(f, get.replyTo()));
      containers.tell(new Containers.CreateArray(pending, false, null, 1, adapter));
    }
    return this;
  }

  private Behavior<Command> onSingletonReady(SingletonReady ready) {
    ready.replyTo().tell(new Singleton(0, ready.fence()));
    return this;
  }

  private record SingletonReady(FenceRef fence, ActorRef<Singleton> replyTo) implements Command, NoSerializationVerificationNeeded {}

  private Behavior<Command> onWait(Wait wait) {
    return wait(fences.selectUpTo(wait.usage()), wait.timeoutNanos(), wait.waiter(), wait.replyTo());
  }

  private Behavior<Command> onWait2020(Wait2020 wait) {
    return wait(fences.select2020(wait.all()), wait.timeoutNanos(), wait.waiter(), wait.replyTo());
  }

  private Behavior<Command> wait(List<ResvList.Slot> selected, long timeoutNanos, String waiter, ActorRef<WaitResult> replyTo) {
    List<FenceRef> pending = selected.stream().filter(s -> !s.signalled).map(s -> s.fence).toList();
    Duration timeout = timeoutNanos < 0 ? null : Duration.ofNanos(timeoutNanos);
    getContext().spawnAnonymous(ResvWait.create(name, pending, timeout, waiter, replyTo, services));
    return this;
  }
}
