package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * How {@link FenceBench} runs its phases, one after the other: the queue of phases, the running phase's message
 * handler, what a phase and its raw twin share (a latency histogram, a counter, a start time), and the figures so far.
 * Not an actor: the bench's actor owns it, and only its thread touches it; the phases of a figure group
 * ({@link CrossNodePhases}, {@link HeapPhases}, and the bench's local ones) hand their handlers to it.
 */
final class BenchPhases {
  /** Latency samples dropped at the start of a latency figure (the path compiled and warm). */
  static final int WARMUP = 500;

  /** Unmeasured rounds of each side of a rate figure (each side's path compiled and warm), then measured ones. */
  static final int RATE_WARMUP = 3;
  static final int RATE_ROUNDS = 5;

  private final ActorContext<FenceBench.Command> context;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  private final Deque<Runnable> queue = new ArrayDeque<>();
  private final List<BenchFigure> figures = new ArrayList<>();
  private Function<FenceBench.Command, Behavior<FenceBench.Command>> handler = m -> Behaviors.same();
  private boolean finished;

  /** The running phase's latencies (fresh for each phase). */
  Histogram hist;
  /** The fencelab side's latencies, kept for its raw twin, the next phase. */
  Histogram baseHist;
  /** The running phase's counter (zero at its start). */
  int count;
  /** When the sample being timed started. */
  long t0;
  /** When the running round started. */
  long phaseStart;

  BenchPhases(ActorContext<FenceBench.Command> context, ActorRef<FenceControl.BenchReport> replyTo) {
    this.context = context;
    this.replyTo = replyTo;
  }

  void add(Runnable phase) {
    queue.add(phase);
  }

  /**
   * A rate figure of {@code n} operations a round, taken over rounds that alternate between fencelab's side and raw's
   * (load drifts hit both alike): {@value #RATE_WARMUP} unmeasured of each, then {@value #RATE_ROUNDS} measured; the
   * figure is each side's median. Each side runs one round and hands its elapsed nanoseconds to the consumer it is given.
   */
  void rateRounds(String name, String unit, int n, Consumer<LongConsumer> fenced, Consumer<LongConsumer> raw) {
    List<Double> fencedRates = new ArrayList<>();
    List<Double> rawRates = new ArrayList<>();
    for (int r = 0; r < RATE_WARMUP + RATE_ROUNDS; r++) {
      boolean measured = r >= RATE_WARMUP;
      add(() -> fenced.accept(elapsed -> {
        if (measured) {
          fencedRates.add(n / (elapsed / 1e9));
        }
        next();
      }));
      add(() -> raw.accept(elapsed -> {
        if (measured) {
          rawRates.add(n / (elapsed / 1e9));
        }
        next();
      }));
    }
    add(() -> {
      context.getLog().info("bench: {} fencelab {} raw {}", name, fencedRates, rawRates);
      figures.add(BenchFigure.of(name, unit, DeviceBench.median(fencedRates), DeviceBench.median(rawRates), true));
      next();
    });
  }

  /** Starts the next phase, or, when none is left, reports the figures. */
  void next() {
    Runnable phase = queue.poll();
    if (phase == null) {
      replyTo.tell(new FenceControl.BenchReport(figures));
      finished = true;
      return;
    }
    hist = new Histogram(3_600_000_000_000L, 3);
    count = 0;
    phase.run();
  }

  /** What the running phase does with the messages that come (its answers). */
  void handle(Function<FenceBench.Command, Behavior<FenceBench.Command>> handler) {
    this.handler = handler;
  }

  /** A message to the running phase; stopped once the bench has reported. */
  Behavior<FenceBench.Command> dispatch(FenceBench.Command m) {
    Behavior<FenceBench.Command> next = handler.apply(m);
    return finished ? Behaviors.stopped() : next;
  }

  boolean finished() {
    return finished;
  }

  /**
   * A full GC off the actor threads, then {@code then}: a timed burst starts without the garbage of what came before
   * (a 0.6 s young collection of the 100,000 fences just made landed inside the cross-node burst once, and not in its
   * raw twin, which has no such garbage).
   */
  void afterGc(Runnable then) {
    BenchGc.thenTell(context, new FenceBench.Collected(then));
  }

  void figure(BenchFigure figure) {
    figures.add(figure);
  }

  /** p50, p99 and p99.9 of both sides' latencies, and each side's sequential rate. */
  void percentiles(String name, Histogram fence, Histogram raw) {
    for (double q : new double[] {50, 99, 99.9}) {
      String label = q == 99.9 ? "p99.9" : "p" + (int) q;
      figures.add(BenchFigure.of(name + "." + label, "us", fence.getValueAtPercentile(q) / 1e3, raw.getValueAtPercentile(q) / 1e3, false));
    }
    double fenceRate = fence.getTotalCount() / (fence.getMean() * fence.getTotalCount() / 1e9);
    double rawRate = raw.getTotalCount() / (raw.getMean() * raw.getTotalCount() / 1e9);
    figures.add(BenchFigure.of(name + ".sequential_rate", "ops/s", fenceRate, rawRate, true));
  }

  /** Ends the bench: the figures so far and a failed one saying why. */
  void fail(String why) {
    context.getLog().error("bench: {}", why);
    figures.add(BenchFigure.of("failed: " + why, "", 0, 0, true));
    replyTo.tell(new FenceControl.BenchReport(figures));
    finished = true;
  }
}
