package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Checksum;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.trace.v1.BufferChecksum;
import dev.fencelab.protocol.trace.v1.RunRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The run actor once every step has an outcome: it polls the live nodes until no wait is open (at most
 * {@link #DRAIN}), takes the final checksums of the surviving buffers, lets the last trace writes land, collects
 * every live node's trace, completes the run's result with its record, and releases what the run created on the
 * nodes.
 */
final class RunEnd extends AbstractBehavior<ScenarioRun.Msg> {
  /** How long the run waits, after its last step, for the waits still open on live nodes (an unplug resolving). */
  static final Duration DRAIN = Duration.ofSeconds(20);

  /** What the end works with, handed over by the run. */
  record Run(CompletableFuture<RunRecord> result, RunRecord.Builder record, RunLog log, RunDirectory names, StepClient client,
      Faults faults, Harvest harvest, StepSchedule schedule, String run, String tag, Reading checksum) {}

  /** Reads a checksum step's result into the record's form. */
  interface Reading {
    BufferChecksum of(String buffer, String at, StepClient.Sent sent);
  }

  private record Drained(Harvest.Open open) implements ScenarioRun.Msg {}

  private record FinalSums(List<BufferChecksum> sums) implements ScenarioRun.Msg {}

  private enum Settled implements ScenarioRun.Msg { INSTANCE }

  private enum DrainTick implements ScenarioRun.Msg { INSTANCE }

  private record Collected(Harvest.Traces traces) implements ScenarioRun.Msg {}

  /** Every node acknowledged the release (or its ask ended): the run's result can go. */
  private record Released(RunRecord record) implements ScenarioRun.Msg {}

  private final TimerScheduler<ScenarioRun.Msg> timers;
  private final Run r;
  private final long drainDeadline = System.nanoTime() + DRAIN.toNanos();

  RunEnd(ActorContext<ScenarioRun.Msg> context, TimerScheduler<ScenarioRun.Msg> timers, Run run) {
    super(context);
    this.timers = timers;
    this.r = run;
  }

  Behavior<ScenarioRun.Msg> start() {
    onDrainTick();
    return this;
  }

  /** An aborted run: no drain, no final checksums; the traces as they are. */
  Behavior<ScenarioRun.Msg> collectNow() {
    return onSettled();
  }

  @Override
  public Receive<ScenarioRun.Msg> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(DrainTick.INSTANCE, this::onDrainTick)
        .onMessage(Drained.class, this::onDrained)
        .onMessage(DeadlockWatch.Found.class, f -> {
          f.record(r.log(), r.names());
          return this;
        })
        .onMessage(DeadlockWatch.Broken.class, b -> {
          b.record(r.log(), r.names());
          return this;
        })
        .onMessage(FinalSums.class, this::onFinalSums)
        .onMessageEquals(Settled.INSTANCE, this::onSettled)
        .onMessage(Collected.class, this::onCollected)
        .onMessage(Released.class, rel -> {
          r.result().complete(rel.record());
          return Behaviors.stopped();
        })
        .onMessage(ScenarioRun.Interrupt.class, i -> {
          if (!collecting) {
            r.record().setAborted(i.why());
            r.log().note("interrupted while ending: " + i.why());
            return onSettled(); // no more draining: collect what there is
          }
          return this;
        })
        .onMessage(ScenarioRun.FaultDone.class, done -> {
          done.noteFailure(r.log());
          return this;
        })
        .onSignal(PostStop.class, stop -> {
          r.result().completeExceptionally(new IllegalStateException("the scenario runner stopped before the run ended "
              + "(a fencelab bug: see the client member's log)"));
          return this;
        })
        .build();
  }

  private Behavior<ScenarioRun.Msg> onDrainTick() {
    getContext().pipeToSelf(r.harvest().openWaits(), (open, failure) -> new Drained(open != null ? open
        : new Harvest.Open(-1, String.valueOf(failure))));
    return this;
  }

  private Behavior<ScenarioRun.Msg> onDrained(Drained d) {
    int open = d.open().waits();
    boolean deadlocked = open > 0 && open == d.open().inDeadlock(); // every wait left is a reported deadlock's: none will end
    if (open != 0 && !deadlocked && System.nanoTime() < drainDeadline) {
      timers.startSingleTimer(DrainTick.INSTANCE, Duration.ofMillis(200));
      return this;
    }
    if (deadlocked) {
      r.log().note(open + " wait(s) still open, every one part of a reported DEADLOCK (the kernel would hang there)");
    } else if (open != 0) {
      r.log().note(open < 0 ? "could not list the open waits: " + d.open().sample()
          : open + " wait(s) still open " + DRAIN.toSeconds() + " s after the last step (e.g. " + d.open().sample() + ")");
    }
    r.log().say((open == 0 ? "no wait open" : deadlocked ? open + " wait(s) open, all in the reported deadlock" : open + " wait(s) still open")
        + "; final checksums of the surviving buffers");
    List<CompletableFuture<BufferChecksum>> sums = new ArrayList<>();
    for (Buffer b : r.names().scenario().getBuffersList()) {
      if (!r.faults().gone(b.getDevice())) {
        Step sum = Step.newBuilder().setChecksum(Checksum.newBuilder().setBuffer(b.getName())).build();
        sums.add(r.client().execute(sum, "final").thenApply(sent -> r.checksum().of(b.getName(), "final", sent)).toCompletableFuture());
      }
    }
    getContext().pipeToSelf(Futures.allOf(sums), (list, failure) -> new FinalSums(failure != null ? List.of() : list));
    return this;
  }

  private Behavior<ScenarioRun.Msg> onFinalSums(FinalSums sums) {
    r.record().addAllChecksums(sums.sums());
    // Let the last signals, wait ends and trace writes land before collecting (a few flush intervals).
    timers.startSingleTimer(Settled.INSTANCE, Duration.ofMillis(300));
    return this;
  }

  private boolean collecting;

  private Behavior<ScenarioRun.Msg> onSettled() {
    if (collecting) {
      return this;
    }
    collecting = true;
    getContext().pipeToSelf(r.harvest().traces(), (traces, failure) -> new Collected(traces != null ? traces
        : new Harvest.Traces(List.of(), List.of("could not collect the traces: " + failure))));
    return this;
  }

  /**
   * lockdep over the collected dependencies (kernel-semantics §1.18): each report is a VIOLATION on the member and
   * code path whose acquisition closed the cycle, at its time.
   */
  private void lockOrder(RunRecord.Builder record) {
    java.util.Map<String, Long> offsets = new java.util.HashMap<>();
    record.getClocksList().forEach(c -> offsets.put(c.getNode(), c.getOffsetNanos()));
    var scenario = r.names().scenario();
    for (var f : dev.fencelab.coordinator.scenario.LockOrder.check(record.getEventsList(),
        node -> dev.fencelab.protocol.scenario.Hosts.ofNode(scenario, node), e -> e.getWallNanos() - offsets.getOrDefault(e.getNode(), 0L))) {
      record.addEvents(f.at().toBuilder().setKind(dev.fencelab.protocol.trace.v1.EventKind.VIOLATION).setName(f.kind())
          .setSubject(f.subject()).setDetail(f.detail()).clearDeps().setStatus(0).setSeq(0));
      r.log().say(f.kind() + ": " + f.subject());
    }
  }

  private Behavior<ScenarioRun.Msg> onCollected(Collected collected) {
    RunRecord.Builder record = r.record();
    int n = Harvest.keep(record, collected.traces().chunks(), r.log().start());
    collected.traces().notes().forEach(r.log()::note);
    lockOrder(record);
    long live = collected.traces().chunks().stream().filter(c -> !r.names().deadNodes().contains(c.getNode())).count();
    r.log().say("collected " + n + " trace events from " + live + " live node(s)"
        + (r.names().deadNodes().isEmpty() ? "" : "; killed: " + r.names().deadNodes() + " (their events up to the last collection)"));
    record.addAllSteps(r.schedule().outcomes()).addAllEvents(r.log().events()).addAllFences(r.names().namedFences())
        .addAllDeadNodes(r.names().deadNodes()).addAllUnpluggedDevices(r.faults().unplugged()).addAllNotes(r.log().notes())
        .setWallEndNanos(System.nanoTime());
    RunRecord done = record.build();
    // after the trace is collected (its stops are not part of the run), and before the result: what stopping the
    // run's devices records on the members is in their traces before the next run on this cluster starts
    getContext().pipeToSelf(r.names().release(r.run(), r.tag(), getContext().getSystem().scheduler()), (ok, failure) -> new Released(done));
    return this;
  }
}
