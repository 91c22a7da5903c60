package dev.fencelab.node.driver;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.Engine;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.resv.AcquireCtx;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
 * One command submission after validation, as a short-lived child of the driver, in the kernel's order
 * (drm_exec / ttm_eu_reserve_buffers, then drm_sched_job_arm, then dma_resv_add_fence, then unlock):
 * <ol>
 *   <li>lock the reservation object of every buffer the job touches under one acquire context (wait-die:
 *       {@code -EDEADLK} → unlock everything, {@code dma_resv_lock_slow} the contended one, go on);
 *   <li>queue the job: the engine allocates its out-fence — under the locks, so on every shared buffer the order of
 *       fences is the order of jobs, and two submissions can never wait on each other in a cycle;
 *   <li>on each object collect the implicit dependencies and add the out-fence ({@link Resv.Exchange}: a writer waits
 *       for readers and writers, a reader for writers, §1.9);
 *   <li>unlock, hand the dependencies to the engine, answer the caller.
 * </ol>
 * Userptr buffers (§1.15) are validated first — read_begin and the page fault, outside every lock — and checked under
 * the resv locks: each one's notifier lock is taken and read_retry checked before the job is armed; a retry drops
 * every lock and starts over (bounded: -EAGAIN, as amdgpu's CS returns); the notifier locks are dropped after the
 * out-fence is in every resv, so an invalidation that comes in meanwhile waits for the lock and then for the fence.
 * A reservation object that is gone (its member died, its device was unplugged) fails the submission with -ENODEV
 * (an out-fence already allocated is signalled with it); no progress within the call timeout gives -ETIMEDOUT. The
 * locks are released in every case.
 */
final class SubmitFlow extends AbstractBehavior<Object> {
  /** A buffer's reservation object and whether the job writes the buffer. */
  /** {@code kernel}: a buffer move (TTM): its fence goes in as KERNEL, after every fence of the object (BOOKKEEP). */
  record ResvTarget(ActorRef<Resv.Command> resv, boolean write, boolean kernel) {
    ResvTarget(ActorRef<Resv.Command> resv, boolean write) {
      this(resv, write, false);
    }
  }

  private enum Timeout implements NoSerializationVerificationNeeded {
    INSTANCE
  }

  private final ActorRef<DeviceActor.Command> device;
  private final long jobId;
  private final String process;
  private final JobSpec spec;
  private final List<ActorRef<Resv.Command>> resvs = new ArrayList<>();
  private final Set<ActorRef<Resv.Command>> writes = new HashSet<>();
  private final Set<ActorRef<Resv.Command>> kernel = new HashSet<>();
  private final ActorRef<DriverProtocol.SubmitReply> replyTo;
  private final AcquireCtx ctx;
  private final Set<ActorRef<Resv.Command>> held = new LinkedHashSet<>();
  private final List<FenceRef> deps;
  private final Set<String> seen = new HashSet<>();
  private ActorRef<Resv.Command> locking;
  private ActorRef<Resv.Command> slow;
  private int exchanged;
  private FenceRef out;
  private final List<ActorRef<Object>> userptrs;
  private final java.util.Map<ActorRef<Object>, Long> seqs = new java.util.HashMap<>();
  private final List<ActorRef<Object>> notifierLocked = new ArrayList<>();
  private int validating;
  private int retries;
  /** The latest model time of the implicit dependencies that had already signalled. */
  private long signalledModel;

  static Behavior<Object> create(ActorRef<DeviceActor.Command> device, long jobId, String process, JobSpec spec, List<FenceRef> inFences,
      List<ResvTarget> targets, List<ActorRef<Object>> userptrs, AcquireCtx ctx, Duration cap, ActorRef<DriverProtocol.SubmitReply> replyTo) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new SubmitFlow(context, timers, device, jobId, process, spec, inFences, targets, userptrs, ctx, cap, replyTo).start()));
  }

  private SubmitFlow(ActorContext<Object> context, TimerScheduler<Object> timers, ActorRef<DeviceActor.Command> device, long jobId,
      String process, JobSpec spec, List<FenceRef> inFences, List<ResvTarget> targets, List<ActorRef<Object>> userptrs, AcquireCtx ctx,
      Duration cap, ActorRef<DriverProtocol.SubmitReply> replyTo) {
    super(context);
    this.userptrs = List.copyOf(userptrs);
    this.device = device;
    this.jobId = jobId;
    this.process = process;
    this.spec = spec;
    this.ctx = ctx;
    this.replyTo = replyTo;
    this.deps = new ArrayList<>(inFences);
    inFences.forEach(f -> seen.add(f.id().toString()));
    for (ResvTarget t : targets) {
      if (!resvs.contains(t.resv())) {
        resvs.add(t.resv());
        context.watch(t.resv());
      }
      if (t.write()) {
        writes.add(t.resv());
      }
      if (t.kernel()) {
        kernel.add(t.resv());
      }
    }
    timers.startSingleTimer(Timeout.INSTANCE, cap);
  }

  private Behavior<Object> start() {
    return validateNext();
  }

  // 0. userptr buffers: read_begin and fault, before any lock

  private Behavior<Object> validateNext() {
    if (validating == userptrs.size()) {
      return lockNext();
    }
    userptrs.get(validating).tell(new UserptrBo.Validate(getContext().getSelf().narrow()));
    return this;
  }

  private Behavior<Object> onValidated(UserptrBo.Validated v) {
    if (v.result() < 0) {
      return fail(Errno.of(v.result()));
    }
    seqs.put(userptrs.get(validating++), v.seq());
    return validateNext();
  }

  // 1b. under the resv locks: each userptr's notifier lock, and read_retry

  private Behavior<Object> checkNext() {
    if (notifierLocked.size() == userptrs.size()) {
      device.tell(new DeviceActor.Queue(new Engine.Queue(jobId, process, spec, getContext().getSelf().narrow())));
      return this;
    }
    ActorRef<Object> u = userptrs.get(notifierLocked.size());
    u.tell(new UserptrBo.LockCheck(seqs.get(u), getContext().getSelf().narrow()));
    return this;
  }

  private Behavior<Object> onChecked(UserptrBo.Checked c) {
    if (c.ok()) {
      notifierLocked.add(userptrs.get(notifierLocked.size()));
      return checkNext();
    }
    unlockNotifiers(); // an invalidation came in between: drop everything, fault again
    unlockAll();
    if (++retries > 64) {
      return fail(Errno.EAGAIN);
    }
    validating = 0;
    return validateNext();
  }

  private void unlockNotifiers() {
    notifierLocked.forEach(u -> u.tell(UserptrBo.Unlock.INSTANCE));
    notifierLocked.clear();
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Resv.LockReply.class, this::onLocked)
        .onMessage(UserptrBo.Validated.class, this::onValidated)
        .onMessage(UserptrBo.Checked.class, this::onChecked)
        .onMessage(Engine.Queued.class, this::onQueued)
        .onMessage(Resv.Fences.class, this::onFences)
        .onMessageEquals(Timeout.INSTANCE, () -> fail(Errno.ETIMEDOUT))
        .onSignal(Terminated.class, t -> resvs.contains(t.getRef()) ? fail(Errno.ENODEV) : this)
        .build();
  }

  // 1. lock everything

  private Behavior<Object> lockNext() {
    for (ActorRef<Resv.Command> r : resvs) {
      if (!held.contains(r)) {
        locking = r;
        r.tell(new Resv.Lock(ctx, r.equals(slow), getContext().getSelf().narrow()));
        return this;
      }
    }
    locking = null;
    annotateLocked();
    // 2. arm the job under the locks (after the userptr checks)
    return checkNext();
  }

  /**
   * What lockdep sees of the submit ioctl (kernel-semantics §1.18: allowed, outside any section): the buffers' resv
   * locks (one ww class), a GFP_KERNEL {@code dma_resv_reserve_fences} under them, and the userptr notifier lock taken
   * under them at publish.
   */
  private void annotateLocked() {
    var lockdep = dev.fencelab.node.lockdep.Lockdep.get(getContext().getSystem());
    if (!lockdep.enabled() || held.isEmpty()) {
      return;
    }
    var task = lockdep.task("submit ioctl");
    String what = "submit of " + spec.label() + " by " + process;
    task.acquire(dev.fencelab.protocol.lockdep.LockClass.RESV, false, false, what + ": dma_resv_lock");
    task.mightAlloc(dev.fencelab.node.lockdep.Gfp.KERNEL, what + ": dma_resv_reserve_fences(GFP_KERNEL)");
    if (!userptrs.isEmpty()) {
      task.acquire(dev.fencelab.protocol.lockdep.LockClass.NOTIFIER_LOCK, false, false, what + ": notifier_lock at publish");
    }
  }

  private Behavior<Object> onLocked(Resv.LockReply reply) {
    if (reply.result() == 0 || reply.result() == Errno.EALREADY.negative()) {
      held.add(locking);
      return lockNext();
    }
    if (reply.result() == Errno.EDEADLK.negative()) {
      unlockAll(); // wound-wait's loser backs off completely, then sleeps on the contended lock
      slow = locking;
      return lockNext();
    }
    return fail(Errno.of(reply.result()));
  }

  // 3. publish the out-fence and collect the implicit dependencies

  private Behavior<Object> onQueued(Engine.Queued queued) {
    if (queued.error() != 0) {
      unlockNotifiers();
      unlockAll();
      replyTo.tell(new DriverProtocol.SubmitReply(queued.error(), null));
      return Behaviors.stopped();
    }
    out = queued.fence();
    return exchangeNext();
  }

  private Behavior<Object> exchangeNext() {
    if (exchanged == resvs.size()) {
      unlockNotifiers();
      unlockAll();
      device.tell(new DeviceActor.Deps(spec.engine(), new Engine.Deps(jobId, deps, 0, signalledModel)));
      replyTo.tell(new DriverProtocol.SubmitReply(0, out));
      return Behaviors.stopped();
    }
    ActorRef<Resv.Command> r = resvs.get(exchanged);
    boolean write = writes.contains(r);
    if (kernel.contains(r)) { // a move: after everything, and everyone (KERNEL is below every usage) waits for it
      r.tell(new Resv.Exchange(ctx, List.of(out), ResvUsage.KERNEL, ResvUsage.BOOKKEEP, getContext().getSelf().narrow()));
      return this;
    }
    // dma_resv_usage_rw(write): a writer waits for READ (and below), a reader for WRITE (and below).
    r.tell(new Resv.Exchange(ctx, List.of(out), write ? ResvUsage.WRITE : ResvUsage.READ, write ? ResvUsage.READ : ResvUsage.WRITE,
        getContext().getSelf().narrow()));
    return this;
  }

  private Behavior<Object> onFences(Resv.Fences fences) {
    signalledModel = Math.max(signalledModel, fences.signalledModelNanos());
    for (Resv.Entry e : fences.entries()) {
      if (seen.add(e.fence().id().toString())) {
        deps.add(e.fence());
      }
    }
    exchanged++;
    return exchangeNext();
  }

  private void unlockAll() {
    held.forEach(r -> r.tell(new Resv.Unlock(ctx)));
    held.clear();
  }

  private Behavior<Object> fail(Errno error) {
    unlockNotifiers();
    unlockAll();
    if (out != null) {
      device.tell(new DeviceActor.Deps(spec.engine(), new Engine.Deps(jobId, List.of(), error.negative())));
    }
    replyTo.tell(new DriverProtocol.SubmitReply(error.negative(), null));
    return Behaviors.stopped();
  }
}
