package dev.fencelab.node.scenario;

import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.trace.TraceControl;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.StepExpectations;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.trace.v1.BufferChecksum;
import dev.fencelab.protocol.trace.v1.ClockOffset;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.NamedFence;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import dev.fencelab.protocol.trace.v1.TraceChunk;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Runs one validated scenario on a cluster, from any member (the {@code fencelab run} client): measures every node's
 * clock offset, places devices, processes and buffers through the node agents, runs the steps as their dependencies
 * allow, injects the chaos schedule's faults at their times, takes the final checksums, collects every live node's
 * trace, and completes {@link Params#result} with the {@link RunRecord} the checker reads.
 *
 * <p>It talks to the nodes only with their protobuf messages, never blocks (asks piped to itself, Pekko timers),
 * and never waits without a bound: every call has the scenario's step timeout; a step that needs a node the run
 * killed fails at once with {@code -ENODEV}; the steps after a failed step are skipped (reported, not run). Killing
 * a node is the {@link NodeKiller}'s job: SIGKILL for a local child JVM, a {@code Crash} command otherwise.
 */
public final class ScenarioRunner extends AbstractBehavior<ScenarioRunner.Msg> {
  /** Kills a node's member; returns how (for the record). Called on the runner's thread: must not block. */
  public interface NodeKiller {
    String kill(String node, ActorRef<NodeControl> agent);
  }

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

  private record Clocks(List<ClockOffset> offsets) implements Msg {}

  private record SetUp(String error) implements Msg {}

  private record StepDone(int index, Outcome outcome) implements Msg {}

  private record FaultDue(int index) implements Msg {}

  private record FinalSums(List<BufferChecksum> sums) implements Msg {}

  private enum Settled implements Msg { INSTANCE }

  private enum DrainTick implements Msg { INSTANCE }

  private record Drained(int pendingWaits, String sample) implements Msg {}

  private record Collected(List<TraceChunk> chunks, List<String> notes) implements Msg {}

  private record Fail(String why) implements Msg {}

  /** What a step produced: its status and detail, and the state it adds (applied on the runner's thread). */
  private record Outcome(int status, String detail, Consumer<Runner> apply, Consumer<StepOutcome.Builder> extra) {
    static Outcome ok(String detail, Consumer<Runner> apply) {
      return new Outcome(0, detail, apply, b -> {});
    }

    static Outcome failed(int status, String detail) {
      return new Outcome(status, detail, r -> {}, b -> {});
    }
  }

  /** The runner's state, mutated only on its thread. */
  private static final class Runner {
    final Map<String, ActorRef<DriverProtocol.Command>> drivers = new HashMap<>();
    final Map<String, ActorRef<ProcessActor.Command>> processes = new HashMap<>();
    final Map<String, Integer> ownHandles = new HashMap<>();
    final Map<String, Integer> imported = new HashMap<>();
    final Map<String, Integer> fds = new HashMap<>();
    final Map<String, NamedFence> fences = new LinkedHashMap<>();
    final Map<String, ActorRef<ContextOwner.Command>> timelines = new HashMap<>();
    final Map<String, ActorRef<Resv.Command>> resvs = new HashMap<>();
    /** Fence names → the fences (cluster-wide handles), in binding order: a value is rendered by its first name. */
    final Map<String, FenceRef> refs = new LinkedHashMap<>();
    /** Names bound on a node (callbacks, fence contexts) → that node: the steps that use them run there. */
    final Map<String, String> localNodes = new HashMap<>();
  }

  private final Params p;
  private final Scenario s;
  private final TimerScheduler<Msg> timers;
  private final Runner state = new Runner();
  private final StepClient steps;
  private final dev.fencelab.node.wire.NodeSerializer wire;
  private final Map<String, Device> devices = new HashMap<>();
  private final Map<String, String> processNodes = new HashMap<>();
  private final Map<String, Buffer> buffers = new HashMap<>();
  private final List<List<Integer>> deps;
  private final StepOutcome[] outcomes;
  private final boolean[] started;
  private final Set<String> dead = new HashSet<>();
  private final Set<String> unplugged = new HashSet<>();
  private final List<TraceEvent> events = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final RunRecord.Builder record = RunRecord.newBuilder();
  private final boolean[] faultFired;
  private final long runStart = System.nanoTime();
  private long stepsStart;
  private int stepsDone;
  private int faultsPending;
  private boolean finishing;

  public static Behavior<Msg> create(Params params) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new ScenarioRunner(context, timers, params)));
  }

  private ScenarioRunner(ActorContext<Msg> context, TimerScheduler<Msg> timers, Params params) {
    super(context);
    this.p = params;
    this.s = params.scenario();
    this.timers = timers;
    s.getDevicesList().forEach(d -> devices.put(d.getName(), d));
    s.getProcessesList().forEach(pr -> processNodes.put(pr.getName(), pr.getNode()));
    s.getBuffersList().forEach(b -> buffers.put(b.getName(), b));
    this.deps = ScenarioSteps.dependencies(s);
    this.outcomes = new StepOutcome[s.getStepsCount()];
    this.started = new boolean[s.getStepsCount()];
    this.faultFired = new boolean[p.schedule().size()];
    this.steps = new StepClient(new Names(), p.tag().isEmpty() ? "run-" + runStart : p.tag(), p.stepTimeout(),
        context.getSystem().scheduler());
    this.wire = dev.fencelab.node.wire.NodeSerializer.of(context.getSystem());
    record.setScenario(s.getName()).setSeed(p.seed()).setPace(p.pace()).addAllSchedule(p.schedule()).setWallStartNanos(runStart);
    s.getDevicesList().forEach(d -> record.putDeviceNodes(d.getName(), d.getNode()));
    p.agents().forEach((name, agent) -> record.putNodeAddresses(name, agent.path().address().toString()));
    for (String node : nodesOfScenario()) {
      if (!p.agents().containsKey(node)) {
        getContext().getSelf().tell(new Fail("the cluster has no node '" + node + "' (it has: " + p.agents().keySet() + ")"));
        return;
      }
    }
    measureClocks();
  }

  private List<String> nodesOfScenario() {
    return s.getNodesList().stream().map(n -> n.getName()).toList();
  }

  @Override
  public Receive<Msg> createReceive() {
    return newReceiveBuilder()
        .onMessage(Clocks.class, this::onClocks)
        .onMessage(SetUp.class, this::onSetUp)
        .onMessage(StepDone.class, this::onStepDone)
        .onMessage(FaultDue.class, this::onFaultDue)
        .onMessage(FinalSums.class, this::onFinalSums)
        .onMessageEquals(Settled.INSTANCE, this::onSettled)
        .onMessageEquals(DrainTick.INSTANCE, this::onDrainTick)
        .onMessage(Drained.class, this::onDrained)
        .onMessage(Collected.class, this::onCollected)
        .onMessage(Fail.class, f -> {
          p.result().completeExceptionally(new IllegalStateException(f.why()));
          return Behaviors.stopped();
        })
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, stop -> {
          // A runner that failed (a bug) must not leave its caller waiting for the run timeout.
          p.result().completeExceptionally(new IllegalStateException("the scenario runner stopped before the run ended "
              + "(a fencelab bug: see the client member's log)"));
          return this;
        })
        .build();
  }

  // --- helpers

  private <Q, R> CompletionStage<R> ask(RecipientRef<? super Q> target, Function<ActorRef<R>, Q> message) {
    return ask(target, message, p.stepTimeout());
  }

  @SuppressWarnings("unchecked")
  private <Q, R> CompletionStage<R> ask(RecipientRef<? super Q> target, Function<ActorRef<R>, Q> message, Duration timeout) {
    if (target == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("no such actor (not placed)"));
    }
    return AskPattern.ask((RecipientRef<Q>) target, message::apply, timeout, getContext().getSystem().scheduler());
  }

  /** The results of {@code futures}, in order, once all completed (never waits: it reads completed futures). */
  private static <T> CompletableFuture<List<T>> allOf(List<CompletableFuture<T>> futures) {
    return CompletableFuture.allOf(futures.toArray(new CompletableFuture[0]))
        .thenApply(v -> futures.stream().map(f -> f.getNow(null)).toList());
  }

  /** The non-empty error texts of {@code futures}, joined with "; " ("" when all succeeded). */
  private static CompletableFuture<String> errors(List<CompletableFuture<String>> futures) {
    return allOf(futures).thenApply(list -> String.join("; ", list.stream().filter(e -> !e.isEmpty()).toList()));
  }

  private static String key(String a, String b) {
    return a + "\u0000" + b;
  }

  private String named(String name) {
    return p.tag().isEmpty() ? name : name + "-" + p.tag();
  }

  private String qualifiedProcess(String process) {
    return processNodes.get(process) + "/" + named(process);
  }

  private long elapsed() {
    return System.nanoTime() - runStart;
  }

  private void event(TraceEvent.Builder e) {
    events.add(e.setNode("runner").setWallNanos(e.getWallNanos() == 0 ? System.nanoTime() : e.getWallNanos()).build());
  }

  private void say(String line) {
    p.progress().accept(String.format("  [%8.3fs] %s", elapsed() / 1e9, line));
  }

  // --- 1. clocks

  private void measureClocks() {
    List<CompletableFuture<ClockOffset>> all = new ArrayList<>();
    for (String node : nodesOfScenario()) {
      all.add(sample(node, p.agents().get(node), 0, 8, null).toCompletableFuture());
    }
    CompletableFuture<List<ClockOffset>> done = allOf(all);
    getContext().pipeToSelf(done, (offsets, failure) -> failure != null
        ? new Fail("measuring clock offsets failed: " + failure.getMessage()) : new Clocks(offsets));
  }

  /** Pings {@code agent} {@code left} more times one after the other, keeping the sample with the shortest round trip. */
  private CompletionStage<ClockOffset> sample(String node, ActorRef<NodeControl> agent, int seq, int left, ClockOffset best) {
    if (left == 0) {
      return CompletableFuture.completedFuture(best);
    }
    long sent = System.nanoTime();
    CompletionStage<Pong> pong = AskPattern.ask(agent, replyTo -> new Ping(seq, sent, replyTo), Duration.ofSeconds(10),
        getContext().getSystem().scheduler());
    return pong.thenCompose(reply -> {
      long received = System.nanoTime();
      long rtt = received - sent;
      long offset = reply.nodeMonoNanos() - (sent + rtt / 2);
      ClockOffset sampleOffset = ClockOffset.newBuilder().setNode(node).setOffsetNanos(offset).setUncertaintyNanos(rtt / 2)
          .setSamples(seq + 1).build();
      ClockOffset keep = best == null || sampleOffset.getUncertaintyNanos() < best.getUncertaintyNanos()
          ? sampleOffset : best.toBuilder().setSamples(seq + 1).build();
      return sample(node, agent, seq + 1, left - 1, keep);
    });
  }

  private Behavior<Msg> onClocks(Clocks clocks) {
    record.addAllClocks(clocks.offsets());
    for (ClockOffset c : clocks.offsets()) {
      say(String.format("clock of %s: offset %+.3f ms (± %.1f us, best of %d pings)", c.getNode(), c.getOffsetNanos() / 1e6,
          c.getUncertaintyNanos() / 1e3, c.getSamples()));
    }
    place();
    return this;
  }

  // --- 2. placement

  private void place() {
    List<CompletableFuture<String>> placed = new ArrayList<>();
    for (Device d : s.getDevicesList()) {
      DeviceSpec spec = spec(d);
      placed.add(this.<DeviceControl.PlaceDevice, DeviceControl.DevicePlaced>ask(p.agents().get(d.getNode()),
              r -> new DeviceControl.PlaceDevice(spec, r))
          .thenApply(reply -> {
            if (reply.error() != 0) {
              return "device " + d.getName() + " on " + d.getNode() + ": " + Errno.describe(reply.error()) + " " + reply.detail();
            }
            getContext().getSelf().tell(new StepDone(-1, Outcome.ok("", r -> r.drivers.put(d.getName(), reply.driver()))));
            return "";
          }).toCompletableFuture());
    }
    for (var pr : s.getProcessesList()) {
      placed.add(this.<FenceControl.SpawnProcess, FenceControl.ProcessSpawned>ask(p.agents().get(pr.getNode()),
              r -> new FenceControl.SpawnProcess(named(pr.getName()), r))
          .thenApply(reply -> {
            if (reply.error() != 0) {
              return "process " + pr.getName() + " on " + pr.getNode() + ": " + Errno.describe(reply.error());
            }
            getContext().getSelf().tell(new StepDone(-1, Outcome.ok("", r -> r.processes.put(pr.getName(), reply.process()))));
            return "";
          }).toCompletableFuture());
    }
    CompletableFuture<String> all = errors(placed);
    getContext().pipeToSelf(all, (err, failure) -> new SetUp(failure != null ? "placement failed: " + failure.getMessage() : err));
  }

  private DeviceSpec spec(Device d) {
    DeviceSpec.Kind kind = switch (d.getKind()) {
      case "rdma_nic" -> DeviceSpec.Kind.RDMA_NIC;
      case "copy_engine" -> DeviceSpec.Kind.COPY_ENGINE;
      default -> DeviceSpec.Kind.GPU;
    };
    long vram = d.getVram().isEmpty() ? (kind == DeviceSpec.Kind.GPU ? 8L << 30 : 0) : Units.bytes(d.getVram());
    Duration timeout = d.getJobTimeout().isEmpty() ? Duration.ofSeconds(2) : Duration.ofNanos(Units.nanos(d.getJobTimeout()));
    return new DeviceSpec(named(d.getName()), kind, Math.max(1, d.getEngines()), vram, !d.getNoPageTables(), d.getRecoverableFaults(),
        timeout);
  }

  private boolean buffersCreated;

  private Behavior<Msg> onSetUp(SetUp setUp) {
    if (!setUp.error().isEmpty()) {
      return onFail(setUp.error());
    }
    if (!buffersCreated) {
      buffersCreated = true;
      say("placed " + s.getDevicesCount() + " device(s) and " + s.getProcessesCount() + " process(es)");
      List<CompletableFuture<String>> created = new ArrayList<>();
      for (Buffer b : s.getBuffersList()) {
        DriverProtocol.Placement placement = b.getPlacement().equals("system") ? DriverProtocol.Placement.SYSTEM : DriverProtocol.Placement.VRAM;
        created.add(this.<DriverProtocol.CreateBo, DriverProtocol.BoReply>ask(state.drivers.get(b.getDevice()),
                r -> new DriverProtocol.CreateBo(qualifiedProcess(b.getProcess()), b.getName(), Units.bytes(b.getSize()), placement, r))
            .thenApply(reply -> {
              if (reply.result() != 0) {
                return "buffer " + b.getName() + ": " + Errno.describe(reply.result());
              }
              getContext().getSelf().tell(new StepDone(-1, Outcome.ok("", r -> r.ownHandles.put(b.getName(), reply.handle()))));
              return "";
            }).toCompletableFuture());
      }
      CompletableFuture<String> all = errors(created);
      getContext().pipeToSelf(all, (err, failure) -> new SetUp(failure != null ? "creating buffers failed: " + failure.getMessage() : err));
      return this;
    }
    say("created " + s.getBuffersCount() + " buffer(s); running " + s.getStepsCount() + " step(s)");
    stepsStart = System.nanoTime();
    for (int i = 0; i < p.schedule().size(); i++) {
      Fault f = p.schedule().get(i);
      faultsPending++;
      if (f.getAfterStep().isEmpty()) {
        timers.startSingleTimer("fault-" + i, new FaultDue(i), Duration.ofNanos(Units.nanos(f.getAt())));
      }
    }
    startReady();
    return maybeFinish();
  }

  private Behavior<Msg> onFail(String why) {
    p.result().completeExceptionally(new IllegalStateException(why));
    return Behaviors.stopped();
  }

  // --- 3. steps

  private void startReady() {
    for (int i = 0; i < s.getStepsCount(); i++) {
      if (started[i]) {
        continue;
      }
      boolean ready = true;
      boolean blocked = false;
      for (int d : deps.get(i)) {
        if (outcomes[d] == null) {
          ready = false;
        } else if (outcomes[d].getStatus() != 0) {
          blocked = true;
        }
      }
      if (!ready) {
        continue;
      }
      started[i] = true;
      String id = ScenarioSteps.id(s, i);
      Step step = s.getSteps(i);
      if (blocked) {
        outcomes[i] = StepOutcome.newBuilder().setId(id).setAction(ScenarioSteps.action(step)).setSkipped(true)
            .setStatus(Errno.ECANCELED.negative()).setDetail("skipped: a step it comes after failed")
            .setWallBeginNanos(System.nanoTime()).setWallEndNanos(System.nanoTime()).build();
        stepsDone++;
        say("step " + id + " skipped (a step it comes after failed)");
        startReady();
        return;
      }
      event(TraceRecorder.event(EventKind.STEP_BEGIN, "steps").setName(id).setDetail(describe(step)).setId(i));
      int index = i;
      long begin = System.nanoTime();
      CompletionStage<Outcome> run;
      try {
        run = run(step);
      } catch (RuntimeException e) {
        run = CompletableFuture.completedFuture(Outcome.failed(Errno.EINVAL.negative(), e.getMessage()));
      }
      getContext().pipeToSelf(run, (o, failure) -> new StepDone(index, failure != null
          ? Outcome.failed(Errno.ETIMEDOUT.negative(), "no answer within " + p.stepTimeout().toSeconds() + " s ("
              + failure.getClass().getSimpleName() + ")")
          : o));
      startedAt.put(i, begin);
    }
  }

  private final Map<Integer, Long> startedAt = new HashMap<>();

  private Behavior<Msg> onStepDone(StepDone done) {
    done.outcome().apply().accept(state);
    if (done.index() < 0) {
      return this; // a placement result
    }
    int i = done.index();
    String id = ScenarioSteps.id(s, i);
    Step step = s.getSteps(i);
    StepOutcome.Builder b = StepOutcome.newBuilder().setId(id).setAction(ScenarioSteps.action(step)).setStatus(done.outcome().status())
        .setDetail(done.outcome().detail()).setWallBeginNanos(startedAt.getOrDefault(i, 0L)).setWallEndNanos(System.nanoTime());
    if (step.hasSubmit()) {
      b.addAllWrites(step.getSubmit().getWritesList());
      if (step.getSubmit().hasCopy()) {
        b.addWrites(step.getSubmit().getCopy().getTo());
      }
    }
    done.outcome().extra().accept(b);
    expectations(step, b);
    outcomes[i] = b.build();
    stepsDone++;
    event(TraceRecorder.event(EventKind.STEP_END, "steps").setName(id).setStatus(b.getStatus()).setDetail(b.getDetail()).setId(i)
        .setFence(b.getFence()).setResult(b.getWaitResult()));
    say(String.format("step %-22s %s%s", id, !b.getUnexpected().isEmpty() ? "UNEXPECTED" : b.getStatus() == 0 ? "ok    " : "FAILED",
        (b.getDetail().isEmpty() ? "" : "  " + b.getDetail()) + (b.getUnexpected().isEmpty() ? "" : "  [" + b.getUnexpected() + "]")));
    for (int k = 0; k < p.schedule().size(); k++) {
      Fault f = p.schedule().get(k);
      if (f.getAfterStep().equals(id)) {
        timers.startSingleTimer("fault-" + k, new FaultDue(k), Duration.ofNanos(Units.nanos(f.getAt())));
      }
    }
    startReady();
    return maybeFinish();
  }

  /** The run's names as the step protocol carries them; read and bound on the runner's thread only. */
  private final class Names implements StepClient.Directory {
    @Override
    public dev.fencelab.protocol.fence.v1.FenceV1.FenceRef fence(String name) {
      FenceRef f = state.refs.get(name);
      return f == null ? null : wire.fenceRef(f);
    }

    @Override
    public String nameOf(dev.fencelab.protocol.fence.v1.FenceV1.FenceRef fence) {
      var id = fence.getId();
      for (Map.Entry<String, FenceRef> e : state.refs.entrySet()) {
        var f = e.getValue().id();
        if (f.seqno() == id.getSeqno() && f.context().id() == id.getContext().getId() && f.context().origin() == id.getContext().getOrigin()) {
          return e.getKey();
        }
      }
      return null;
    }

    @Override
    public Integer fd(String process, String name) {
      return state.fds.get(key(process, name));
    }

    @Override
    public String actor(String name) {
      ActorRef<?> ref = state.processes.containsKey(name) ? state.processes.get(name)
          : state.timelines.containsKey(name) ? state.timelines.get(name) : state.resvs.get(name);
      return ref == null ? null : org.apache.pekko.actor.typed.ActorRefResolver.get(getContext().getSystem()).toSerializationFormat(ref);
    }

    @Override
    public String exporter(String buffer) {
      Buffer b = buffers.get(buffer);
      ActorRef<?> driver = b == null ? null : state.drivers.get(b.getDevice());
      return driver == null ? null : org.apache.pekko.actor.typed.ActorRefResolver.get(getContext().getSystem()).toSerializationFormat(driver);
    }

    @Override
    public Integer handle(String buffer) {
      return state.ownHandles.get(buffer);
    }

    @Override
    public String nodeOfBuffer(String buffer) {
      Buffer b = buffers.get(buffer);
      return b == null ? null : devices.get(b.getDevice()).getNode();
    }

    @Override
    public String nodeOfProcess(String process) {
      return processNodes.get(process);
    }

    @Override
    public String nodeOfLocal(String name) {
      return state.localNodes.get(name);
    }

    @Override
    public String nodeOfFence(dev.fencelab.protocol.fence.v1.FenceV1.FenceRef fence) {
      try {
        FenceRef f = wire.fenceRef(fence);
        if (f.isStub()) {
          return null;
        }
        var address = f.actor().path().address();
        for (Map.Entry<String, ActorRef<NodeControl>> e : p.agents().entrySet()) {
          if (e.getValue().path().address().equals(address)) {
            return e.getKey();
          }
        }
        return null;
      } catch (java.io.NotSerializableException e) {
        return null;
      }
    }

    @Override
    public boolean dead(String node) {
      return dead.contains(node);
    }

    @Override
    public ActorRef<NodeControl> agent(String node) {
      return p.agents().get(node);
    }

    @Override
    public String firstNode() {
      return nodesOfScenario().get(0);
    }

    @Override
    public void bindFence(String name, dev.fencelab.protocol.fence.v1.FenceV1.FenceRef fence) {
      try {
        FenceRef f = wire.fenceRef(fence);
        state.refs.put(name, f);
        if (!f.isStub()) {
          state.fences.put(name, named(name, f));
        }
      } catch (java.io.NotSerializableException e) {
        notes.add("could not bind fence '" + name + "': " + e.getMessage());
      }
    }

    @Override
    public void bindFd(String process, String name, int fd) {
      state.fds.put(key(process, name), fd);
    }

    @Override
    public void bindLocal(String name, String node) {
      state.localNodes.put(name, node);
    }

    @Override
    public void bindActor(Step step, String name, String actor) {
      ActorRef<Object> ref = org.apache.pekko.actor.typed.ActorRefResolver.get(getContext().getSystem()).resolveActorRef(actor);
      if (step.hasTimeline()) {
        state.timelines.put(name, ref.unsafeUpcast());
      } else if (step.hasResv()) {
        state.resvs.put(name, ref.unsafeUpcast());
      }
    }
  }

  /**
   * Checks the step's {@code expect} against what its call returned (selftest style). Met: a step that returned the
   * error it expects succeeds (status 0). Not met: {@code unexpected} says what was expected and what came, and the
   * steps that come after it are skipped.
   */
  private static void expectations(Step step, StepOutcome.Builder b) {
    if (!ScenarioSteps.isProtocolStep(step)) {
      b.setRet(b.getIsWait() ? b.getWaitResult() : b.getStatus());
    }
    if (!step.hasExpect() || !StepExpectations.any(step.getExpect())) {
      return;
    }
    String result = b.getIsWait() ? (b.getWaitResult() > 0 ? "signaled" : b.getWaitResult() == 0 ? "timeout" : "error")
        : b.getOutMap().getOrDefault("result", "");
    List<String> values = b.getHasValue() && b.getValue().startsWith("[") ? b.getValuesList() : null;
    var got = new StepExpectations.Observed(b.getRet(), result, b.getHasValue() ? b.getValue() : null, values, b.getOutMap());
    List<String> mismatches = StepExpectations.mismatches(step.getExpect(), got);
    if (mismatches.isEmpty()) {
      if (b.getStatus() != 0 && b.getRet() == b.getStatus()) {
        b.setStatus(0); // the error it expects: the point of the step
      }
    } else {
      b.setUnexpected(String.join("; ", mismatches));
      if (b.getStatus() == 0) {
        b.setStatus(Errno.EINVAL.negative());
      }
    }
  }

  private String describe(Step step) {
    String text = step.toString().replaceAll("\\s+", " ").trim();
    return text.length() > 160 ? text.substring(0, 157) + "..." : text;
  }

  private String nodeOfProcess(String process) {
    return processNodes.get(process);
  }

  private String deadReason(List<String> nodes, List<String> devs) {
    for (String n : nodes) {
      if (n != null && dead.contains(n)) {
        return "node " + n + " is down (killed by this run)";
      }
    }
    for (String d : devs) {
      if (d == null) {
        continue;
      }
      Device dev = devices.get(d);
      if (dev != null && dead.contains(dev.getNode())) {
        return "device " + d + " is gone with node " + dev.getNode();
      }
    }
    return null;
  }

  private CompletionStage<Outcome> done(Outcome o) {
    return CompletableFuture.completedFuture(o);
  }

  private CompletionStage<Outcome> run(Step step) {
    if (ScenarioSteps.isProtocolStep(step)) {
      return steps.execute(step, ScenarioSteps.id(s, indexOf(step)))
          .thenApply(r -> new Outcome(r.status(), r.detail(), state -> r.bind().run(), r.outcome()));
    }
    String proc = step.getProcess();
    List<String> nodes = new ArrayList<>();
    if (!proc.isEmpty()) {
      nodes.add(nodeOfProcess(proc));
    }
    List<String> devs = new ArrayList<>();
    if (step.hasSubmit()) devs.add(step.getSubmit().getDevice());
    if (step.hasImport()) devs.add(step.getImport().getDevice());
    if (step.hasMap()) devs.add(step.getMap().getDevice());
    if (step.hasUnplug()) devs.add(step.getUnplug().getDevice());
    if (step.hasHang()) devs.add(step.getHang().getDevice());
    if (step.hasChecksum()) devs.add(buffers.get(step.getChecksum().getBuffer()).getDevice());
    String deadWhy = deadReason(nodes, devs);
    if (deadWhy != null && !step.hasKillNode() && !step.hasPause()) {
      return done(Outcome.failed(Errno.ENODEV.negative(), deadWhy));
    }
    ActorRef<ProcessActor.Command> process = proc.isEmpty() ? null : state.processes.get(proc);
    switch (ScenarioSteps.action(step)) {
      case "export": {
        Buffer b = buffers.get(step.getExport().getBuffer());
        String owner = proc.isEmpty() ? b.getProcess() : proc;
        return this.<ProcessActor.ExportDmaBuf, ProcessActor.FdReply>ask(state.processes.get(owner),
                r -> new ProcessActor.ExportDmaBuf(state.drivers.get(b.getDevice()), state.ownHandles.get(b.getName()),
                    omitOps(step.getExport().getExporterOps()), r))
            .thenApply(reply -> reply.fd() < 0 ? Outcome.failed(reply.fd(), "export: " + Errno.describe(reply.fd()))
                : Outcome.ok("dma-buf fd " + reply.fd() + " in " + owner, r -> r.fds.put(key(owner, b.getName()), reply.fd())));
      }
      case "pass": {
        String name = step.getPass().getName();
        String to = step.getPass().getTo();
        Integer fd = state.fds.get(key(proc, name));
        if (fd == null) {
          return done(Outcome.failed(Errno.EBADF.negative(), "process " + proc + " holds no fd for '" + name + "'"));
        }
        if (dead.contains(nodeOfProcess(to))) {
          return done(Outcome.failed(Errno.ENODEV.negative(), "process " + to + "'s node is down"));
        }
        return this.<ProcessActor.SendFd, ProcessActor.FdReply>ask(process, r -> new ProcessActor.SendFd(fd, state.processes.get(to), r))
            .thenApply(reply -> reply.fd() < 0 ? Outcome.failed(reply.fd(), "pass: " + Errno.describe(reply.fd()))
                : Outcome.ok(name + " -> " + to + " as fd " + reply.fd(), r -> r.fds.put(key(to, name), reply.fd())));
      }
      case "import": {
        var im = step.getImport();
        Integer fd = state.fds.get(key(proc, im.getBuffer()));
        if (fd == null) {
          return done(Outcome.failed(Errno.EBADF.negative(), "process " + proc + " holds no dma-buf fd of '" + im.getBuffer()
              + "' (export it and pass it first)"));
        }
        return this.<ProcessActor.ImportDmaBuf, DriverProtocol.BoReply>ask(process,
                r -> new ProcessActor.ImportDmaBuf(fd, state.drivers.get(im.getDevice()), !im.getStatic(), im.getNoMoveNotify(), r))
            .thenApply(reply -> reply.result() != 0 ? Outcome.failed(reply.result(), "import: " + Errno.describe(reply.result()))
                : Outcome.ok("handle " + reply.handle() + " on " + im.getDevice() + (im.getStatic() ? " (static)" : " (dynamic)"),
                    r -> r.imported.put(key(im.getBuffer(), im.getDevice()), reply.handle())));
      }
      case "map": {
        var m = step.getMap();
        Integer handle = handle(m.getBuffer(), m.getDevice());
        if (handle == null) {
          return done(notImported(m.getBuffer(), m.getDevice()));
        }
        return this.<DriverProtocol.MapBo, DriverProtocol.MapReply>ask(state.drivers.get(m.getDevice()),
                r -> new DriverProtocol.MapBo(qualifiedProcess(proc), handle, r))
            .thenApply(reply -> reply.result() != 0 ? Outcome.failed(reply.result(), "map: " + Errno.describe(reply.result()))
                : Outcome.ok(reply.segments().size() + " DMA segment(s)", r -> {}));
      }
      case "submit":
        return submit(step, process);
      case "cpu_access": {
        var c = step.getCpuAccess();
        String device = c.getDevice().isEmpty() ? buffers.get(c.getBuffer()).getDevice() : c.getDevice();
        Integer handle = handle(c.getBuffer(), device);
        if (handle == null) {
          return done(notImported(c.getBuffer(), device));
        }
        int flags = c.getWrite() ? 2 : 1;
        ActorRef<DriverProtocol.Command> driver = state.drivers.get(device);
        return this.<DriverProtocol.CpuAccess, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.CpuAccess(qualifiedProcess(proc), handle, flags, r))
            .thenCompose(start -> start.result() != 0 ? done(Outcome.failed(start.result(), "cpu access start: " + Errno.describe(start.result())))
                : this.<DriverProtocol.CpuAccess, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.CpuAccess(qualifiedProcess(proc), handle, flags | 4, r))
                    .thenApply(end -> end.result() != 0 ? Outcome.failed(end.result(), "cpu access end: " + Errno.describe(end.result()))
                        : Outcome.ok("cpu " + (c.getWrite() ? "write" : "read") + " access began after the implicit fences and ended", r -> {})));
      }
      case "checksum": {
        String buffer = step.getChecksum().getBuffer();
        String at = ScenarioSteps.id(s, indexOf(step));
        return checksum(buffer, at).thenApply(sum -> new Outcome(sum.getStatus(),
            sum.getStatus() != 0 ? "checksum: " + Errno.describe(sum.getStatus()) : buffer + " " + sum.getChecksum(),
            r -> record.addChecksums(sum), b -> {}));
      }
      case "unplug":
        return unplug(step.getUnplug().getDevice(), "step");
      case "kill_node":
        return done(kill(step.getKillNode().getNode(), "step"));
      case "hang":
        return fault(step.getHang().getDevice(), DeviceActor.FaultKind.HANG_ENGINE, (int) step.getHang().getEngine(), "step");
      case "fail_reset":
        return fault(step.getFailReset().getDevice(), DeviceActor.FaultKind.FAIL_RESET, 0, "step");
      case "pause": {
        long nanos = Units.nanos(step.getPause().getDuration());
        return org.apache.pekko.pattern.Patterns.after(Duration.ofNanos(nanos), getContext().getSystem().classicSystem().scheduler(),
            getContext().getExecutionContext(), () -> CompletableFuture.completedFuture(Outcome.ok("paused " + Units.human(nanos), r -> {})));
      }
      default:
        return done(Outcome.failed(Errno.EINVAL.negative(), "unsupported action"));
    }
  }

  /** The exporter ops a scenario's {@code exporter_ops} leaves out. */
  private static int omitOps(String ops) {
    return switch (ops) {
      case "static" -> DriverProtocol.NO_PIN | DriverProtocol.NO_UNPIN;
      case "pin_only" -> DriverProtocol.NO_UNPIN;
      case "unpin_only" -> DriverProtocol.NO_PIN;
      default -> 0;
    };
  }

  private int indexOf(Step step) {
    for (int i = 0; i < s.getStepsCount(); i++) {
      if (s.getSteps(i) == step) {
        return i;
      }
    }
    return s.getStepsList().indexOf(step);
  }

  private static String status(int value) {
    return value == 0 ? "pending" : value == 1 ? "signalled" : Errno.describe(value);
  }

  private NamedFence named(String name, FenceRef fence) {
    return NamedFence.newBuilder().setName(name).setFence(fence.id().toString())
        .setNode(fence.isStub() ? "" : fence.actor().path().address().toString()).build(); // a stub lives nowhere
  }



  private Integer handle(String buffer, String device) {
    Buffer b = buffers.get(buffer);
    if (b.getDevice().equals(device)) {
      return state.ownHandles.get(buffer);
    }
    return state.imported.get(key(buffer, device));
  }

  private Outcome notImported(String buffer, String device) {
    return Outcome.failed(Errno.ENOENT.negative(), "buffer " + buffer + " has no handle on device " + device
        + " (import its dma-buf there first)");
  }

  private CompletionStage<Outcome> submit(Step step, ActorRef<ProcessActor.Command> process) {
    var sub = step.getSubmit();
    String proc = step.getProcess();
    List<Integer> reads = new ArrayList<>();
    List<Integer> writes = new ArrayList<>();
    for (String b : sub.getReadsList()) {
      Integer h = handle(b, sub.getDevice());
      if (h == null) return done(notImported(b, sub.getDevice()));
      reads.add(h);
    }
    for (String b : sub.getWritesList()) {
      Integer h = handle(b, sub.getDevice());
      if (h == null) return done(notImported(b, sub.getDevice()));
      writes.add(h);
    }
    List<Integer> inFds = new ArrayList<>();
    for (String f : sub.getInFencesList()) {
      Integer fd = state.fds.get(key(proc, f));
      if (fd == null) {
        return done(Outcome.failed(Errno.EBADF.negative(), "process " + proc + " holds no fd for fence '" + f + "'"));
      }
      inFds.add(fd);
    }
    long duration = sub.getDuration().isEmpty() ? 1_000 : Units.nanos(sub.getDuration());
    String label = sub.getLabel().isEmpty() ? ScenarioSteps.id(s, indexOf(step)) : sub.getLabel();
    JobSpec job;
    if (sub.hasCopy()) {
      Integer src = handle(sub.getCopy().getFrom(), sub.getDevice());
      Integer dst = handle(sub.getCopy().getTo(), sub.getDevice());
      if (src == null) return done(notImported(sub.getCopy().getFrom(), sub.getDevice()));
      if (dst == null) return done(notImported(sub.getCopy().getTo(), sub.getDevice()));
      long size = sub.getCopy().getSize().isEmpty()
          ? Math.min(Units.bytes(buffers.get(sub.getCopy().getFrom()).getSize()), Units.bytes(buffers.get(sub.getCopy().getTo()).getSize()))
          : Units.bytes(sub.getCopy().getSize());
      job = new JobSpec((int) sub.getEngine(), duration, reads, writes, new JobSpec.Copy(src, 0, dst, 0, size), label);
    } else {
      job = new JobSpec((int) sub.getEngine(), duration, reads, writes, null, label);
    }
    boolean out = !sub.getOutFence().isEmpty();
    return this.<ProcessActor.SubmitJob, ProcessActor.Submitted>ask(process,
            r -> new ProcessActor.SubmitJob(state.drivers.get(sub.getDevice()), job, inFds, out, r))
        .thenApply(reply -> reply.result() != 0 ? Outcome.failed(reply.result(), "submit: " + Errno.describe(reply.result()))
            : new Outcome(0, "job '" + label + "' queued on " + sub.getDevice() + ", out-fence " + (reply.outFence() == null ? "-" : reply.outFence().id())
                + (out ? " as fd " + reply.outFd() : ""), r -> {
                  if (out) {
                    r.fds.put(key(proc, sub.getOutFence()), reply.outFd());
                    r.fences.put(sub.getOutFence(), named(sub.getOutFence(), reply.outFence()));
                    r.refs.putIfAbsent(sub.getOutFence(), reply.outFence());
                  }
                }, b -> b.setFence(reply.outFence() == null ? "" : reply.outFence().id().toString())));
  }

  private CompletionStage<BufferChecksum> checksum(String buffer, String at) {
    Buffer b = buffers.get(buffer);
    ActorRef<DriverProtocol.Command> driver = state.drivers.get(b.getDevice());
    Integer handle = state.ownHandles.get(buffer);
    BufferChecksum.Builder sum = BufferChecksum.newBuilder().setBuffer(buffer).setAt(at);
    if (dead.contains(devices.get(b.getDevice()).getNode()) || driver == null || handle == null) {
      return CompletableFuture.completedFuture(sum.setStatus(Errno.ENODEV.negative()).setWallNanos(System.nanoTime()).build());
    }
    // A checksum reads like the CPU does: after the buffer's writers (DMA_BUF_IOCTL_SYNC START, read), then END.
    String owner = qualifiedProcess(b.getProcess());
    return this.<DriverProtocol.CpuAccess, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.CpuAccess(owner, handle, 1, r))
        .thenCompose(start -> start.result() != 0
            ? CompletableFuture.completedFuture(new DriverProtocol.ChecksumReply(start.result(), "", 0))
            : this.<DriverProtocol.Checksum, DriverProtocol.ChecksumReply>ask(driver, r -> new DriverProtocol.Checksum(handle, r))
                .thenApply(reply -> {
                  driver.tell(new DriverProtocol.CpuAccess(owner, handle, 1 | 4, getContext().getSystem().ignoreRef()));
                  return reply;
                }))
        .handle((reply, failure) -> {
          if (failure != null) {
            return sum.setStatus(Errno.ETIMEDOUT.negative()).setWallNanos(System.nanoTime()).build();
          }
          return sum.setStatus(reply.result()).setChecksum(reply.checksum()).setWallNanos(System.nanoTime()).build();
        })
        .thenApply(c -> {
          getContext().getSelf().tell(new StepDone(-1, Outcome.ok("", r -> event(TraceRecorder.event(EventKind.CHECKSUM, "checksums")
              .setSubject(buffer).setDetail(c.getChecksum()).setStatus(c.getStatus()).setName(at)))));
          return c;
        });
  }

  // --- faults

  private CompletionStage<Outcome> unplug(String device, String source) {
    ActorRef<DriverProtocol.Command> driver = state.drivers.get(device);
    unplugged.add(device);
    event(TraceRecorder.event(EventKind.FAULT, "chaos").setName("unplug").setSubject(device).setDetail(source));
    say("FAULT unplug " + device + " (" + source + ")");
    return this.<DriverProtocol.Unplug, DriverProtocol.UnplugReport>ask(driver, DriverProtocol.Unplug::new)
        .thenApply(rep -> Outcome.ok("unplugged " + device + ": " + rep.jobsCancelled() + " jobs cancelled, " + rep.importersRevoked()
            + " importers revoked, " + rep.buffersReleased() + " buffers released", r -> {}));
  }

  private Outcome kill(String node, String source) {
    if (dead.contains(node)) {
      return Outcome.ok("node " + node + " was already down", r -> {});
    }
    dead.add(node);
    String how = p.killer().kill(node, p.agents().get(node));
    event(TraceRecorder.event(EventKind.FAULT, "chaos").setName("kill_node").setSubject(node).setDetail(source + ": " + how));
    event(TraceRecorder.event(EventKind.NODE_DOWN, "chaos").setSubject(node).setDetail(how));
    say("FAULT kill_node " + node + " (" + how + ")");
    return Outcome.ok("killed node " + node + " (" + how + ")", r -> {});
  }

  private CompletionStage<Outcome> fault(String device, DeviceActor.FaultKind kind, int engine, String source) {
    ActorRef<DriverProtocol.Command> driver = state.drivers.get(device);
    String name = kind == DeviceActor.FaultKind.HANG_ENGINE ? "hang" : "fail_reset";
    event(TraceRecorder.event(EventKind.FAULT, "chaos").setName(name).setSubject(device).setDetail(source + (kind == DeviceActor.FaultKind.HANG_ENGINE ? ", engine " + engine : "")));
    say("FAULT " + name + " " + device + " (" + source + ")");
    return this.<DriverProtocol.InjectFault, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.InjectFault(kind, engine, r))
        .thenApply(res -> res.result() != 0 ? Outcome.failed(res.result(), name + ": " + Errno.describe(res.result()))
            : Outcome.ok(name + " injected on " + device, r -> {}));
  }

  private Behavior<Msg> onFaultDue(FaultDue due) {
    if (faultFired[due.index()]) {
      return this;
    }
    faultFired[due.index()] = true;
    faultsPending--;
    Fault f = p.schedule().get(due.index());
    String source = "chaos #" + (due.index() + 1);
    if (!f.getKillNode().isEmpty()) {
      kill(f.getKillNode(), source);
    } else {
      String device = !f.getUnplug().isEmpty() ? f.getUnplug() : !f.getHang().isEmpty() ? f.getHang() : f.getFailReset();
      if (dead.contains(devices.get(device).getNode()) || (unplugged.contains(device))) {
        say("FAULT on " + device + " not injected: it is already gone");
        notes.add(source + " on " + device + " not injected: the device was already gone");
      } else {
        CompletionStage<Outcome> injected = !f.getUnplug().isEmpty() ? unplug(device, source)
            : fault(device, !f.getHang().isEmpty() ? DeviceActor.FaultKind.HANG_ENGINE : DeviceActor.FaultKind.FAIL_RESET, 0, source);
        getContext().pipeToSelf(injected, (o, failure) -> new StepDone(-1, Outcome.ok("", r -> {
          if (o == null || o.status() != 0) {
            notes.add(source + ": " + (o == null ? "no answer (" + failure + ")" : o.detail()));
          }
        })));
      }
    }
    return maybeFinish();
  }

  // --- 4. the end

  private Behavior<Msg> maybeFinish() {
    if (finishing || stepsDone < s.getStepsCount()) {
      return this;
    }
    if (faultsPending > 0) {
      // Faults still due (after a step that is done, or at a time still ahead): fire them now-or-when-due; the run ends after.
      boolean anyTimer = false;
      for (int i = 0; i < faultFired.length; i++) {
        if (!faultFired[i] && timers.isTimerActive("fault-" + i)) {
          anyTimer = true;
        } else if (!faultFired[i]) {
          notes.add("chaos #" + (i + 1) + " (" + p.schedule().get(i).getAfterStep() + ") never became due: its step did not run");
          faultFired[i] = true;
          faultsPending--;
        }
      }
      if (anyTimer || faultsPending > 0) {
        return this;
      }
    }
    finishing = true;
    drainDeadline = System.nanoTime() + DRAIN.toNanos();
    say("all " + s.getStepsCount() + " steps done in " + String.format("%.3f s", (System.nanoTime() - stepsStart) / 1e9) + stepTimes()
        + "; waiting for every wait on the live nodes to end (at most " + DRAIN.toSeconds() + " s)");
    return onDrainTick();
  }

  /** Wall time per executed step (request to answer, as the runner saw it): median and 99th percentile. */
  private String stepTimes() {
    long[] times = java.util.Arrays.stream(outcomes).filter(o -> o != null && !o.getSkipped())
        .mapToLong(o -> o.getWallEndNanos() - o.getWallBeginNanos()).sorted().toArray();
    if (times.length == 0) {
      return "";
    }
    return String.format(" (per step: median %.2f ms, p99 %.2f ms)", times[times.length / 2] / 1e6,
        times[Math.min(times.length - 1, (int) Math.ceil(times.length * 0.99) - 1)] / 1e6);
  }

  /** How long the run waits, after its last step, for the waits still open on live nodes (an unplug resolving). */
  private static final Duration DRAIN = Duration.ofSeconds(20);
  private long drainDeadline;

  private Behavior<Msg> onDrainTick() {
    List<CompletableFuture<FenceControl.WaitsListed>> lists = new ArrayList<>();
    for (String node : nodesOfScenario()) {
      if (!dead.contains(node)) {
        lists.add(this.<FenceControl.ListWaits, FenceControl.WaitsListed>ask(p.agents().get(node), FenceControl.ListWaits::new,
            Duration.ofSeconds(5)).toCompletableFuture());
      }
    }
    CompletableFuture<Drained> all = allOf(lists).thenApply(done -> {
      int n = 0;
      String sample = "";
      for (var listed : done) {
        n += listed.edges().size();
        if (!listed.edges().isEmpty() && sample.isEmpty()) {
          sample = listed.nodeName() + ": " + listed.edges().get(0);
        }
      }
      return new Drained(n, sample);
    });
    getContext().pipeToSelf(all, (d, failure) -> d != null ? d : new Drained(-1, String.valueOf(failure)));
    return this;
  }

  private Behavior<Msg> onDrained(Drained d) {
    if (d.pendingWaits() != 0 && System.nanoTime() < drainDeadline) {
      timers.startSingleTimer(DrainTick.INSTANCE, Duration.ofMillis(200));
      return this;
    }
    if (d.pendingWaits() != 0) {
      notes.add(d.pendingWaits() < 0 ? "could not list the open waits: " + d.sample()
          : d.pendingWaits() + " wait(s) still open " + DRAIN.toSeconds() + " s after the last step (e.g. " + d.sample() + ")");
    }
    say((d.pendingWaits() == 0 ? "no wait open" : d.pendingWaits() + " wait(s) still open") + "; final checksums of the surviving buffers");
    List<CompletableFuture<BufferChecksum>> sums = new ArrayList<>();
    for (Buffer b : s.getBuffersList()) {
      if (!unplugged.contains(b.getDevice()) && !dead.contains(devices.get(b.getDevice()).getNode())) {
        sums.add(checksum(b.getName(), "final").toCompletableFuture());
      }
    }
    CompletableFuture<List<BufferChecksum>> all = allOf(sums);
    getContext().pipeToSelf(all, (list, failure) -> new FinalSums(failure != null ? List.of() : list));
    return this;
  }

  private Behavior<Msg> onFinalSums(FinalSums sums) {
    record.addAllChecksums(sums.sums());
    // Let the last signals, wait ends and trace writes land before collecting (a few flush intervals).
    timers.startSingleTimer(Settled.INSTANCE, Duration.ofMillis(300));
    return this;
  }

  private Behavior<Msg> onSettled() {
    List<CompletableFuture<TraceChunk>> pages = new ArrayList<>();
    List<String> collectNotes = new ArrayList<>();
    for (String node : nodesOfScenario()) {
      if (dead.contains(node)) {
        continue;
      }
      pages.add(collect(node, p.agents().get(node), 1, TraceChunk.newBuilder().setNode(node)).toCompletableFuture()
          .exceptionally(failure -> {
            synchronized (collectNotes) {
              collectNotes.add("could not collect the trace of " + node + ": " + failure.getMessage());
            }
            return TraceChunk.newBuilder().setNode(node).build();
          }));
    }
    CompletableFuture<List<TraceChunk>> all = allOf(pages);
    getContext().pipeToSelf(all, (list, failure) -> new Collected(list == null ? List.of() : list, List.copyOf(collectNotes)));
    return this;
  }

  private CompletionStage<TraceChunk> collect(String node, ActorRef<NodeControl> agent, long from, TraceChunk.Builder acc) {
    return this.<TraceControl.CollectTrace, TraceControl.TracePage>ask(agent, r -> new TraceControl.CollectTrace(from, 500, r), Duration.ofSeconds(20))
        .thenCompose(page -> {
          acc.addAllEvents(page.chunk().getEventsList()).setDropped(page.chunk().getDropped());
          return page.chunk().getDone() ? CompletableFuture.completedFuture(acc.build()) : collect(node, agent, page.chunk().getNextSeq(), acc);
        });
  }

  private Behavior<Msg> onCollected(Collected collected) {
    int n = 0;
    Map<String, ClockOffset> offsets = new HashMap<>();
    record.getClocksList().forEach(c -> offsets.put(c.getNode(), c));
    for (TraceChunk c : collected.chunks()) {
      // A long-lived cluster keeps the events of earlier runs: keep only this run's (aligned to the runner's clock).
      ClockOffset o = offsets.get(c.getNode());
      long since = o == null ? Long.MIN_VALUE : runStart + o.getOffsetNanos() - o.getUncertaintyNanos();
      for (TraceEvent e : c.getEventsList()) {
        if (e.getWallNanos() >= since) {
          record.addEvents(e);
          n++;
        }
      }
      record.putDropped(c.getNode(), c.getDropped());
    }
    notes.addAll(collected.notes());
    say("collected " + n + " trace events from " + collected.chunks().size() + " live node(s)"
        + (dead.isEmpty() ? "" : "; killed: " + dead));
    for (StepOutcome o : outcomes) {
      if (o != null) {
        record.addSteps(o);
      }
    }
    record.addAllEvents(events).addAllFences(state.fences.values()).addAllDeadNodes(dead).addAllUnpluggedDevices(unplugged)
        .addAllNotes(notes).setWallEndNanos(System.nanoTime());
    p.result().complete(record.build());
    return Behaviors.stopped();
  }
}
