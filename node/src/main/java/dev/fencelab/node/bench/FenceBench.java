package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Pong;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Runs the fence benchmark on this member, one phase after the other, and replies one report.
 *
 * <ol>
 *   <li>local wake latency, 1 waiter: the signaller tells the fence ({@code dma_fence_signal}), the fence runs the
 *       waiter's callback — two hops — vs a raw round trip through a plain actor, two tells; the two alternate sample by
 *       sample;
 *   <li>local signal → 1,000 waiters: wake deliveries per second and latency of each — vs 1,000 raw tells; both sides'
 *       wakes reach one plain waiter actor ({@link Wakes});
 *   <li>fences created and signalled per second — vs raw actors spawned, sent a message and stopped;
 *   <li>local signals pipelined: {@code createSignal} fences with a callback each, all signalled at once, signals per
 *       second until the last callback — vs as many plain actors, made beforehand, each told once and answering once before
 *       it stops (hop for hop: a tell to an actor was counted against one actor's batch, 0.06×);
 *   <li>cross-node (with a peer; {@link CrossNodePhases}): fence here, waiter on the peer, the wait result back here:
 *       round trip — vs a raw protobuf ping-pong between the same two members; and the same in bursts, per second;
 *   <li>heap per pending fence ({@link HeapPhases}): {@code pendingFences} unsignalled fences, used heap after GC — vs
 *       as many raw actors. GC and heap reads run on the blocking dispatcher, never on an actor thread.
 * </ol>
 *
 * <p>The rates of a whole batch (created and signalled, pipelined, cross-node bursts) are taken over rounds, fencelab's
 * and raw's alternating: three warm-up rounds of each, then five of each, and each side's median ({@link BenchPhases#rateRounds});
 * each round starts after a full GC, with what it made beforehand (fences, waits, targets) already in place. A single
 * cold round ran the JIT's compiles of the fenced path inside the timed window (19% of n1's CPU samples in a cross-node
 * burst); after one warm-up round the cross-node rounds of one run still rose 178,000 → 285,000 → 336,000 wakes/s; and
 * single rounds of one run spread 2× on this machine.
 */
public final class FenceBench extends AbstractBehavior<FenceBench.Command> {
  public interface Command {}

  /**
   * Parameters; {@code createSignal}: fences a round of the two batch figures (created+signalled, pipelined);
   * {@code peer} may be null (then no cross-node figures).
   */
  public record Params(int iterations, int fanout, int fanoutRounds, int createSignal, int crossIterations, int pendingFences,
      ActorRef<NodeControl> peer) {}

  record Raw(long t0) implements Command, NoSerializationVerificationNeeded {}

  record GotFence(FenceRef fence) implements Command, NoSerializationVerificationNeeded {}

  record Cb(FenceProtocol.Callback callback) implements Command, NoSerializationVerificationNeeded {}

  record Signalled(FenceProtocol.SignalResult result) implements Command, NoSerializationVerificationNeeded {}

  record Waited(WaitResult result) implements Command, NoSerializationVerificationNeeded {}

  record Ponged(Pong pong) implements Command, NoSerializationVerificationNeeded {}

  record Listed(dev.fencelab.protocol.control.WaitsListed waits) implements Command, NoSerializationVerificationNeeded {}

  record Heap(long used) implements Command, NoSerializationVerificationNeeded {}

  record Collected(Runnable then) implements Command, NoSerializationVerificationNeeded {}

  record Gone() implements Command, NoSerializationVerificationNeeded {}

  /** Time to list the peer's waits again. */
  record Relist() implements Command, NoSerializationVerificationNeeded {}

  private final Params p;
  private final ActorRef<ContextOwner.Command> timeline;
  private final ActorRef<Echo.Command> echo;
  /** The waiters of the fan-out figure, both sides' ({@link Wakes}). */
  private final ActorRef<Object> wakes;
  private final ActorRef<FenceRef> fenceAdapter;
  private final ActorRef<FenceProtocol.Callback> cbAdapter;
  private final ActorRef<FenceProtocol.SignalResult> signalAdapter;
  private final BenchPhases ph;
  private final CrossNodePhases cross;
  private final HeapPhases heap;
  /** The fence of the running latency or fan-out round. */
  private FenceRef current;
  /** The fan-out's elapsed time, kept for its raw twin. */
  private long fanoutElapsed;

  public static Behavior<Command> create(Params params, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(context -> new FenceBench(context, params, services, replyTo).start());
  }

  private FenceBench(ActorContext<Command> context, Params p, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.p = p;
    this.timeline = context.spawn(FenceTimeline.create(services, false), "bench-timeline");
    this.echo = context.spawn(Echo.create(), "bench-echo");
    this.wakes = context.spawn(Wakes.create(context.getSelf()), "bench-wakes");
    this.fenceAdapter = context.messageAdapter(FenceRef.class, GotFence::new);
    this.cbAdapter = context.messageAdapter(FenceProtocol.Callback.class, Cb::new);
    this.signalAdapter = context.messageAdapter(FenceProtocol.SignalResult.class, Signalled::new);
    this.ph = new BenchPhases(context, replyTo);
    this.cross = p.peer() == null ? null : new CrossNodePhases(p, ph, context, timeline, fenceAdapter);
    this.heap = new HeapPhases(p.pendingFences(), ph, context, services, fenceAdapter);
  }

  private Behavior<Command> start() {
    ph.add(this::localLatency);
    ph.add(this::fanoutWake);
    ph.add(this::rawFanout);
    ph.rateRounds("local.fences.created_signalled.rate", "fences/s", p.createSignal(), this::createSignal, this::rawSpawnStop);
    ph.rateRounds("local.signal.pipelined.rate", "signals/s", p.createSignal(), this::pipelined, this::rawPipelined);
    if (cross != null) {
      cross.queuePhases();
    }
    if (p.pendingFences() > 0) {
      heap.queuePhases();
    }
    ph.next();
    return this;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(GotFence.class, ph::dispatch)
        .onMessage(Cb.class, ph::dispatch)
        .onMessage(Signalled.class, ph::dispatch)
        .onMessage(Waited.class, ph::dispatch)
        .onMessage(Ponged.class, ph::dispatch)
        .onMessage(Listed.class, ph::dispatch)
        .onMessage(Raw.class, ph::dispatch)
        .onMessage(Heap.class, ph::dispatch)
        .onMessage(Gone.class, ph::dispatch)
        .onMessage(Wakes.Ready.class, ph::dispatch)
        .onMessage(Wakes.RoundDone.class, ph::dispatch)
        .onMessage(Relist.class, ph::dispatch)
        .onMessage(Collected.class, c -> {
          c.then().run();
          return ph.finished() ? Behaviors.stopped() : this;
        })
        .build();
  }

  // --- 1. local wake latency, one waiter

  /**
   * Fencelab's samples and raw's alternating one by one, as the cross-node round trip: a fence is made and its callback
   * added (not timed), then it is signalled and its callback comes back (timed), then the echo is told and answers (timed),
   * and so on. Each side's first {@value BenchPhases#WARMUP} are not counted.
   */
  private void localLatency() {
    int total = BenchPhases.WARMUP + p.iterations();
    Histogram raw = new Histogram(3_600_000_000_000L, 3);
    ph.handle(m -> {
      boolean counted = ph.count >= BenchPhases.WARMUP;
      if (m instanceof GotFence g) {
        current = g.fence();
        current.actor().tell(new FenceProtocol.AddCallback(cbAdapter, true));
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.CallbackAdded) {
        ph.t0 = System.nanoTime();
        current.actor().tell(new FenceProtocol.Signal(0, 0, null));
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.Signalled) {
        if (counted) {
          ph.hist.recordValue(System.nanoTime() - ph.t0);
        }
        echo.tell(new Echo.FanOut(1, getContext().getSelf()));
      } else if (m instanceof Raw r) {
        if (counted) {
          raw.recordValue(System.nanoTime() - r.t0());
        }
        if (++ph.count == total) {
          ph.percentiles("local.wake.1waiter", ph.hist, raw);
          ph.next();
        } else {
          timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
        }
      }
      return this;
    });
    timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
  }

  // --- 2. local signal -> 1,000 waiters

  private void fanoutWake() {
    int rounds = p.fanoutRounds();
    ActorRef<FenceProtocol.Callback> waiter = wakes.narrow();
    ph.handle(new java.util.function.Function<>() {
      int round;
      long elapsed;

      @Override
      public Behavior<Command> apply(Command m) {
        if (m instanceof GotFence g) {
          current = g.fence();
          for (int i = 0; i < p.fanout() - 1; i++) {
            current.actor().tell(new FenceProtocol.AddCallback(waiter, false));
          }
          current.actor().tell(new FenceProtocol.AddCallback(waiter, true)); // FIFO: acked => all added
        } else if (m instanceof Wakes.Ready) {
          ph.t0 = System.nanoTime();
          wakes.tell(new Wakes.Round(p.fanout(), ph.t0, round > 0 ? ph.hist : null));
          current.actor().tell(new FenceProtocol.Signal(0, 0, null));
        } else if (m instanceof Wakes.RoundDone done) {
          if (round > 0) {
            elapsed += done.elapsedNanos();
          }
          if (++round > rounds) {
            ph.baseHist = ph.hist;
            fanoutElapsed = elapsed;
            ph.next();
          } else {
            timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
          }
        }
        return FenceBench.this;
      }
    });
    timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
  }

  private void rawFanout() {
    Histogram fence = ph.baseHist;
    long fenceElapsed = fanoutElapsed;
    int rounds = p.fanoutRounds();
    ph.handle(new java.util.function.Function<>() {
      int round;
      long elapsed;

      @Override
      public Behavior<Command> apply(Command m) {
        if (m instanceof Wakes.RoundDone done) {
          if (round > 0) {
            elapsed += done.elapsedNanos();
          }
          if (++round > rounds) {
            double wakes = (double) p.fanout() * rounds;
            ph.figure(BenchFigure.of("local.signal." + p.fanout() + "waiters.rate", "wakes/s", wakes / (fenceElapsed / 1e9), wakes / (elapsed / 1e9), true));
            ph.percentiles("local.wake." + p.fanout() + "waiters", fence, ph.hist);
            ph.next();
          } else {
            rawFanoutRound(round);
          }
        }
        return FenceBench.this;
      }
    });
    rawFanoutRound(0);
  }

  /** One raw round: the echo tells the waiter {@code fanout} times, as the fence runs its callbacks (round 0: a warm-up). */
  private void rawFanoutRound(int round) {
    long start = System.nanoTime();
    wakes.tell(new Wakes.Round(p.fanout(), start, round > 0 ? ph.hist : null));
    echo.tell(new Echo.FanOut(p.fanout(), wakes.narrow(), start));
  }

  // --- 3. fences created + signalled per second

  private void createSignal(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    ph.handle(m -> {
      if (m instanceof GotFence g) {
        g.fence().actor().tell(new FenceProtocol.Signal(0, 0, signalAdapter));
      } else if (m instanceof Signalled && ++ph.count == n) {
        done.accept(System.nanoTime() - ph.phaseStart);
      }
      return this;
    });
    ph.afterGc(() -> {
      ph.phaseStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
      }
    });
  }

  private void rawSpawnStop(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    ph.handle(m -> {
      if (m instanceof Raw && ++ph.count == n) {
        done.accept(System.nanoTime() - ph.phaseStart);
      }
      return this;
    });
    ph.afterGc(() -> {
      ph.phaseStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        echo.tell(new Echo.SpawnStop(getContext().getSelf()));
      }
    });
  }

  // --- 3b. local signals, pipelined

  private void pipelined(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    List<FenceRef> fences = new java.util.ArrayList<>(n);
    ph.handle(m -> {
      if (m instanceof GotFence g) {
        fences.add(g.fence());
        g.fence().actor().tell(new FenceProtocol.AddCallback(cbAdapter, true));
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.CallbackAdded && ++ph.count == n) {
        ph.count = 0;
        ph.afterGc(() -> {
          ph.phaseStart = System.nanoTime();
          fences.forEach(f -> f.actor().tell(new FenceProtocol.Signal(0, 0, null)));
        });
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.Signalled && ++ph.count == n) {
        done.accept(System.nanoTime() - ph.phaseStart);
      }
      return this;
    });
    for (int i = 0; i < n; i++) {
      timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
    }
  }

  private void rawPipelined(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    ph.handle(m -> {
      if (m instanceof Raw && ++ph.count == n) {
        done.accept(System.nanoTime() - ph.phaseStart);
      }
      return this;
    });
    // Hop for hop: as many actors as fences, made before the clock starts, each told once; each answers and stops,
    // as a signalled fence runs its callback and stops.
    List<ActorRef<Echo.Command>> targets = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      targets.add(getContext().spawnAnonymous(Echo.oneShot()));
    }
    ph.afterGc(() -> {
      ph.phaseStart = System.nanoTime();
      Echo.FanOut one = new Echo.FanOut(1, getContext().getSelf(), 0);
      targets.forEach(t -> t.tell(one));
    });
  }
}
