package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.trace.v1.ClockOffset;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Runs one validated scenario on a cluster, from any member (the {@code fencelab run} client), in phases: measure
 * every node's clock ({@link Clocks}), place devices, processes and buffers ({@link Placements}), run the steps as
 * their dependencies allow ({@link StepSchedule}; each through the step protocol, {@link StepClient}), inject the
 * chaos schedule's faults at their times ({@link Faults}), wait for the open waits to end, take the final checksums,
 * collect every live node's trace ({@link Harvest}), and complete {@link Params#result} with the {@link RunRecord}
 * the checker reads.
 *
 * <p>It talks to the nodes only with protocol messages, never blocks (asks piped to itself, Pekko timers), and never
 * waits without a bound: every call has the scenario's step timeout; a step that needs a node the run killed fails at
 * once with {@code -ENODEV}; the steps after a failed step are skipped (reported, not run).
 */
public final class ScenarioRun extends AbstractBehavior<ScenarioRun.Msg> {
  public record Params(Scenario scenario, List<Fault> schedule, long seed, String pace, String tag,
      Map<String, ActorRef<NodeControl>> agents, NodeKiller killer, Consumer<String> progress, Duration stepTimeout,
      CompletableFuture<RunRecord> result) {
    public Params {
      Objects.requireNonNull(scenario, "scenario");
      schedule = List.copyOf(schedule);
      agents = Map.copyOf(agents);
      Objects.requireNonNull(killer, "killer");
      Objects.requireNonNull(progress, "progress");
      Objects.requireNonNull(result, "result");
    }
  }

  /** Local to the runner's member. */
  public interface Msg extends NoSerializationVerificationNeeded {}

  /** Stop the run now (Ctrl-C, SIGTERM): it is aborted with {@code why}, and what there is gets collected and recorded. */
  public record Interrupt(String why) implements Msg {}

  /** A scheduled device fault's injection answered (it may come after the steps ended). */
  record FaultDone(String source, StepClient.Sent sent) implements Msg {
    void noteFailure(RunLog log) {
      var r = sent.result();
      if (!r.getExecuted() || r.getRet() != 0) {
        log.note(source + ": " + r.getDetail());
      }
    }
  }

  private record Clocked(List<ClockOffset> offsets) implements Msg {}

  private record Placed(int round, List<StepClient.Sent> results) implements Msg {}

  private record StepDone(int index, long begin, StepClient.Sent sent, String runnerDetail) implements Msg {}

  private record FaultDue(int index) implements Msg {}

  /** A pause, partition or link delay has lasted its {@code for}. */
  private record FaultEnds(int id) implements Msg {}

  /** A node agent carried out a cluster fault. */
  private record FaultAck(dev.fencelab.protocol.control.Ack ack) implements Msg {}

  /** The cluster removed a member (a node downed while paused or partitioned away, the coordinator, one we killed). */
  private record MemberGone(org.apache.pekko.cluster.ClusterEvent.MemberRemoved removed) implements Msg {}

  /** Time to collect the nodes' new trace events (so a node killed later keeps them). */
  private enum PollTraces implements Msg {
    INSTANCE
  }

  private record Fail(String why) implements Msg {}

  private record Aborted(String why) implements Msg {}

  private final Params p;
  private final Scenario s;
  /** Steps ended or skipped so far: each step line says how far the run is ({@code 12/40}). */
  private int stepsEnded;
  private final TimerScheduler<Msg> timers;
  private final RunLog log;
  private final RunDirectory names;
  private final StepClient client;
  private final Outcomes outcomes;
  private final Placements placements;
  private final Faults faults;
  private final ClusterFaults clusterFaults;
  private final Harvest harvest;
  private final StepSchedule schedule;
  private final RunRecord.Builder record = RunRecord.newBuilder();
  private final FaultSchedule chaos;
  /** The run's id on the nodes (its tag, when it has one). */
  private final String run;
  private long stepsStart;
  /** The run's deadlock detector (every member streams its wait-for edges to it), from placement on. */
  private ActorRef<Object> deadlocks;
  private final java.util.Set<String> deadNotified = new java.util.HashSet<>();
  private final StepEdges stepEdges;

  public static Behavior<Msg> create(Params params) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new ScenarioRun(context, timers, params)));
  }

  private ScenarioRun(ActorContext<Msg> context, TimerScheduler<Msg> timers, Params params) {
    super(context);
    this.p = params;
    this.s = params.scenario();
    this.timers = timers;
    this.log = new RunLog(params.progress());
    this.names = new RunDirectory(s, params.agents());
    this.run = p.tag().isEmpty() ? "run-" + log.start() : p.tag();
    this.client = new StepClient(names, run, p.stepTimeout(), context.getSystem().scheduler()).seed(p.seed());
    this.outcomes = new Outcomes(names);
    this.placements = new Placements(names, client, name -> p.tag().isEmpty() ? name : name + "-" + p.tag());
    this.faults = new Faults(names, p.killer(), log);
    this.clusterFaults = new ClusterFaults(names, log, faults, context.messageAdapter(dev.fencelab.protocol.control.Ack.class, FaultAck::new),
        (id, delay) -> timers.startSingleTimer("cluster-fault-" + id, new FaultEnds(id), delay), () -> controlPlane(context));
    org.apache.pekko.cluster.typed.Cluster.get(context.getSystem()).subscriptions().tell(org.apache.pekko.cluster.typed.Subscribe.create(
        context.messageAdapter(org.apache.pekko.cluster.ClusterEvent.MemberRemoved.class, MemberGone::new),
        org.apache.pekko.cluster.ClusterEvent.MemberRemoved.class));
    this.harvest = new Harvest(names, context.getSystem().scheduler());
    this.schedule = new StepSchedule(s);
    this.stepEdges = new StepEdges(s, run);
    this.chaos = new FaultSchedule(p.schedule(), (i, delay) -> timers.startSingleTimer("fault-" + i, new FaultDue(i), delay));
    record.setScenario(s.getName()).setDefinition(s).setTag(p.tag()).setSeed(p.seed()).setPace(p.pace()).addAllSchedule(p.schedule()).setWallStartNanos(log.start());
    s.getDevicesList().forEach(d -> record.putDeviceNodes(d.getName(), d.getNode()));
    p.agents().forEach((name, agent) -> record.putNodeAddresses(name, agent.path().address().toString()));
    for (String node : names.nodes()) {
      if (!p.agents().containsKey(node)) {
        context.getSelf().tell(new Fail("the cluster has no node '" + node + "' (it has: " + p.agents().keySet() + ")"));
        return;
      }
    }
    context.pipeToSelf(Clocks.measure(names, context.getSystem().scheduler()), (offsets, failure) -> failure != null
        ? new Fail("measuring clock offsets failed: " + failure.getMessage()) : new Clocked(offsets));
  }

  @Override
  public Receive<Msg> createReceive() {
    return newReceiveBuilder()
        .onMessage(Clocked.class, m -> guarded(() -> onClocked(m)))
        .onMessage(Placed.class, m -> guarded(() -> onPlaced(m)))
        .onMessage(StepDone.class, m -> guarded(() -> onStepDone(m)))
        .onMessage(FaultDue.class, m -> guarded(() -> onFaultDue(m)))
        .onMessage(FaultDone.class, this::onFaultDone)
        .onMessage(FaultEnds.class, e -> guarded(() -> {
          clusterFaults.end(e.id());
          return maybeFinish();
        }))
        .onMessage(FaultAck.class, a -> {
          log.say(a.ack().nodeName() + ": " + a.ack().detail());
          return this;
        })
        .onMessage(MemberGone.class, m -> guarded(() -> onMemberGone(m.removed().member())))
        .onMessage(PollTraces.class, m -> {
          harvest.poll();
          return this;
        })
        .onMessage(Fail.class, f -> fail(f.why()))
        .onMessage(Aborted.class, a -> abort(a.why()))
        .onMessage(Interrupt.class, i -> abort(i.why()))
        .onMessage(DeadlockWatch.Found.class, f -> {
          f.record(log, names);
          return this;
        })
        .onMessage(DeadlockWatch.Broken.class, b -> {
          b.record(log, names);
          return this;
        })
        .onSignal(PostStop.class, stop -> {
          // A runner that failed (a bug) must not leave its caller waiting for the run timeout.
          p.result().completeExceptionally(new IllegalStateException("the scenario runner stopped before the run ended "
              + "(a fencelab bug: see the client member's log)"));
          return this;
        })
        .build();
  }

  /** A handler; an error in it (a fencelab bug) aborts the run with the error instead of stopping the runner. */
  private Behavior<Msg> guarded(java.util.function.Supplier<Behavior<Msg>> handler) {
    try {
      return handler.get();
    } catch (RuntimeException e) {
      getContext().getLog().error("scenario runner error", e);
      return abort("a runner error (a fencelab bug): " + e);
    }
  }

  /**
   * Ends a run that cannot go on (its set-up failed, or the runner hit an error): the steps that did not run are
   * recorded as not run, the nodes' traces are still collected, and the record says why — a FAIL with what there is.
   */
  private Behavior<Msg> abort(String why) {
    log.say("ABORTED: " + why);
    record.setAborted(why);
    schedule.abandon("not run: the run was aborted (" + why + ")", i -> StepOutcome.newBuilder().setId(ScenarioSteps.id(s, i))
        .setAction(ScenarioSteps.action(s.getSteps(i))).setStatus(Errno.ECANCELED.negative()));
    return ending().collectNow();
  }

  /** Fails a run that never got going (a node missing, clocks not measured): no record, the error. */
  private Behavior<Msg> fail(String why) {
    p.result().completeExceptionally(new IllegalStateException(why));
    names.release(run, p.tag(), getContext().getSystem().scheduler()); // what it placed must not stay on a long-lived cluster
    return Behaviors.stopped();
  }

  // --- 1. clocks, 2. placement

  private Behavior<Msg> onClocked(Clocked clocked) {
    record.addAllClocks(clocked.offsets());
    for (ClockOffset c : clocked.offsets()) {
      log.say(String.format("clock of %s: offset %+.3f ms (± %.1f us, best of %d pings)", c.getNode(), c.getOffsetNanos() / 1e6,
          c.getUncertaintyNanos() / 1e3, c.getSamples()));
    }
    getContext().pipeToSelf(placements.fabric(), (r, failure) -> failure != null
        ? new Aborted("placing the PCIe fabric failed: " + failure.getMessage()) : new Placed(0, r));
    return this;
  }

  private Behavior<Msg> onPlaced(Placed placed) {
    String errors = placements.apply(placed.results());
    if (!errors.isEmpty()) {
      return abort(placed.round() == 0 ? "placing the PCIe fabric failed: " + errors
          : placed.round() == 1 ? "placement failed: " + errors : "creating buffers failed: " + errors);
    }
    if (placed.round() == 0) {
      getContext().pipeToSelf(placements.devicesAndProcesses(), (r, failure) -> failure != null
          ? new Aborted("placement failed: " + failure.getMessage()) : new Placed(1, r));
      return this;
    }
    if (placed.round() == 1) {
      log.say("placed " + s.getDevicesCount() + " device(s) and " + s.getProcessesCount() + " process(es)");
      getContext().pipeToSelf(placements.buffers(), (r, failure) -> failure != null
          ? new Aborted("creating buffers failed: " + failure.getMessage()) : new Placed(2, r));
      return this;
    }
    log.say("created " + s.getBuffersCount() + " buffer(s); running " + s.getStepsCount() + " step(s)");
    deadlocks = getContext().spawn(DeadlockWatch.create(getContext().getSelf()), "deadlocks");
    ActorRef<dev.fencelab.protocol.control.WaitsChanged> watcher = deadlocks.narrow();
    names.nodes().forEach(n -> names.agent(n).tell(new dev.fencelab.protocol.control.WatchWaits(run, watcher)));
    stepsStart = System.nanoTime();
    timers.startTimerWithFixedDelay(PollTraces.INSTANCE, Harvest.POLL);
    chaos.stepsStart();
    startReady();
    return maybeFinish();
  }

  // --- 3. steps

  private void startReady() {
    for (int i = schedule.next(); i >= 0; i = schedule.next()) {
      String id = ScenarioSteps.id(s, i);
      Step step = s.getSteps(i);
      long now = System.nanoTime();
      if (schedule.blocked(i)) {
        schedule.done(i, StepOutcome.newBuilder().setId(id).setAction(ScenarioSteps.action(step)).setSkipped(true)
            .setStatus(Errno.ECANCELED.negative()).setDetail("skipped: a step it comes after failed")
            .setWallBeginNanos(now).setWallEndNanos(now).build());
        log.say(String.format("%" + width() + "d/%d step %s skipped (a step it comes after failed)", ++stepsEnded, s.getStepsCount(), id));
        continue;
      }
      log.add(RunLog.event(EventKind.STEP_BEGIN, "steps").setName(id).setDetail(Outcomes.describe(step)).setId(i));
      int index = i;
      getContext().pipeToSelf(run(step, id), (done, failure) -> done != null ? done.at(index, now)
          : new StepDone(index, now, null, "no answer within " + p.stepTimeout().toSeconds() + " s (" + failure.getClass().getSimpleName() + ")"));
    }
  }

  /** What a step's execution produced, before the runner knows its index. */
  private record Ran(StepClient.Sent sent, String runnerDetail) {
    StepDone at(int index, long begin) {
      return new StepDone(index, begin, sent, runnerDetail);
    }
  }

  private CompletionStage<Ran> run(Step step, String id) {
    switch (step.getActionCase()) {
      case KILL_NODE:
        return CompletableFuture.completedFuture(new Ran(null, faults.kill(step.getKillNode().getNode(), "step")));
      case PAUSE_NODE, PARTITION, KILL_COORDINATOR, LINK_DELAY:
        return CompletableFuture.completedFuture(new Ran(null, clusterFaults.inject(step, "step")));
      case PAUSE: {
        long nanos = Units.nanos(step.getPause().getDuration());
        return org.apache.pekko.pattern.Patterns.after(Duration.ofNanos(nanos), getContext().getSystem().classicSystem().scheduler(),
            getContext().getExecutionContext(), () -> CompletableFuture.completedFuture(new Ran(null, "paused " + Units.human(nanos))));
      }
      default: {
        Step complete = client.complete(step);
        faults.announce(complete, "step");
        return clusterFaults.whenReachable(client.nodeOf(complete)) // held while a partition cuts its node off
            .thenCompose(reachable -> client.execute(complete, id)).thenApply(sent -> new Ran(sent, null));
      }
    }
  }

  private Behavior<Msg> onStepDone(StepDone done) {
    int i = done.index();
    String id = ScenarioSteps.id(s, i);
    Step step = s.getSteps(i);
    StepOutcome.Builder b;
    if (done.sent() != null) {
      log.observeModel(done.sent().result().getModelNanos());
      outcomes.bind(client.complete(step), done.sent().node(), done.sent().result());
      b = outcomes.outcome(step, done.sent().node(), done.sent().result());
      if (step.hasChecksum()) {
        record.addChecksums(Outcomes.checksum(step.getChecksum().getBuffer(), id, done.sent(), log));
      } else if (step.hasCpuRead() && done.sent().result().getRet() == 0) { // a region's bytes, comparable with a buffer's
        String name = step.getCpuRead().getAs().isEmpty() ? step.getCpuRead().getRegion() : step.getCpuRead().getAs();
        record.addChecksums(Outcomes.checksum(name, id, done.sent(), log));
      } else if (step.hasDmirror() && !step.getDmirror().getAs().isEmpty() && done.sent().result().getRet() == 0) { // what a device read
        record.addChecksums(Outcomes.checksum(step.getDmirror().getAs(), id, done.sent(), log));
      }
    } else {
      boolean answered = !ScenarioSteps.isProtocolStep(step); // the runner's own actions: pause and the cluster faults
      int status = answered ? 0 : Errno.ETIMEDOUT.negative();
      b = StepOutcome.newBuilder().setAction(ScenarioSteps.action(step)).setStatus(status).setRet(status).setDetail(done.runnerDetail());
    }
    b.setId(id).setWallBeginNanos(done.begin()).setWallEndNanos(System.nanoTime());
    Outcomes.expectations(step, b);
    schedule.done(i, b.build());
    log.add(RunLog.event(EventKind.STEP_END, "steps").setName(id).setStatus(b.getStatus()).setDetail(b.getDetail()).setId(i)
        .setFence(b.getFence()).setResult(b.getWaitResult()));
    log.say(String.format("%" + width() + "d/%d step %-22s %s%s", ++stepsEnded, s.getStepsCount(), id, !b.getUnexpected().isEmpty() ? "UNEXPECTED" : b.getStatus() == 0 ? "ok    " : "FAILED",
        (b.getDetail().isEmpty() ? "" : "  " + b.getDetail()) + (b.getUnexpected().isEmpty() ? "" : "  [" + b.getUnexpected() + "]")));
    chaos.stepEnded(id);
    stepEnded(i, step, b);
    startReady();
    return maybeFinish();
  }

  /** The runner's own wait-for edges: a point made, a step ended (see {@link StepEdges}). */
  private void stepEnded(int i, Step step, StepOutcome.Builder b) {
    if (deadlocks == null) {
      return;
    }
    List<WaitForGraph.Edge> added = new java.util.ArrayList<>();
    if (step.hasPoint() && b.getStatus() == 0) {
      var fence = names.fence(step.getPoint().getAs());
      if (fence != null) {
        added.addAll(stepEdges.point(step.getPoint().getTimeline(), dev.fencelab.protocol.step.FenceText.id(fence)));
      }
    }
    // A step that timed out (or was skipped) is still blocked, or will never run: its waits stay.
    boolean returned = !b.getSkipped() && b.getStatus() != Errno.ETIMEDOUT.negative();
    List<String> removed = returned ? stepEdges.done(i) : List.of();
    if (!added.isEmpty() || !removed.isEmpty()) {
      deadlocks.tell(new DeadlockWatch.RunnerEdges(added, removed));
    }
  }

  // --- faults of the chaos schedule

  private Behavior<Msg> onFaultDue(FaultDue due) {
    Fault f = chaos.fire(due.index());
    if (f == null) {
      return this;
    }
    String source = "chaos #" + (due.index() + 1);
    if (!f.getKillNode().isEmpty()) {
      faults.kill(f.getKillNode(), source);
      return maybeFinish();
    }
    if (ClusterFaults.isClusterFault(f)) {
      clusterFaults.inject(f, source);
      return maybeFinish();
    }
    Step step = Faults.step(f);
    String device = Faults.device(step);
    if (faults.gone(device)) {
      log.say("FAULT on " + device + " not injected: it is already gone");
      log.note(source + " on " + device + " not injected: the device was already gone");
      return maybeFinish();
    }
    faults.announce(step, source);
    getContext().pipeToSelf(client.execute(step, source), (sent, failure) -> new FaultDone(source, sent != null ? sent
        : new StepClient.Sent("", dev.fencelab.protocol.step.v1.StepResult.newBuilder().setRet(Errno.ETIMEDOUT.negative())
            .setDetail("no answer (" + failure + ")").build())));
    return maybeFinish();
  }

  private Behavior<Msg> onFaultDone(FaultDone done) {
    done.noteFailure(log);
    return this;
  }

  /** A member left the cluster: a scenario node the run did not kill (downed while paused, partitioned away) is down. */
  private Behavior<Msg> onMemberGone(org.apache.pekko.cluster.Member member) {
    return clusterFaults.memberRemoved(member) ? maybeFinish() : this;
  }

  /** The addresses of the members without the node role: the coordinator and the runners (the control plane). */
  private static List<String> controlPlane(ActorContext<Msg> context) {
    List<String> addresses = new java.util.ArrayList<>();
    org.apache.pekko.cluster.typed.Cluster.get(context.getSystem()).state().getMembers().forEach(m -> {
      if (!m.getRoles().contains("node")) {
        addresses.add(m.address().toString());
      }
    });
    return addresses;
  }

  // --- 4. the end

  private Behavior<Msg> maybeFinish() {
    for (String node : names.deadNodes()) {
      if (deadlocks != null && deadNotified.add(node)) {
        deadlocks.tell(new DeadlockWatch.NodeDown(node)); // its waits died with it
      }
    }
    if (!schedule.allDone()) {
      return this;
    }
    boolean due = chaos.pending((i, f) ->
        log.note("chaos #" + (i + 1) + " (" + f.getAfterStep() + ") never became due: its step did not run"));
    if (due) {
      return this; // a fault still to fire (after a step that is done, or at a time still ahead): the run ends after it
    }
    if (clusterFaults.active()) {
      return this; // a pause, partition or link delay still lasting: the run ends after it
    }
    log.say("all " + s.getStepsCount() + " steps done in " + String.format("%.3f s", (System.nanoTime() - stepsStart) / 1e9)
        + schedule.stepTimes() + "; waiting for every wait on the live nodes to end (at most " + RunEnd.DRAIN.toSeconds() + " s)");
    return ending()
        .start();
  }

  /** The run's end phase, handed everything the run gathered. */
  private RunEnd ending() {
    timers.cancel(PollTraces.INSTANCE); // the end collects the rest
    return new RunEnd(getContext(), timers, new RunEnd.Run(p.result(), record, log, names, client, faults, harvest, schedule, run,
        p.tag(), (buffer, at, sent) -> Outcomes.checksum(buffer, at, sent, log)));
  }

  /** The width of the step count, so that the lines of a run align. */
  private int width() {
    return Integer.toString(s.getStepsCount()).length();
  }
}
