package dev.fencelab.node.device;

import dev.fencelab.node.check.EdgeRemovals;
import dev.fencelab.node.fence.ContextLedger;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.Fence;
import dev.fencelab.node.fence.FenceId;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceWaits;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One engine (ring) of a device: its own fence context; it runs its jobs strictly in submission order, a job only
 * once its dependencies have signalled (the drm scheduler's contract; see the package documentation for errors,
 * model time, hang, reset and unplug).
 *
 * <p>Owns: the job queue, the fence context ({@link ContextLedger}) and the engine's model clock. Talks to: its
 * device (timeouts), the driver (which performs a job's memory effects: {@link Execute}), the fences it waits on.
 * Every message is local to the member.
 */
public final class Engine extends AbstractBehavior<ContextOwner.Command> {
  /** Engine commands; local to the member. */
  public interface Command extends ContextOwner.Command, NoSerializationVerificationNeeded {}

  /** Queue a job: the engine allocates its out-fence and answers {@link Queued}; it runs once {@link Deps} arrive. */
  public record Queue(long jobId, String process, JobSpec spec, ActorRef<Queued> replyTo) implements Command {}

  /** The job's out-fence, or {@code error < 0} and no fence (the device refused the job). */
  public record Queued(long jobId, FenceRef fence, int error) implements NoSerializationVerificationNeeded {}

  /** The job's dependencies (explicit in-fences and implicit resv fences); {@code error != 0} cancels it with that error. */
  /** A job's dependencies; {@code signalledModelNanos}: when those that had already signalled did (it starts no earlier). */
  public record Deps(long jobId, List<FenceRef> fences, int error, long signalledModelNanos) implements Command {
    public Deps {
      fences = List.copyOf(fences);
    }

    public Deps(long jobId, List<FenceRef> fences, int error) {
      this(jobId, fences, error, 0);
    }
  }

  /** To the driver: perform the job's memory effects now, then answer {@link Executed}. */
  public record Execute(long jobId, int attempt, String process, JobSpec spec, long startModel, ActorRef<Command> replyTo)
      implements NoSerializationVerificationNeeded {}

  /**
   * From the driver: the effects of attempt {@code attempt} are done ({@code result} 0 or a negative errno);
   * {@code transferNanos}: how long its DMA took in model time (a copy over the PCIe fabric; 0: none). The job runs for
   * its duration or its transfer, whichever is longer.
   */
  public record Executed(long jobId, int attempt, int result, long transferNanos) implements Command {
    public Executed(long jobId, int attempt, int result) {
      this(jobId, attempt, result, 0);
    }
  }

  /**
   * From the device, after a timeout on some engine (kernel-semantics §1.19): {@code guiltyHere} — the timed-out
   * job runs here and gets -ETIME; jobs of {@code guiltyProcess} still queued get -ECANCELED; an innocent running
   * job is re-run. {@code wedge}: the reset failed — every job gets -EIO.
   */
  public record Reset(String guiltyProcess, boolean guiltyHere, boolean wedge, int generation) implements Command {}

  /** Make the next job to run (or the running one) hang: its effects never complete. */
  public enum Hang implements Command {
    INSTANCE
  }

  /** Soft unplug: every job is cancelled and every fence of the context signalled with -ENODEV. */
  public record Unplug(ActorRef<Integer> replyTo) implements Command {}

  /** Counters for state queries. */
  public record GetState(ActorRef<EngineState> replyTo) implements Command {}

  public record EngineState(int index, int queued, long modelNanos, long completed, long failed, long hangsPending)
      implements NoSerializationVerificationNeeded {}

  private record DepDone(WaitResult result) implements Command {}

  private record TimedOut(long jobId, int attempt) implements Command {}

  private record Finish(long jobId, int attempt) implements Command {}

  /** Time to send the wait-for edges of the jobs ended since the last one ({@link EdgeRemovals}). */
  private enum FlushEdges implements Command {
    INSTANCE
  }

  private enum Phase {
    QUEUED,
    WAITING,
    RUNNING,
    EXECUTED
  }

  /** A scheduler entity: one process's queue on this engine, with its own fence context (drm_sched_entity). */
  private static final class Entity {
    final ContextLedger ledger;
    long nextSeqno = 1;

    Entity(ContextLedger ledger) {
      this.ledger = ledger;
    }
  }

  private static final class Job {
    final long id;
    final Entity entity;
    final long seqno;
    final String process;
    final JobSpec spec;
    Phase phase = Phase.QUEUED;
    List<FenceRef> deps;
    int depsLeft;
    int depError;
    long depModel;
    int attempt;
    boolean hung;
    long startModel;
    /** How long it runs in model time: its duration, or its DMA transfer if that took longer. */
    long runNanos;
    /** The wait-for edge from the job's out-fence to the job (who must run to signal it). */
    long edge;

    Job(long id, Entity entity, long seqno, String process, JobSpec spec) {
      this.id = id;
      this.entity = entity;
      this.seqno = seqno;
      this.process = process;
      this.spec = spec;
    }
  }

  private final int index;
  private final String label;
  private final DeviceSpec spec;
  private final ActorRef<DeviceActor.Command> device;
  private final ActorRef<Execute> driver;
  private final FenceServices services;
  private final Pacing pacing;
  private final TimerScheduler<ContextOwner.Command> timers;
  private final java.util.Map<String, Entity> entities = new java.util.HashMap<>();
  private final java.util.Map<dev.fencelab.node.fence.FenceContext, Entity> byContext = new java.util.HashMap<>();
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  /** The queued jobs by id: a dependency answer finds its job without scanning the queue. */
  private final java.util.Map<Long, Job> byId = new java.util.HashMap<>();
  private long modelNanos;
  private int hangs;
  private long completed;
  private long failed;
  private final ActorRef<WaitResult> depAdapter;
  private final java.util.Map<Integer, Long> waitKeys = new java.util.HashMap<>();
  /** The in-fence waits bounded by the device's foreign-fence timeout (their keys). */
  private final java.util.Set<Integer> foreignKeys = new java.util.HashSet<>();
  private int nextWaitKey;
  private int generation;
  /** The edges of the jobs ended this turn, sent to the wait-for graph together. */
  private final EdgeRemovals endedEdges;

  public static Behavior<ContextOwner.Command> create(int index, String label, DeviceSpec spec, ActorRef<DeviceActor.Command> device,
      ActorRef<Execute> driver, FenceServices services, Pacing pacing) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new Engine(context, timers, index, label, spec, device, driver, services, pacing)));
  }

  private final dev.fencelab.node.trace.TraceRecorder trace;
  private final String track;

  private Engine(ActorContext<ContextOwner.Command> context, TimerScheduler<ContextOwner.Command> timers, int index, String label,
      DeviceSpec spec, ActorRef<DeviceActor.Command> device, ActorRef<Execute> driver, FenceServices services, Pacing pacing) {
    super(context);
    this.timers = timers;
    this.index = index;
    this.label = label;
    this.spec = spec;
    this.device = device;
    this.driver = driver;
    this.services = services;
    this.pacing = pacing;
    this.depAdapter = context.messageAdapter(WaitResult.class, DepDone::new);
    this.endedEdges = new EdgeRemovals(services.waits(), () -> context.getSelf().tell(FlushEdges.INSTANCE));
    this.trace = dev.fencelab.node.trace.TraceRecorder.get(context.getSystem());
    this.track = label;
  }

  private dev.fencelab.protocol.trace.v1.TraceEvent.Builder jobEvent(dev.fencelab.protocol.trace.v1.EventKind kind, Job job) {
    return dev.fencelab.node.trace.TraceRecorder.event(kind, track).setId(job.id).setFence(job.entity.ledger.id(job.seqno).toString())
        .setName(job.spec.label()).setSubject(job.process);
  }

  @Override
  public Receive<ContextOwner.Command> createReceive() {
    // The builder tries its cases in order (a class check each): a job's dependency and its fence's end come first.
    return newReceiveBuilder()
        .onMessage(DepDone.class, this::onDepDone)
        .onMessage(ContextOwner.FenceCompleted.class, c -> {
          Entity e = byContext.get(c.id().context());
          if (e != null) {
            e.ledger.completed(c.id().seqno(), c.status());
          }
          return this;
        })
        .onMessage(Queue.class, this::onQueue)
        .onMessage(Deps.class, this::onDeps)
        .onMessage(Executed.class, this::onExecuted)
        .onMessage(Finish.class, this::onFinish)
        .onMessage(TimedOut.class, this::onTimedOut)
        .onMessage(Reset.class, this::onReset)
        .onMessageEquals(Hang.INSTANCE, () -> {
          hangs++;
          Job head = queue.peekFirst();
          if (head != null && (head.phase == Phase.RUNNING || head.phase == Phase.EXECUTED) && !head.hung) {
            head.hung = true; // the running job stops making progress
            hangs--;
          }
          return this;
        })
        .onMessage(Unplug.class, this::onUnplug)
        .onMessageEquals(FlushEdges.INSTANCE, () -> {
          endedEdges.flush();
          return this;
        })
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, stop -> {
          endedEdges.flush(); // a stopping engine leaves no edge of its ended jobs behind
          return this;
        })
        .onMessage(GetState.class, g -> {
          g.replyTo().tell(new EngineState(index, queue.size(), modelNanos, completed, failed, hangs));
          return this;
        })
        .onMessage(ContextOwner.DeadlineHint.class, h -> this)
        .onMessage(ContextOwner.QueryCompletion.class, q -> {
          Entity e = byContext.get(q.id().context());
          if (e != null) {
            e.ledger.answer(q);
          } else {
            q.replyTo().tell(new ContextOwner.Completion(q.id(), false, dev.fencelab.node.fence.FenceStatus.PENDING));
          }
          return this;
        })
        .build();
  }

  private Behavior<ContextOwner.Command> onQueue(Queue q) {
    Entity entity = entities.computeIfAbsent(q.process(), p -> {
      Entity e = new Entity(new ContextLedger(services.contexts().allocate(), false, services));
      byContext.put(e.ledger.context(), e);
      return e;
    });
    long seqno = entity.nextSeqno++;
    FenceId id = entity.ledger.id(seqno);
    ActorRef<FenceProtocol.Command> fence = getContext().spawn(Fence.create(id, getContext().getSelf(), services),
        "f" + id.context().id() + "-" + seqno);
    entity.ledger.register(seqno, fence);
    Job queued = new Job(q.jobId(), entity, seqno, q.process(), q.spec());
    queue.addLast(queued);
    byId.put(queued.id, queued);
    queued.edge = services.nextWaitId();
    services.waits().tell(new dev.fencelab.node.check.WaitGraph.AddEdge(new dev.fencelab.node.check.WaitGraph.Edge(queued.edge,
        id.toString(), jobVertex(queued.spec), "", "signalled by its job", dev.fencelab.node.fence.Clocks.wallNanos())));
    if (trace.enabled()) { // nothing built per job when tracing is off
      trace.record(jobEvent(dev.fencelab.protocol.trace.v1.EventKind.JOB_QUEUED, queued).setModelNanos(modelNanos)
          .setBytes(q.spec().durationNanos()));
    }
    q.replyTo().tell(new Queued(q.jobId(), new FenceRef(id, FenceRef.Kind.HARDWARE, false, fence, getContext().getSelf(), 0), 0));
    return this;
  }

  private Job find(long jobId) {
    return byId.get(jobId);
  }

  private Behavior<ContextOwner.Command> onDeps(Deps deps) {
    Job job = find(deps.jobId());
    if (job == null) {
      return this; // cancelled meanwhile (reset, unplug)
    }
    job.deps = deps.fences();
    job.depError = deps.error();
    job.depModel = Math.max(job.depModel, deps.signalledModelNanos());
    job.depsLeft = job.deps.size();
    if (trace.enabled()) {
      var depsEvent = jobEvent(dev.fencelab.protocol.trace.v1.EventKind.JOB_DEPS, job).setStatus(deps.error());
      job.deps.forEach(f -> depsEvent.addDeps(f.id().toString()));
      trace.record(depsEvent);
    }
    if (job.depError == 0) {
      String waiter = jobVertex(job.spec);
      for (FenceRef f : job.deps) {
        int key = nextWaitKey++;
        waitKeys.put(key, job.id);
        boolean bounded = foreign(f) && !spec.foreignFenceTimeout().isZero(); // i915: foreign fences wait at most this long
        if (bounded) {
          foreignKeys.add(key);
        }
        FenceWaits.start(getContext(), f, bounded ? spec.foreignFenceTimeout() : null, waiter,
            bounded ? "job in-fence (foreign, bounded)" : "job in-fence", key, depAdapter, services);
      }
      job.phase = Phase.WAITING;
    }
    advance();
    return this;
  }

  private Behavior<ContextOwner.Command> onDepDone(DepDone done) {
    Long jobId = waitKeys.remove(done.result().index());
    Job job = jobId == null ? null : find(jobId);
    if (job == null || job.phase != Phase.WAITING) {
      return this;
    }
    job.depsLeft--;
    int status = done.result().status().value();
    boolean foreignBound = foreignKeys.remove(done.result().index());
    if (!done.result().signalled()) {
      // a foreign fence past the device's bound: the request is skipped with -ETIMEDOUT (i915_sw_fence timer); otherwise
      // the wait cap ended it: the dependency never signalled
      status = foreignBound ? Errno.ETIMEDOUT.negative() : Errno.ETIME.negative();
    }
    if (status < 0 && job.depError == 0) {
      job.depError = status; // the first failed dependency, in completion order
    }
    job.depModel = Math.max(job.depModel, done.result().status().modelNanos());
    advance();
    return this;
  }

  /** Starts the head job when it can run; completes failed ones; repeats. */
  private void advance() {
    while (!queue.isEmpty()) {
      Job head = queue.peekFirst();
      if (head.deps == null || (head.phase == Phase.WAITING && head.depsLeft > 0 && head.depError == 0)) {
        return; // dependencies unknown or pending
      }
      if (head.phase == Phase.RUNNING || head.phase == Phase.EXECUTED) {
        return;
      }
      if (head.depError != 0) {
        // A failed dependency fails the job: it does not run; its fence carries the dependency's error unchanged.
        finish(head, head.depError, Math.max(modelNanos, head.depModel));
        continue;
      }
      if (!start(head)) {
        return; // it runs: its end advances the queue
      }
    }
  }

  /**
   * Starts {@code job}. True if it also ended in this turn: a job with nothing for the driver to do and no real time
   * to take (not paced in real time) runs and completes at once, as the queue's next step — its start and end events,
   * its model times and its fence's signal are those of a job that ran; only no TDR is armed for it, as nothing of it
   * can hang (a hang already asked for goes to this job, which then runs the full path).
   */
  private boolean start(Job job) {
    job.phase = Phase.RUNNING;
    job.attempt++;
    job.startModel = Math.max(modelNanos, job.depModel);
    if (hangs > 0 && !job.hung) {
      hangs--;
      job.hung = true;
    }
    if (trace.enabled()) {
      trace.record(jobEvent(dev.fencelab.protocol.trace.v1.EventKind.JOB_START, job).setModelNanos(job.startModel)
          .setResult(job.attempt).setDetail(job.hung ? "hung" : ""));
    }
    // run_job has nothing for the driver to do — no buffer to touch, nothing to allocate, fault or lock on its clean
    // signalling path — so the driver's answer is known: ran.
    boolean clean = job.spec.copy() == null && job.spec.allReads().isEmpty() && job.spec.allWrites().isEmpty()
        && spec.signalling().equals(DeviceSpec.SignallingPath.CLEAN);
    if (clean && !job.hung && pacing.realDelay(job.spec.durationNanos()).isZero()) {
      job.phase = Phase.EXECUTED;
      job.runNanos = job.spec.durationNanos();
      finish(job, 0, job.startModel + job.runNanos); // the caller's loop starts the next one: a ready queue never recurses
      return true;
    }
    timers.startSingleTimer("timeout", new TimedOut(job.id, job.attempt), spec.jobTimeout()); // the TDR, whoever runs it
    if (clean) {
      getContext().getSelf().tell(new Executed(job.id, job.attempt, 0, 0)); // a hung or paced job: the full path
      return false;
    }
    driver.tell(new Execute(job.id, job.attempt, job.process, job.spec, job.startModel, getContext().getSelf().narrow()));
    return false;
  }

  private Behavior<ContextOwner.Command> onExecuted(Executed executed) {
    Job head = queue.peekFirst();
    if (head == null || head.id != executed.jobId() || head.attempt != executed.attempt() || head.phase != Phase.RUNNING) {
      return this; // a stale attempt (reset re-ran or cancelled it)
    }
    if (head.hung) {
      return this; // a hung job never completes: only the timeout ends it
    }
    if (executed.result() != 0) {
      timers.cancel("timeout");
      finish(head, executed.result(), head.startModel);
      advance();
      return this;
    }
    head.phase = Phase.EXECUTED;
    head.runNanos = Math.max(head.spec.durationNanos(), executed.transferNanos());
    Duration real = pacing.realDelay(head.runNanos);
    if (real.isZero()) {
      return onFinish(new Finish(head.id, head.attempt));
    }
    timers.startSingleTimer("run", new Finish(head.id, head.attempt), real);
    return this;
  }

  private Behavior<ContextOwner.Command> onFinish(Finish f) {
    Job head = queue.peekFirst();
    if (head == null || head.id != f.jobId() || head.attempt != f.attempt() || head.phase != Phase.EXECUTED || head.hung) {
      return this;
    }
    timers.cancel("timeout");
    finish(head, 0, head.startModel + head.runNanos);
    advance();
    return this;
  }

  private Behavior<ContextOwner.Command> onTimedOut(TimedOut t) {
    Job head = queue.peekFirst();
    if (head == null || head.id != t.jobId() || head.attempt != t.attempt()) {
      return this;
    }
    device.tell(new DeviceActor.EngineTimedOut(index, head.spec.label(), head.process, generation));
    return this;
  }

  private Behavior<ContextOwner.Command> onReset(Reset reset) {
    generation = reset.generation();
    timers.cancel("timeout");
    timers.cancel("run");
    long now = modelNanos;
    if (reset.wedge()) {
      for (Job j : new ArrayList<>(queue)) {
        finish(j, Errno.EIO.negative(), now);
      }
      hangs = 0;
      return this;
    }
    Job head = queue.peekFirst();
    boolean running = head != null && (head.phase == Phase.RUNNING || head.phase == Phase.EXECUTED);
    if (running && reset.guiltyHere()) {
      finish(head, Errno.ETIME.negative(), head.startModel + spec.jobTimeout().toNanos());
    }
    for (Job j : new ArrayList<>(queue)) {
      boolean runningNow = j == queue.peekFirst() && (j.phase == Phase.RUNNING || j.phase == Phase.EXECUTED);
      if (!runningNow && j.process.equals(reset.guiltyProcess())) {
        finish(j, Errno.ECANCELED.negative(), now); // the rest of the guilty context
      }
    }
    hangs = 0;
    Job still = queue.peekFirst();
    if (still != null && (still.phase == Phase.RUNNING || still.phase == Phase.EXECUTED)) {
      still.hung = false;
      if (start(still)) { // an innocent job caught in the reset runs again
        advance();
      }
    } else {
      advance();
    }
    return this;
  }

  private Behavior<ContextOwner.Command> onUnplug(Unplug unplug) {
    timers.cancelAll();
    int n = 0;
    for (Job j : new ArrayList<>(queue)) {
      finish(j, Errno.ENODEV.negative(), modelNanos);
      n++;
    }
    entities.values().forEach(e -> e.ledger.signalAll(Errno.ENODEV, modelNanos)); // anything not tied to a job
    unplug.replyTo().tell(n);
    return this;
  }

  /** Signals the job's fence (owner-routed, so a second signal is caught) and removes the job. */
  private void finish(Job job, int error, long endModel) {
    queue.remove(job);
    byId.remove(job.id);
    endedEdges.remove(job.edge);
    modelNanos = Math.max(modelNanos, endModel);
    if (trace.enabled()) {
      trace.record(jobEvent(dev.fencelab.protocol.trace.v1.EventKind.JOB_END, job).setStatus(error == 0 ? 1 : error)
          .setModelNanos(Math.max(1, endModel)));
    }
    if (error == 0) {
      completed++;
    } else {
      failed++;
    }
    if (job.entity.ledger.beginSignal(job.seqno)) {
      job.entity.ledger.live(job.seqno).ifPresent(f -> f.tell(new FenceProtocol.Signal(error, modelNanos, null)));
    }
  }

  /** A fence another device signals: not one of this device's engines' (dma_fence_is_i915 false, for i915). */
  private boolean foreign(FenceRef f) {
    return f.owner() == null || !f.owner().path().parent().equals(getContext().getSelf().path().parent());
  }

  /** The job as a vertex of the wait-for graph (and the waiter of its in-fence waits): {@code n1/gpu/engine0 job fill}. */
  private String jobVertex(JobSpec spec) {
    return label + " job " + spec.label();
  }

  /** The vertex of a job of engine {@code engine} of the device labelled {@code device}, as {@link #jobVertex} names it. */
  public static String jobVertex(String device, int engine, String job) {
    return device + "/engine" + engine + " job " + job;
  }
}
