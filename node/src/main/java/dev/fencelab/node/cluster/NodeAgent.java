package dev.fencelab.node.cluster;

import com.typesafe.config.Config;
import dev.fencelab.node.bench.DeviceBench;
import dev.fencelab.node.bench.FenceBench;
import dev.fencelab.node.check.Violations;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.driver.DmaBufSteps;
import dev.fencelab.node.driver.FaultSteps;
import dev.fencelab.node.driver.JobSteps;
import dev.fencelab.node.process.ProcessSteps;
import dev.fencelab.node.driver.DriverActor;
import dev.fencelab.node.driver.DriverSettings;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceContexts;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceSteps;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.FenceWaits;
import dev.fencelab.node.fence.FenceWaitAny;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvSteps;
import dev.fencelab.node.step.StepExecutor;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.node.sync.SwSyncTimeline;
import dev.fencelab.node.sync.SwSyncSteps;
import dev.fencelab.node.sync.SyncFileSteps;
import dev.fencelab.node.wire.NodeSerializer;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.protocol.control.Describe;
import dev.fencelab.protocol.control.CoordinatorControl;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.ReleaseRun;
import dev.fencelab.protocol.control.CollectTrace;
import dev.fencelab.protocol.control.Crash;
import dev.fencelab.protocol.control.ListWaits;
import dev.fencelab.protocol.control.TracePage;
import dev.fencelab.protocol.control.WaitsListed;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.control.Register;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.ExecuteStep;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The agent of one node member.
 *
 * <p>Owns: this member's identity as the coordinator sees it, and the member's fence services (its
 * {@link Violations} record, its {@link WaitGraph}, its fence-context allocator) with the context owners
 * created through it. Talks to: the coordinator (any coordinator member; it does not assume which) and
 * whoever drives the member through {@link FenceControl}. Replies: {@link NodeInfo} to {@link Register} and
 * {@link Describe}, {@link Pong} to {@link Ping}, {@link FenceControl.TimelineSpawned},
 * {@link dev.fencelab.node.fence.WaitResult} (from the wait it starts), {@link FenceControl.WaitsListed}.
 * Errors: {@code -EEXIST} for a timeline name already used on this member.
 */
public final class NodeAgent extends AbstractBehavior<NodeControl> {

  /** Identity of this member, fixed at start-up. */
  public record Identity(String nodeName, long pid, long startedEpochMillis, String version) {
    public Identity {
      Objects.requireNonNull(nodeName, "nodeName");
      Objects.requireNonNull(version, "version");
    }
  }

  private record WaitsReady(WaitGraph.Pending pending, ListWaits list)
      implements NodeControl, NoSerializationVerificationNeeded {}

  private final Identity identity;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final Resv.Mode resvMode;
  private final DriverSettings driverSettings;
  /** This member's part of the host's physical memory (limits, reclaim). */
  private final ActorRef<dev.fencelab.node.mm.HostMemory.Command> memory;
  private final ActorRef<StepExecutor.Command> steps;
  private ActorRef<CoordinatorControl> coordinator;

  public static Behavior<NodeControl> create(Identity identity) {
    return Behaviors.setup(context -> new NodeAgent(context, identity));
  }

  private NodeAgent(ActorContext<NodeControl> context, Identity identity) {
    super(context);
    dev.fencelab.node.fence.FenceLinks.get(context.getSystem()); // the member's end of every cross-node wait, from the start
    this.identity = identity;
    Config config = context.getSystem().settings().config().getConfig("fencelab.fence");
    long origin = Cluster.get(context.getSystem()).selfMember().uniqueAddress().longUid();
    this.services = new FenceServices(
        context.spawn(Violations.create(config.getInt("violation-record")), "violations"),
        context.spawn(WaitGraph.create(), "waits"),
        new FenceContexts(origin == 0 ? 1 : origin),
        config.getDuration("wait-cap"),
        config.getInt("completion-record"));
    this.containers = context.spawn(Containers.create(services), "containers");
    String mode = context.getSystem().settings().config().getString("fencelab.resv.mode");
    this.resvMode = switch (mode) {
      case "modern" -> Resv.Mode.MODERN;
      case "2020" -> Resv.Mode.Y2020;
      default -> throw new IllegalArgumentException("fencelab.resv.mode must be modern or 2020, was " + mode);
    };
    this.memory = context.spawn(dev.fencelab.node.mm.HostMemory.create(identity.nodeName(), services), "memory");
    this.driverSettings = DriverSettings.from(context.getSystem().settings().config(), resvMode).withMemory(memory);
    this.steps = context.spawn(StepExecutor.create(stepHandlers(),
        new PlacementSteps(context.getSelf(), identity.nodeName(), memory)), "steps");
    context.getSystem().receptionist().tell(Receptionist.register(NodeAgentKey.KEY, context.getSelf()));
  }

  /** Every step action this node executes, each with the handler that lives beside its feature. */
  private Map<Step.ActionCase, StepHandler> stepHandlers() {
    Map<Step.ActionCase, StepHandler> handlers = new EnumMap<>(Step.ActionCase.class);
    FenceNames names = new FenceNames(NodeSerializer.of(getContext().getSystem()));
    FenceSteps fence = new FenceSteps(services, containers, names);
    FenceSteps.actions().forEach(a -> handlers.put(a, fence));
    SyncFileSteps sync = new SyncFileSteps(names);
    SyncFileSteps.actions().forEach(a -> handlers.put(a, sync));
    DmaBufSteps dmaBuf = new DmaBufSteps();
    DmaBufSteps.actions().forEach(a -> handlers.put(a, dmaBuf));
    ResvSteps resv = new ResvSteps(names, services, containers, resvMode, dmaBuf);
    ResvSteps.actions().forEach(a -> handlers.put(a, resv));
    SwSyncSteps swSync = new SwSyncSteps(services, names);
    SwSyncSteps.actions().forEach(a -> handlers.put(a, swSync));
    JobSteps jobs = new JobSteps(names);
    JobSteps.actions().forEach(a -> handlers.put(a, jobs));
    FaultSteps faults = new FaultSteps();
    FaultSteps.actions().forEach(a -> handlers.put(a, faults));
    ProcessSteps process = new ProcessSteps();
    ProcessSteps.actions().forEach(a -> handlers.put(a, process));
    dev.fencelab.node.mm.MmSteps mm = new dev.fencelab.node.mm.MmSteps(names, memory);
    dev.fencelab.node.mm.MmSteps.actions().forEach(a -> handlers.put(a, mm));
    dev.fencelab.node.rdma.RdmaSteps rdma = new dev.fencelab.node.rdma.RdmaSteps();
    dev.fencelab.node.rdma.RdmaSteps.actions().forEach(a -> handlers.put(a, rdma));
    dev.fencelab.node.p2p.P2pSteps p2p = new dev.fencelab.node.p2p.P2pSteps();
    dev.fencelab.node.p2p.P2pSteps.actions().forEach(a -> handlers.put(a, p2p));
    dev.fencelab.node.lockdep.LockdepSteps lockdep = new dev.fencelab.node.lockdep.LockdepSteps();
    dev.fencelab.node.lockdep.LockdepSteps.actions().forEach(a -> handlers.put(a, lockdep));
    dev.fencelab.node.lockdep.LockdepSteps.threadedActions().forEach(a -> handlers.computeIfPresent(a,
        (action, inner) -> dev.fencelab.node.lockdep.LockdepSteps.threaded(inner)));
    return handlers;
  }

  /** The fence services of this member (for actors the agent's callers create on it). */
  public FenceServices services() {
    return services;
  }

  @Override
  public Receive<NodeControl> createReceive() {
    return newReceiveBuilder()
        .onMessage(Ping.class, this::onPing)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Describe.class, d -> {
          d.replyTo().tell(describe());
          return this;
        })
        .onMessage(ExecuteStep.class, e -> {
          steps.tell(new StepExecutor.Run(e));
          return this;
        })
        .onMessage(ReleaseRun.class, this::onReleaseRun)
        .onMessage(FenceControl.SpawnTimeline.class, this::onSpawnTimeline)
        .onMessage(FenceControl.WaitFence.class, this::onWaitFence)
        .onMessage(FenceControl.WaitAnyFence.class, this::onWaitAnyFence)
        .onMessage(ListWaits.class, this::onListWaits)
        .onMessage(dev.fencelab.protocol.control.WatchWaits.class, w -> {
          services.waits().tell(new WaitGraph.Watch(identity.nodeName(), w.watcher()));
          return this;
        })
        .onMessage(FenceControl.SpawnProcess.class, this::onSpawnProcess)
        .onMessage(FenceControl.SpawnResv.class, this::onSpawnResv)
        .onMessage(DeviceControl.PlaceDevice.class, this::onPlaceDevice)
        .onMessage(DeviceControl.RunDeviceBench.class, run -> {
          getContext().spawnAnonymous(DeviceBench.create(new DeviceBench.Params(run.jobs(), run.copyBytes(), run.copies(), run.peer()),
              services, containers, run.replyTo()));
          return this;
        })
        .onMessage(DeviceControl.SpawnAckSubscriber.class, s -> {
          s.replyTo().tell(new DeviceControl.AckSubscriberSpawned(getContext().spawnAnonymous(
              org.apache.pekko.actor.typed.javadsl.Behaviors.<dev.fencelab.node.mm.MmProtocol.Invalidate>receiveMessage(inv -> {
                inv.replyTo().tell(new dev.fencelab.node.mm.MmProtocol.InvalidateDone(inv.round(), inv.interval(), true));
                return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
              }))));
          return this;
        })
        .onMessage(DeviceControl.RunRdmaBench.class, run -> {
          getContext().spawnAnonymous(dev.fencelab.node.bench.RdmaBench.create(new dev.fencelab.node.bench.RdmaBench.Params(run.bytes(),
              run.writes(), run.small(), run.peer()), services, run.replyTo()));
          return this;
        })
        .onMessage(DeviceControl.SpawnRdmaPeer.class, s -> {
          getContext().spawnAnonymous(dev.fencelab.node.bench.RdmaBench.peerSide(s, services));
          return this;
        })
        .onMessage(DeviceControl.SpawnRawSource.class, s -> {
          s.replyTo().tell(new DeviceControl.RawSourceSpawned(getContext().spawnAnonymous(DeviceBench.rawSource())));
          return this;
        })
        .onMessage(FenceControl.RunFenceBench.class, run -> {
          getContext().spawnAnonymous(FenceBench.create(new FenceBench.Params(run.iterations(), run.fanout(), run.fanoutRounds(),
              run.createSignal(), run.crossIterations(), run.pendingFences(), run.peer()), services, run.replyTo()));
          return this;
        })
        .onMessage(FenceControl.RunScaleBench.class, run -> {
          getContext().spawnAnonymous(dev.fencelab.node.bench.ScaleBench.create(run.pending(), run.chain(), run.members(), services,
              run.replyTo()));
          return this;
        })
        .onMessage(FenceControl.HoldFences.class, hold -> {
          getContext().spawnAnonymous(dev.fencelab.node.bench.ScaleBench.hold(hold.count(), identity.nodeName(), services,
              hold.replyTo()));
          return this;
        })
        .onMessage(CollectTrace.class, c -> {
          c.replyTo().tell(new TracePage(
              dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).page(c.fromSeq(), c.max())));
          return this;
        })
        .onMessage(dev.fencelab.protocol.control.PauseMember.class, pm -> {
          faults().pause(pm);
          return this;
        })
        .onMessage(dev.fencelab.protocol.control.Blackhole.class, b -> {
          b.replyTo().tell(faults().blackhole(b));
          return this;
        })
        .onMessage(dev.fencelab.protocol.control.SetLinkDelay.class, d -> {
          d.replyTo().tell(faults().linkDelay(d));
          return this;
        })
        .onMessage(Crash.class, c -> {
          getContext().getLog().error("crash command ({}): halting this member now", c.reason());
          Runtime.getRuntime().halt(137); // the remote form of SIGKILL: no hooks, no leave
          return this;
        })
        .onMessage(WaitsReady.class, r -> {
          var edges = r.pending().edges().stream().sorted(java.util.Comparator.comparingLong(WaitGraph.Edge::waitId)).toList();
          int from = Math.min(r.list().offset(), edges.size());
          var page = edges.subList(from, Math.min(edges.size(), from + r.list().max())).stream().map(WaitGraph::wire).toList();
          r.list().replyTo().tell(new WaitsListed(identity.nodeName(), page, edges.size(), from));
          return this;
        })
        .build();
  }

  private MemberFaults faults() {
    return new MemberFaults(getContext().getSystem(), identity.nodeName());
  }

  private Behavior<NodeControl> onPing(Ping ping) {
    Instant now = Instant.now();
    long wallMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000L;
    ping.replyTo().tell(new Pong(identity.nodeName(), ping.seq(), ping.sentMonoNanos(), wallMicros, System.nanoTime()));
    return this;
  }

  private Behavior<NodeControl> onRegister(Register register) {
    if (!register.coordinator().equals(coordinator)) {
      getContext().getLog().info("registered with coordinator {}", register.coordinator().path());
      coordinator = register.coordinator();
    }
    register.replyTo().tell(describe());
    return this;
  }

  /** A run is over: what its steps spawned, and the devices and processes placed under its tag, are stopped. */
  private Behavior<NodeControl> onReleaseRun(ReleaseRun release) {
    steps.tell(new StepExecutor.Forget(release.run()));
    dev.fencelab.node.fence.LinkDelays.get(getContext().getSystem()).clear();
    dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).resetModel();
    dev.fencelab.node.lockdep.Lockdep.get(getContext().getSystem()).forgetRun();
    memory.tell(new dev.fencelab.node.mm.HostMemory.SetLimit(0)); // a scenario's node memory limit ends with it
    List<ActorRef<Void>> stopping = new java.util.ArrayList<>();
    if (!release.tag().isEmpty()) {
      String suffix = "-" + URLEncoder.encode(release.tag(), StandardCharsets.UTF_8);
      for (ActorRef<Void> child : getContext().getChildren()) {
        String name = child.path().name();
        if ((name.startsWith("driver-") || name.startsWith("process-") || name.startsWith("mm-")) && name.endsWith(suffix)) {
          getContext().stop(child);
          stopping.add(child);
        }
      }
      getContext().getLog().info("run {} released: {} device(s) and process(es) stopped", release.run(), stopping.size());
    }
    if (release.replyTo() != null) { // acknowledged once every one of them has stopped (bounded: a stuck stop must not hold the runner)
      getContext().spawnAnonymous(ReleaseWatch.create(stopping, identity.nodeName(), release.replyTo()));
    }
    return this;
  }

  private Behavior<NodeControl> onSpawnTimeline(FenceControl.SpawnTimeline spawn) {
    String childName = "timeline-" + URLEncoder.encode(spawn.name(), StandardCharsets.UTF_8);
    if (getContext().getChild(childName).isPresent()) {
      spawn.replyTo().tell(new FenceControl.TimelineSpawned(null, Errno.EEXIST.negative()));
      return this;
    }
    Behavior<ContextOwner.Command> behavior = switch (spawn.kind()) {
      case DRIVER -> FenceTimeline.create(services, false);
      case SW_SYNC -> SwSyncTimeline.create(services);
      case CONTAINERS -> Containers.create(services);
    };
    spawn.replyTo().tell(new FenceControl.TimelineSpawned(getContext().spawn(behavior, childName), 0));
    return this;
  }

  private Behavior<NodeControl> onSpawnProcess(FenceControl.SpawnProcess spawn) {
    String childName = "process-" + URLEncoder.encode(spawn.name(), StandardCharsets.UTF_8);
    if (getContext().getChild(childName).isPresent()) {
      spawn.replyTo().tell(new FenceControl.ProcessSpawned(null, Errno.EEXIST.negative()));
      return this;
    }
    var process = getContext().spawn(ProcessActor.create(qualified(spawn.name()), containers, services), childName);
    var mm = getContext().spawn(dev.fencelab.node.mm.MmActor.create(qualified(spawn.name()), driverSettings.bytesThreshold(), services, memory),
        "mm-" + URLEncoder.encode(spawn.name(), StandardCharsets.UTF_8));
    spawn.replyTo().tell(new FenceControl.ProcessSpawned(process, 0, mm));
    return this;
  }

  private Behavior<NodeControl> onSpawnResv(FenceControl.SpawnResv spawn) {
    String childName = "resv-" + URLEncoder.encode(spawn.name(), StandardCharsets.UTF_8);
    Resv.Mode mode = spawn.mode() != null ? spawn.mode() : resvMode;
    if (getContext().getChild(childName).isPresent()) {
      spawn.replyTo().tell(new FenceControl.ResvSpawned(null, Errno.EEXIST.negative(), mode));
      return this;
    }
    var resv = getContext().spawn(Resv.create(spawn.name(), mode, containers, services), childName);
    spawn.replyTo().tell(new FenceControl.ResvSpawned(resv, 0, mode));
    return this;
  }

  private Behavior<NodeControl> onPlaceDevice(DeviceControl.PlaceDevice place) {
    String childName = "driver-" + place.spec().name();
    if (getContext().getChild(childName).isPresent()) {
      place.replyTo().tell(new DeviceControl.DevicePlaced(null, Errno.EEXIST.negative(),
          "a device named " + place.spec().name() + " already exists on " + identity.nodeName()));
      return this;
    }
    var driver = getContext().spawn(DriverActor.create(place.spec(), qualified(place.spec().name()), services, containers, driverSettings),
        childName);
    getContext().getLog().info("placed {} {} ({} engines)", place.spec().kind(), place.spec().name(), place.spec().engines());
    place.replyTo().tell(new DeviceControl.DevicePlaced(driver, 0, ""));
    return this;
  }

  private Behavior<NodeControl> onWaitFence(FenceControl.WaitFence wait) {
    FenceWaits.start(getContext(),
        wait.fence(), timeout(wait.timeoutNanos()), qualified(wait.waiter()), wait.reason(), -1, wait.replyTo(), services);
    return this;
  }

  private Behavior<NodeControl> onWaitAnyFence(FenceControl.WaitAnyFence wait) {
    getContext().spawnAnonymous(FenceWaitAny.create(
        wait.fences(), timeout(wait.timeoutNanos()), qualified(wait.waiter()), wait.reason(), wait.replyTo(), services));
    return this;
  }

  private Behavior<NodeControl> onListWaits(ListWaits list) {
    getContext().ask(WaitGraph.Pending.class, services.waits(), Duration.ofSeconds(5), WaitGraph.ListPending::new,
        (pending, failure) -> new WaitsReady(pending == null ? new WaitGraph.Pending(List.of()) : pending, list));
    return this;
  }


  private static Duration timeout(long nanos) {
    return nanos < 0 ? null : Duration.ofNanos(nanos);
  }

  private String qualified(String waiter) {
    return identity.nodeName() + "/" + waiter;
  }

  private NodeInfo describe() {
    Cluster cluster = Cluster.get(getContext().getSystem());
    return new NodeInfo(
        identity.nodeName(),
        cluster.selfMember().address().toString(),
        ClusterStatus.userRoles(cluster.selfMember().getRoles()),
        identity.pid(),
        identity.startedEpochMillis(),
        identity.version(),
        getContext().getSelf().path().toStringWithoutAddress());
  }
}
