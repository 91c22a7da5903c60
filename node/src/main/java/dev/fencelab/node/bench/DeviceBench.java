package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DriverActor;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.driver.DriverSettings;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.FenceWaits;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The device benchmark, run on one member with a peer member, one step after the other; one report at the end.
 *
 * <ol>
 *   <li>jobs per second through one engine here, each job with one in-fence of a driver timeline on the peer: all jobs
 *       are submitted first, then every in-fence is signalled on the peer; the time until the last job's out-fence
 *       signals — vs the same number of raw protobuf ping-pongs with the peer, pipelined. Rounds of jobs then pings: five
 *       unmeasured, then five measured, each timed part after a full GC, and the figure is each side's median. One cold round read 19,000 to 45,000 raw
 *       round trips a second from run to run, as the JIT had compiled the path or not; with two warm-up rounds, the
 *       seven rounds of one run still rose from 16,500 to 105,000 jobs/s and from 30,000 to 155,000 round trips/s, both
 *       sides compiling their paths for the first five or so (20,000 jobs a round on 2 cores);
 *   <li>copy throughput ({@link CopyPhases}): a buffer of real bytes on a GPU on the peer, exported, imported here peer
 *       to peer (the two GPUs under one PCIe switch, each copy a transfer of the fabric), and copied into a local buffer by
 *       copy jobs (chunks pulled over the wire with flow control, written, acknowledged) — MB of content moved per second,
 *       vs a raw actor on the peer answering the same chunk requests with the same bytes;
 *   <li>invalidation rounds ({@link InvalidationBench}).
 * </ol>
 */
public final class DeviceBench extends AbstractBehavior<DeviceBench.Command> {
  public interface Command extends NoSerializationVerificationNeeded {}

  /** Parameters: {@code jobs} for the first figure; {@code copyBytes} × {@code copies} moved in the second. */
  public record Params(int jobs, int copyBytes, int copies, ActorRef<NodeControl> peer) {}

  private record Step(Object reply) implements Command {}

  static final String PROCESS = "bench";
  /** Requests in flight at most: Artery drops messages beyond its outbound queue (3072 by default). */
  private static final int WINDOW = 1000;

  private final Params p;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  final List<BenchFigure> figures = new ArrayList<>();
  private final ActorRef<Object> step;
  private Consumer<Object> onStep = m -> {};
  private ActorRef<DriverProtocol.Command> gpu;
  private ActorRef<ContextOwner.Command> peerTimeline;
  private final List<FenceRef> inFences = new ArrayList<>();
  private int count;
  private long t0;
  private double jobsPerSecond;
  /** Rounds of jobs, then pings: the first {@value #JOBS_WARMUP} unmeasured (both sides compiled), then {@value #JOBS_ROUNDS} measured. */
  private int jobsRound;
  static final int JOBS_WARMUP = 5;
  static final int JOBS_ROUNDS = 5;
  private final List<Double> jobRates = new ArrayList<>();
  private final List<Double> rawJobRates = new ArrayList<>();
  private boolean finished;

  public static Behavior<Command> create(Params params, FenceServices services, ActorRef<ContextOwner.Command> containers,
      ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(context -> new DeviceBench(context, params, services, containers, replyTo).start());
  }

  private DeviceBench(ActorContext<Command> context, Params p, FenceServices services, ActorRef<ContextOwner.Command> containers,
      ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.p = p;
    this.services = services;
    this.containers = containers;
    this.replyTo = replyTo;
    this.step = context.messageAdapter(Object.class, Step::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Step.class, s -> {
      onStep.accept(s.reply());
      return finished ? Behaviors.stopped() : this;
    }).build();
  }

  @SuppressWarnings("unchecked")
  <T> ActorRef<T> reply() {
    return (ActorRef<T>) (ActorRef<?>) step;
  }

  /**
   * Waits for {@code fence} as a driver waits, bounded: a fence that signalled and stopped before the wait reached it is
   * answered by its owner (a bare {@code AddCallback} to it would be a dead letter, and the bench would wait forever).
   */
  void awaitEnd(FenceRef fence) {
    FenceWaits.start(getContext(), fence, Duration.ofMinutes(5), "device-bench", "bench waits for a job", -1, reply(), services);
  }

  /**
   * The handler of the next answers. Every step ignores messages of other kinds: answers of an earlier step may still
   * arrive (e.g. signal results after the callback that ended the step).
   */
  void then(Consumer<Object> next) {
    onStep = next;
  }

  void phase(String what) {
    getContext().getLog().info("device bench: {}", what);
  }

  private Behavior<Command> start() {
    gpu = getContext().spawn(DriverActor.create(new DeviceSpec("bench-gpu", DeviceSpec.Kind.GPU, 1, 1L << 34, true, false,
        Duration.ofMinutes(5)), "bench/gpu", services, containers, DriverSettings.from(getContext().getSystem().settings().config(),
        dev.fencelab.node.resv.Resv.Mode.MODERN)), "bench-gpu");
    then(m -> {
      if (m instanceof FenceControl.TimelineSpawned spawned) {
        peerTimeline = spawned.owner();
        createInFences();
      }
    });
    p.peer().tell(new FenceControl.SpawnTimeline(FenceControl.TimelineKind.DRIVER, "bench-in-" + System.nanoTime(), reply()));
    return this;
  }

  // --- 1. jobs per second with a remote in-fence

  /** Sends {@code total} requests with at most {@link #WINDOW} unanswered; {@code answered} sees each answer. */
  private void windowed(int total, java.util.function.IntConsumer send, Consumer<Object> answered) {
    int[] sent = {0};
    then(m -> {
      answered.accept(m);
      if (sent[0] < total) {
        send.accept(sent[0]++);
      }
    });
    while (sent[0] < Math.min(WINDOW, total)) {
      send.accept(sent[0]++);
    }
  }

  private void createInFences() {
    windowed(p.jobs(), i -> peerTimeline.tell(new FenceTimeline.CreateFence(reply())), m -> {
      if (!(m instanceof FenceRef)) {
        return;
      }
      inFences.add((FenceRef) m);
      if (inFences.size() == p.jobs()) {
        inFences.sort(Comparator.comparingLong(f -> f.id().seqno()));
        submitJobs();
      }
    });
  }

  private void submitJobs() {
    phase(p.jobs() + " in-fences created on the peer; submitting jobs");
    count = 0;
    then(m -> {
      if (!(m instanceof DriverProtocol.SubmitReply r)) {
        return;
      }
      if (r.result() != 0) {
        fail("submit failed: " + r.result());
        return;
      }
      r.outFence().actor().tell(new FenceProtocol.AddCallback(reply(), false)); // each job's end, here (local)
      if (++count == p.jobs()) {
        awaitInFenceWaits();
      }
    });
    for (FenceRef in : inFences) {
      gpu.tell(new DriverProtocol.Submit(PROCESS, JobSpec.compute("j", 1_000, List.of(), List.of()), List.of(in), reply()));
    }
  }

  /**
   * Until the engine waits on every in-fence (its waits are edges of this member's wait-for graph): a job's submission
   * is answered before the engine has registered its wait, and registering is not what the raw ping-pong does.
   */
  private void awaitInFenceWaits() {
    then(m -> {
      if (m instanceof dev.fencelab.node.check.WaitGraph.Pending pending) {
        if (pending.edges().stream().filter(e -> e.reason().startsWith("job in-fence")).count() >= p.jobs()) {
          signalInFences();
        } else {
          services.waits().tell(new dev.fencelab.node.check.WaitGraph.ListPending(reply()));
        }
      }
    });
    services.waits().tell(new dev.fencelab.node.check.WaitGraph.ListPending(reply()));
  }

  /**
   * Hop for hop with the raw ping-pong: a signal goes to the peer (the ping: no answer asked), the fence's wake comes
   * back and runs the job (the pong), the job's end frees the window's slot for the next signal.
   */
  private void signalInFences() {
    phase("jobs submitted; signalling their in-fences on the peer");
    afterGc(this::signalInFencesNow);
  }

  private void signalInFencesNow() {
    int[] ended = {0};
    t0 = System.nanoTime();
    windowed(p.jobs(), i -> peerTimeline.tell(new FenceTimeline.SignalFence(inFences.get(i).id().seqno(), 0, 0, null)), m -> {
      if (m instanceof FenceProtocol.Signalled s && s.status().value() < 0) {
        fail("a job ended with " + s.status());
      } else if (m instanceof FenceProtocol.Signalled && ++ended[0] == p.jobs()) {
        jobsPerSecond = p.jobs() / ((System.nanoTime() - t0) / 1e9);
        rawPings(raw -> {
          boolean measured = jobsRound >= JOBS_WARMUP;
          phase(String.format(java.util.Locale.ROOT, "jobs round %d%s: %.0f jobs/s, raw %.0f round trips/s", jobsRound,
              measured ? "" : " (warm-up)", jobsPerSecond, raw));
          if (measured) {
            jobRates.add(jobsPerSecond);
            rawJobRates.add(raw);
          }
          if (++jobsRound < JOBS_WARMUP + JOBS_ROUNDS) {
            inFences.clear();
            createInFences();
          } else {
            figures.add(BenchFigure.of("jobs.remote_in_fence.rate", "jobs/s", median(jobRates), median(rawJobRates), true));
            new CopyPhases(this, getContext(), p, gpu, this::invalidationRounds).start();
          }
        });
      }
    });
  }

  /** The raw baseline: as many ping-pongs with the peer as jobs, through the same window; its rate goes to {@code then}. */
  private void rawPings(java.util.function.DoubleConsumer then) {
    phase("raw ping-pong baseline");
    count = 0;
    afterGc(() -> {
      long start = System.nanoTime();
      ActorRef<Pong> pong = reply();
      windowed(p.jobs(), i -> p.peer().tell(new Ping(i, System.nanoTime(), pong)), m -> {
        if (m instanceof Pong && ++count == p.jobs()) {
          then.accept(p.jobs() / ((System.nanoTime() - start) / 1e9));
        }
      });
    });
  }

  /** A full GC (off the actor threads), then {@code then}: each timed round of jobs or pings starts on a clean heap. */
  private void afterGc(Runnable then) {
    Object collected = new Object();
    then(m -> {
      if (m == collected) {
        then.run();
      }
    });
    BenchGc.thenTell(getContext(), new Step(collected));
  }

  // --- 2. copy throughput between devices on two members: CopyPhases; 3. invalidation rounds: InvalidationBench

  private void invalidationRounds() {
    then(r -> {
      if (r instanceof FenceControl.BenchReport report) {
        replyTo.tell(report);
        finished = true;
      }
    });
    getContext().spawnAnonymous(InvalidationBench.create(p.peer(), Math.min(1000, Math.max(50, p.jobs() / 10)), services, figures,
        reply()));
  }

  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n == 0 ? 0 : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The raw byte source a peer spawns for the copy baseline. */
  public static Behavior<DriverProtocol.Command> rawSource() {
    return RawSource.create();
  }

  void fail(String why) {
    getContext().getLog().error("device bench: {}", why);
    figures.add(BenchFigure.of("failed: " + why, "", 0, 0, true));
    replyTo.tell(new FenceControl.BenchReport(figures));
    finished = true;
  }
}
