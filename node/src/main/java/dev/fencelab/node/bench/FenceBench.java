package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Runs the fence benchmark on this member, one phase after the other, and replies one report.
 *
 * <ol>
 *   <li>local wake latency, 1 waiter: the signaller tells the fence ({@code dma_fence_signal}), the fence runs the
 *       waiter's callback — two hops — vs one raw local {@code tell};
 *   <li>local signal → 1,000 waiters: wake deliveries per second and latency of each — vs 1,000 raw tells; both sides'
 *       wakes reach one plain waiter actor ({@link Wakes});
 *   <li>fences created and signalled per second — vs raw actors spawned, sent a message and stopped;
 *   <li>local signals pipelined: {@code createSignal} fences with a callback each, all signalled at once, signals per
 *       second until the last callback — vs as many plain actors, made beforehand, each told once and answering once before
 *       it stops (hop for hop: a tell to an actor was counted against one actor's batch, 0.06×);
 *   <li>cross-node (with a peer): fence here, waiter on the peer, the wait result back here: round trip — vs a
 *       raw protobuf ping-pong between the same two members; and the same in bursts, per second;
 *   <li>heap per pending fence: {@code pendingFences} unsignalled fences, used heap after GC — vs as many raw
 *       actors. GC and heap reads run on the blocking dispatcher, never on an actor thread.
 * </ol>
 *
 * <p>The rates of a whole batch (created and signalled, pipelined, cross-node bursts) are taken over rounds, fencelab's
 * and raw's alternating: three warm-up rounds of each, then five of each, and each side's median ({@link #rateRounds});
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

  private record GotFence(FenceRef fence) implements Command, NoSerializationVerificationNeeded {}

  private record Cb(FenceProtocol.Callback callback) implements Command, NoSerializationVerificationNeeded {}

  private record Signalled(FenceProtocol.SignalResult result) implements Command, NoSerializationVerificationNeeded {}

  private record Waited(WaitResult result) implements Command, NoSerializationVerificationNeeded {}

  private record Ponged(Pong pong) implements Command, NoSerializationVerificationNeeded {}

  private record Listed(dev.fencelab.protocol.control.WaitsListed waits) implements Command, NoSerializationVerificationNeeded {}

  private record Heap(long used) implements Command, NoSerializationVerificationNeeded {}

  private record Collected(Runnable then) implements Command, NoSerializationVerificationNeeded {}

  private record Gone() implements Command, NoSerializationVerificationNeeded {}

  /** Time to list the peer's waits again. */
  private record Relist() implements Command, NoSerializationVerificationNeeded {}

  /** How long the peer may register none of a phase's missing waits before the bench gives up on it. */
  static final Duration REGISTER_STALL = Duration.ofSeconds(30);

  private static final int WARMUP = 500;

  private final Params p;
  private final FenceServices services;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  private final ActorRef<ContextOwner.Command> timeline;
  private final ActorRef<Echo.Command> echo;
  /** The waiters of the fan-out figure, both sides' ({@link Wakes}). */
  private final ActorRef<Object> wakes;
  private final ActorRef<FenceRef> fenceAdapter;
  private final ActorRef<FenceProtocol.Callback> cbAdapter;
  private final ActorRef<FenceProtocol.SignalResult> signalAdapter;
  private final ActorRef<WaitResult> waitAdapter;
  private final ActorRef<Pong> pongAdapter;
  private final Executor blocking;
  private final List<BenchFigure> figures = new ArrayList<>();
  private final Deque<Runnable> phases = new ArrayDeque<>();
  private boolean finished;

  // per-phase state
  private Histogram hist;
  private Histogram baseHist;
  private int count;
  private int target;
  private long t0;
  private long phaseStart;
  private FenceRef current;
  private final List<FenceRef> pendingRefs = new ArrayList<>();
  private long heapBase;
  private ActorRef<ContextOwner.Command> heapTimeline;

  public static Behavior<Command> create(Params params, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(context -> new FenceBench(context, params, services, replyTo).start());
  }

  private FenceBench(ActorContext<Command> context, Params p, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.p = p;
    this.services = services;
    this.replyTo = replyTo;
    this.timeline = context.spawn(FenceTimeline.create(services, false), "bench-timeline");
    this.echo = context.spawn(Echo.create(), "bench-echo");
    this.wakes = context.spawn(Wakes.create(context.getSelf()), "bench-wakes");
    this.fenceAdapter = context.messageAdapter(FenceRef.class, GotFence::new);
    this.cbAdapter = context.messageAdapter(FenceProtocol.Callback.class, Cb::new);
    this.signalAdapter = context.messageAdapter(FenceProtocol.SignalResult.class, Signalled::new);
    this.waitAdapter = context.messageAdapter(WaitResult.class, Waited::new);
    this.pongAdapter = context.messageAdapter(Pong.class, Ponged::new);
    this.blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
  }

  private Behavior<Command> start() {
    phases.add(this::localLatency);
    phases.add(this::rawLocalLatency);
    phases.add(this::fanoutWake);
    phases.add(this::rawFanout);
    rateRounds("local.fences.created_signalled.rate", "fences/s", p.createSignal(), this::createSignal, this::rawSpawnStop);
    rateRounds("local.signal.pipelined.rate", "signals/s", p.createSignal(), this::pipelined, this::rawPipelined);
    if (p.peer() != null) {
      phases.add(this::crossRegister);
      phases.add(this::rawCrossLatency);
      rateRounds("cross.signal_wake.rate", "wakes/s", p.crossIterations(), this::crossBurst, this::rawCrossBurst);
    }
    if (p.pendingFences() > 0) {
      phases.add(this::heapFences);
      phases.add(this::heapRaw);
    }
    next();
    return this;
  }

  /** Unmeasured rounds of each side of a rate figure (each side's path compiled and warm), then measured ones. */
  static final int RATE_WARMUP = 3;
  static final int RATE_ROUNDS = 5;

  /**
   * A rate figure of {@code n} operations a round, taken over rounds that alternate between fencelab's side and raw's
   * (load drifts hit both alike): {@value #RATE_WARMUP} unmeasured of each, then {@value #RATE_ROUNDS} measured; the
   * figure is each side's median. Each side runs one round and hands its elapsed nanoseconds to the consumer it is given.
   */
  private void rateRounds(String name, String unit, int n, java.util.function.Consumer<java.util.function.LongConsumer> fenced,
      java.util.function.Consumer<java.util.function.LongConsumer> raw) {
    List<Double> fencedRates = new ArrayList<>();
    List<Double> rawRates = new ArrayList<>();
    for (int r = 0; r < RATE_WARMUP + RATE_ROUNDS; r++) {
      boolean measured = r >= RATE_WARMUP;
      phases.add(() -> fenced.accept(elapsed -> {
        if (measured) {
          fencedRates.add(n / (elapsed / 1e9));
        }
        next();
      }));
      phases.add(() -> raw.accept(elapsed -> {
        if (measured) {
          rawRates.add(n / (elapsed / 1e9));
        }
        next();
      }));
    }
    phases.add(() -> {
      getContext().getLog().info("bench: {} fencelab {} raw {}", name, fencedRates, rawRates);
      figures.add(BenchFigure.of(name, unit, DeviceBench.median(fencedRates), DeviceBench.median(rawRates), true));
      next();
    });
  }

  private void next() {
    Runnable phase = phases.poll();
    if (phase == null) {
      replyTo.tell(new FenceControl.BenchReport(figures));
      finished = true;
      return;
    }
    hist = new Histogram(3_600_000_000_000L, 3);
    count = 0;
    phase.run();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(GotFence.class, this::dispatch)
        .onMessage(Cb.class, this::dispatch)
        .onMessage(Signalled.class, this::dispatch)
        .onMessage(Waited.class, this::dispatch)
        .onMessage(Ponged.class, this::dispatch)
        .onMessage(Listed.class, this::dispatch)
        .onMessage(Raw.class, this::dispatch)
        .onMessage(Heap.class, this::dispatch)
        .onMessage(Gone.class, this::dispatch)
        .onMessage(Wakes.Ready.class, this::dispatch)
        .onMessage(Wakes.RoundDone.class, this::dispatch)
        .onMessage(Relist.class, r -> {
          listPeerWaits();
          return this;
        })
        .onMessage(Collected.class, c -> {
          c.then().run();
          return finished ? Behaviors.stopped() : this;
        })
        .build();
  }

  private Behavior<Command> dispatch(Command m) {
    Behavior<Command> next = phaseHandler.apply(m);
    return finished ? Behaviors.stopped() : next;
  }

  /** What the running phase does with a message. */
  private java.util.function.Function<Command, Behavior<Command>> phaseHandler = m -> this;

  private void handle(java.util.function.Function<Command, Behavior<Command>> handler) {
    this.phaseHandler = handler;
  }

  /**
   * A full GC off the actor threads, then {@code then}: a timed burst starts without the garbage of what came before
   * (a 0.6 s young collection of the 100,000 fences just made landed inside the cross-node burst once, and not in its
   * raw twin, which has no such garbage).
   */
  private void afterGc(Runnable then) {
    BenchGc.thenTell(getContext(), new Collected(then));
  }

  // --- 1. local wake latency, one waiter

  private void localLatency() {
    int total = WARMUP + p.iterations();
    handle(m -> {
      if (m instanceof GotFence g) {
        current = g.fence();
        current.actor().tell(new FenceProtocol.AddCallback(cbAdapter, true));
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.CallbackAdded) {
        t0 = System.nanoTime();
        current.actor().tell(new FenceProtocol.Signal(0, 0, null));
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.Signalled) {
        if (!sampled(total)) {
          timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
        }
      }
      return this;
    });
    timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
  }

  private void rawLocalLatency() {
    Histogram fence = baseHist;
    int total = WARMUP + p.iterations();
    handle(m -> {
      if (m instanceof Raw r) {
        if (count++ >= WARMUP) {
          hist.recordValue(System.nanoTime() - r.t0());
        }
        if (count == total) {
          percentiles("local.wake.1waiter", fence, hist);
          next();
        } else {
          echo.tell(new Echo.FanOut(1, getContext().getSelf()));
        }
      }
      return this;
    });
    echo.tell(new Echo.FanOut(1, getContext().getSelf()));
  }

  // --- 2. local signal -> 1,000 waiters

  private void fanoutWake() {
    int rounds = p.fanoutRounds();
    ActorRef<FenceProtocol.Callback> waiter = wakes.narrow();
    handle(new java.util.function.Function<>() {
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
          t0 = System.nanoTime();
          wakes.tell(new Wakes.Round(p.fanout(), t0, round > 0 ? hist : null));
          current.actor().tell(new FenceProtocol.Signal(0, 0, null));
        } else if (m instanceof Wakes.RoundDone done) {
          if (round > 0) {
            elapsed += done.elapsedNanos();
          }
          if (++round > rounds) {
            baseHist = hist;
            fanoutElapsed = elapsed;
            next();
          } else {
            timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
          }
        }
        return FenceBench.this;
      }
    });
    timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
  }

  private long fanoutElapsed;

  private void rawFanout() {
    Histogram fence = baseHist;
    long fenceElapsed = fanoutElapsed;
    int rounds = p.fanoutRounds();
    handle(new java.util.function.Function<>() {
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
            figures.add(BenchFigure.of("local.signal." + p.fanout() + "waiters.rate", "wakes/s", wakes / (fenceElapsed / 1e9), wakes / (elapsed / 1e9), true));
            percentiles("local.wake." + p.fanout() + "waiters", fence, hist);
            next();
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
    wakes.tell(new Wakes.Round(p.fanout(), start, round > 0 ? hist : null));
    echo.tell(new Echo.FanOut(p.fanout(), wakes.narrow(), start));
  }

  // --- 3. fences created + signalled per second

  private void createSignal(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    handle(m -> {
      if (m instanceof GotFence g) {
        g.fence().actor().tell(new FenceProtocol.Signal(0, 0, signalAdapter));
      } else if (m instanceof Signalled && ++count == n) {
        done.accept(System.nanoTime() - phaseStart);
      }
      return this;
    });
    afterGc(() -> {
      phaseStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
      }
    });
  }

  private void rawSpawnStop(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    handle(m -> {
      if (m instanceof Raw && ++count == n) {
        done.accept(System.nanoTime() - phaseStart);
      }
      return this;
    });
    afterGc(() -> {
      phaseStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        echo.tell(new Echo.SpawnStop(getContext().getSelf()));
      }
    });
  }

  // --- 3b. local signals, pipelined

  private void pipelined(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    List<FenceRef> fences = new java.util.ArrayList<>(n);
    handle(m -> {
      if (m instanceof GotFence g) {
        fences.add(g.fence());
        g.fence().actor().tell(new FenceProtocol.AddCallback(cbAdapter, true));
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.CallbackAdded && ++count == n) {
        count = 0;
        afterGc(() -> {
          phaseStart = System.nanoTime();
          fences.forEach(f -> f.actor().tell(new FenceProtocol.Signal(0, 0, null)));
        });
      } else if (m instanceof Cb c && c.callback() instanceof FenceProtocol.Signalled && ++count == n) {
        done.accept(System.nanoTime() - phaseStart);
      }
      return this;
    });
    for (int i = 0; i < n; i++) {
      timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
    }
  }

  private void rawPipelined(java.util.function.LongConsumer done) {
    int n = p.createSignal();
    handle(m -> {
      if (m instanceof Raw && ++count == n) {
        done.accept(System.nanoTime() - phaseStart);
      }
      return this;
    });
    // Hop for hop: as many actors as fences, made before the clock starts, each told once; each answers and stops,
    // as a signalled fence runs its callback and stops.
    List<ActorRef<Echo.Command>> targets = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      targets.add(getContext().spawnAnonymous(Echo.oneShot()));
    }
    afterGc(() -> {
      phaseStart = System.nanoTime();
      Echo.FanOut one = new Echo.FanOut(1, getContext().getSelf(), 0);
      targets.forEach(t -> t.tell(one));
    });
  }

  // --- 4. cross-node

  /** Registers waits on the peer for a batch of fences here, then signals them one at a time. */
  private void crossRegister() {
    int total = WARMUP + p.crossIterations();
    int[] next = {0};
    Runnable signalNext = () -> {
      FenceRef f = pendingRefs.get(next[0]++);
      t0 = System.nanoTime();
      f.actor().tell(new FenceProtocol.Signal(0, 0, null));
    };
    withPeerWaits(total, "bench cross-node", signalNext, waited -> {
      if (!sampled(total)) {
        signalNext.run();
      }
    });
  }

  /**
   * Creates {@code n} fences here, has the peer wait on each (reason {@code reason}), polls the peer until all
   * {@code n} waits are registered, then runs {@code registered}; every wait result goes to {@code onWaited}.
   */
  /** This phase's waits counted so far on the pages of the peer's list. */
  private long listedSoFar;
  /** The most of this phase's waits a full listing counted, and when that count last grew. */
  private long bestListed;
  private long progressNanos;

  private void withPeerWaits(int n, String reason, Runnable registered, java.util.function.Consumer<Waited> onWaited) {
    pendingRefs.clear();
    bestListed = 0;
    progressNanos = System.nanoTime();
    handle(m -> {
      if (m instanceof GotFence g) {
        pendingRefs.add(g.fence());
        p.peer().tell(new FenceControl.WaitFence(g.fence(), Duration.ofMinutes(5).toNanos(), "bench", reason, waitAdapter));
        if (pendingRefs.size() == n) {
          listPeerWaits();
        }
      } else if (m instanceof Listed l) { // a page of the peer's waits: count this phase's, page after page
        listedSoFar += l.waits().edges().stream().filter(e -> e.getReason().equals(reason)).count();
        if (l.waits().more() && !l.waits().edges().isEmpty()) {
          listPeerWaits(l.waits().offset() + l.waits().edges().size());
        } else if (listedSoFar < n) {
          if (listedSoFar > bestListed) {
            bestListed = listedSoFar;
            progressNanos = System.nanoTime();
          } else if (System.nanoTime() - progressNanos > REGISTER_STALL.toNanos()) {
            // a WaitFence lost on the way (Artery drops what overflows its outbound queue) would otherwise be waited for forever
            fail("the peer registered " + listedSoFar + " of " + n + " waits and none more in " + REGISTER_STALL.toSeconds()
                + " s: messages to it were dropped (overloaded?)");
            return this;
          }
          getContext().scheduleOnce(Duration.ofMillis(20), getContext().getSelf(), new Relist()); // not a busy loop on both members
        } else {
          registered.run();
        }
      } else if (m instanceof Waited w) {
        onWaited.accept(w);
      }
      return this;
    });
    for (int i = 0; i < n; i++) {
      timeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
    }
  }

  /** Lists the peer's waits from the first page: they are counted again. */
  private void listPeerWaits() {
    listedSoFar = 0;
    listPeerWaits(0);
  }

  private void listPeerWaits(int offset) {
    getContext().ask(dev.fencelab.protocol.control.WaitsListed.class, p.peer(), Duration.ofSeconds(10),
        r -> new dev.fencelab.protocol.control.ListWaits(r, offset, dev.fencelab.protocol.control.ListWaits.PAGE),
        (ok, err) -> new Listed(ok != null ? ok : new dev.fencelab.protocol.control.WaitsListed("", List.of())));
  }

  private void rawCrossLatency() {
    Histogram fence = baseHist;
    int total = WARMUP + p.crossIterations();
    handle(m -> {
      if (m instanceof Ponged) {
        if (count++ >= WARMUP) {
          hist.recordValue(System.nanoTime() - t0);
        }
        if (count == total) {
          percentiles("cross.signal_wake_roundtrip", fence, hist);
          next();
        } else {
          t0 = System.nanoTime();
          p.peer().tell(new Ping(count, t0, pongAdapter));
        }
      }
      return this;
    });
    t0 = System.nanoTime();
    p.peer().tell(new Ping(0, t0, pongAdapter));
  }

  /** A burst: {@code n} fences here, each waited on from the peer, all signalled at once after a GC. */
  private void crossBurst(java.util.function.LongConsumer done) {
    int n = p.crossIterations();
    withPeerWaits(n, "bench burst", () -> afterGc(() -> {
      getContext().getLog().info("bench: signalling {} fences waited on from the peer", n);
      phaseStart = System.nanoTime();
      pendingRefs.forEach(f -> f.actor().tell(new FenceProtocol.Signal(0, 0, null)));
    }), waited -> {
      if (++count == n) {
        long elapsed = System.nanoTime() - phaseStart;
        getContext().getLog().info("bench: {} cross-node wakes in {} ms", n, elapsed / 1_000_000);
        done.accept(elapsed);
      }
    });
  }

  private void rawCrossBurst(java.util.function.LongConsumer done) {
    int n = p.crossIterations();
    handle(m -> {
      if (m instanceof Ponged && ++count == n) {
        long elapsed = System.nanoTime() - phaseStart;
        getContext().getLog().info("bench: {} raw ping-pongs in {} ms", n, elapsed / 1_000_000);
        done.accept(elapsed);
      }
      return this;
    });
    afterGc(() -> {
      phaseStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        p.peer().tell(new Ping(i, System.nanoTime(), pongAdapter));
      }
    });
  }

  // --- 5. heap per pending fence

  private void measureHeap() {
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }, blocking), (used, err) -> new Heap(used == null ? -1 : used));
  }

  /**
   * Heap per object = (used with N alive − used once the same N are released) / N, both after full GCs, taken back
   * to back: garbage and retention from earlier phases cancel out.
   */
  private void heapFences() {
    int n = p.pendingFences();
    int batch = 10_000;
    heapTimeline = getContext().spawn(FenceTimeline.create(services, false), "bench-heap-timeline");
    handle(new java.util.function.Function<>() {
      int stage;
      int created;

      @Override
      public Behavior<Command> apply(Command m) {
        if (m instanceof GotFence) {
          if (++created == n) {
            stage = 1;
            measureHeap();
          } else if (created % batch == 0) {
            sendBatch();
          }
        } else if (m instanceof Heap h && stage == 1) {
          heapBase = h.used();
          stage = 2;
          getContext().watchWith(heapTimeline, new Gone());
          getContext().stop(heapTimeline); // its fences stop with it
        } else if (m instanceof Gone && stage == 2) {
          stage = 3;
          measureHeap();
        } else if (m instanceof Heap h && stage == 3) {
          fanoutElapsed = (heapBase - h.used()) / n; // bytes per pending fence, kept for the baseline phase
          next();
        }
        return FenceBench.this;
      }

      private void sendBatch() {
        for (int i = 0; i < Math.min(batch, n - created); i++) {
          heapTimeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
        }
      }
    });
    for (int i = 0; i < Math.min(batch, n); i++) {
      heapTimeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
    }
  }

  private void heapRaw() {
    int n = p.pendingFences();
    long perFence = fanoutElapsed;
    ActorRef<Command> self = getContext().getSelf();
    ActorRef<Void> holder = getContext().spawn(Behaviors.<Void>setup(ctx -> {
      for (int i = 0; i < n; i++) {
        ctx.spawnAnonymous(Behaviors.empty());
      }
      self.tell(new Gone()); // all spawned
      return Behaviors.empty();
    }), "bench-raw-holder");
    handle(new java.util.function.Function<>() {
      int stage;

      @Override
      public Behavior<Command> apply(Command m) {
        if (m instanceof Gone && stage == 0) {
          stage = 1;
          measureHeap();
        } else if (m instanceof Heap h && stage == 1) {
          heapBase = h.used();
          stage = 2;
          getContext().watchWith(holder, new Gone());
          getContext().stop(holder);
        } else if (m instanceof Gone && stage == 2) {
          stage = 3;
          measureHeap();
        } else if (m instanceof Heap h && stage == 3) {
          long perActor = (heapBase - h.used()) / n;
          figures.add(BenchFigure.of("heap.bytes_per_pending_fence", "bytes", perFence, perActor, false));
          next();
        }
        return FenceBench.this;
      }
    });
  }

  // --- helpers

  /**
   * Records one latency sample (since {@code t0}) after the warm-up; once {@code total} samples are in, keeps the
   * histogram for the baseline phase, moves on and returns true.
   */
  private boolean sampled(int total) {
    if (count++ >= WARMUP) {
      hist.recordValue(System.nanoTime() - t0);
    }
    if (count < total) {
      return false;
    }
    baseHist = hist;
    next();
    return true;
  }

  private void percentiles(String name, Histogram fence, Histogram raw) {
    for (double q : new double[] {50, 99, 99.9}) {
      String label = q == 99.9 ? "p99.9" : "p" + (int) q;
      figures.add(BenchFigure.of(name + "." + label, "us", fence.getValueAtPercentile(q) / 1e3, raw.getValueAtPercentile(q) / 1e3, false));
    }
    double fenceRate = fence.getTotalCount() / (fence.getMean() * fence.getTotalCount() / 1e9);
    double rawRate = raw.getTotalCount() / (raw.getMean() * raw.getTotalCount() / 1e9);
    figures.add(BenchFigure.of(name + ".sequential_rate", "ops/s", fenceRate, rawRate, true));
  }

  /** Ends the bench: the figures so far and a failed one saying why. */
  private void fail(String why) {
    getContext().getLog().error("bench: {}", why);
    figures.add(BenchFigure.of("failed: " + why, "", 0, 0, true));
    replyTo.tell(new FenceControl.BenchReport(figures));
    finished = true;
  }
}
