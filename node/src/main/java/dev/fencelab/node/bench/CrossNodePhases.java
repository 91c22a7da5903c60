package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The cross-node phases of {@link FenceBench} (it has a peer): fences here, each waited on from the peer, the wait
 * results back here.
 *
 * <ul>
 *   <li>round trip: one fence signalled at a time, until its wait's result is back — vs a raw protobuf ping-pong
 *       between the same two members, the two alternating sample by sample;
 *   <li>bursts: a batch of fences signalled at once, wakes per second — vs as many raw ping-pongs sent at once.
 * </ul>
 *
 * The peer registers a phase's waits before its clock starts: the bench pages through the peer's wait list until it
 * counts them all, and gives up if the peer registers none of the missing ones for {@link #REGISTER_STALL}.
 */
final class CrossNodePhases {
  /** How long the peer may register none of a phase's missing waits before the bench gives up on it. */
  static final Duration REGISTER_STALL = Duration.ofSeconds(30);

  private final FenceBench.Params p;
  private final BenchPhases ph;
  private final ActorContext<FenceBench.Command> context;
  private final ActorRef<ContextOwner.Command> timeline;
  private final ActorRef<FenceRef> fenceAdapter;
  private final ActorRef<WaitResult> waitAdapter;
  private final ActorRef<Pong> pongAdapter;
  /** The fences of the running phase, waited on from the peer. */
  private final List<FenceRef> pendingRefs = new ArrayList<>();
  /** This phase's waits counted so far on the pages of the peer's list. */
  private long listedSoFar;
  /** The most of this phase's waits a full listing counted, and when that count last grew. */
  private long bestListed;
  private long progressNanos;

  CrossNodePhases(FenceBench.Params p, BenchPhases ph, ActorContext<FenceBench.Command> context, ActorRef<ContextOwner.Command> timeline,
      ActorRef<FenceRef> fenceAdapter) {
    this.p = p;
    this.ph = ph;
    this.context = context;
    this.timeline = timeline;
    this.fenceAdapter = fenceAdapter;
    this.waitAdapter = context.messageAdapter(WaitResult.class, FenceBench.Waited::new);
    this.pongAdapter = context.messageAdapter(Pong.class, FenceBench.Ponged::new);
  }

  /** Queues the phases: the round trip and its raw twin, then the bursts' rounds. */
  void queuePhases() {
    ph.add(this::roundTrips);
    ph.rateRounds("cross.signal_wake.rate", "wakes/s", p.crossIterations(), this::crossBurst, this::rawCrossBurst);
  }

  /**
   * Round trips, fencelab's and raw's alternating one by one: the waits on a batch of fences here are registered on the
   * peer first; then a fence is signalled and its wait's result comes back, then a raw ping goes to the peer and its pong
   * comes back, and so on. Each side's first {@value BenchPhases#WARMUP} are not counted. One side after the other, raw
   * always ran second, on code and a heap the fenced side had warmed.
   */
  private void roundTrips() {
    int total = BenchPhases.WARMUP + p.crossIterations();
    Histogram raw = new Histogram(3_600_000_000_000L, 3);
    int[] sample = {0};
    Runnable signalNext = () -> {
      FenceRef f = pendingRefs.get(sample[0]);
      ph.t0 = System.nanoTime();
      f.actor().tell(new FenceProtocol.Signal(0, 0, null));
    };
    withPeerWaits(total, "bench cross-node", signalNext, answer -> {
      long now = System.nanoTime();
      boolean counted = sample[0] >= BenchPhases.WARMUP;
      if (answer instanceof FenceBench.Waited) {
        if (counted) {
          ph.hist.recordValue(now - ph.t0);
        }
        ph.t0 = System.nanoTime();
        p.peer().tell(new Ping(sample[0], ph.t0, pongAdapter));
      } else if (answer instanceof FenceBench.Ponged) {
        if (counted) {
          raw.recordValue(now - ph.t0);
        }
        if (++sample[0] == total) {
          ph.percentiles("cross.signal_wake_roundtrip", ph.hist, raw);
          ph.next();
        } else {
          signalNext.run();
        }
      }
    });
  }

  /**
   * Creates {@code n} fences here, has the peer wait on each (reason {@code reason}), polls the peer until all
   * {@code n} waits are registered, then runs {@code registered}; every wait result, and any other answer (a pong), goes
   * to {@code onAnswer}.
   */
  private void withPeerWaits(int n, String reason, Runnable registered, java.util.function.Consumer<FenceBench.Command> onAnswer) {
    pendingRefs.clear();
    bestListed = 0;
    progressNanos = System.nanoTime();
    ph.handle(m -> {
      if (m instanceof FenceBench.GotFence g) {
        pendingRefs.add(g.fence());
        p.peer().tell(new FenceControl.WaitFence(g.fence(), Duration.ofMinutes(5).toNanos(), "bench", reason, waitAdapter));
        if (pendingRefs.size() == n) {
          listPeerWaits();
        }
      } else if (m instanceof FenceBench.Listed l) { // a page of the peer's waits: count this phase's, page after page
        listedSoFar += l.waits().edges().stream().filter(e -> e.getReason().equals(reason)).count();
        if (l.waits().more() && !l.waits().edges().isEmpty()) {
          listPeerWaits(l.waits().offset() + l.waits().edges().size());
        } else if (listedSoFar < n) {
          if (listedSoFar > bestListed) {
            bestListed = listedSoFar;
            progressNanos = System.nanoTime();
          } else if (System.nanoTime() - progressNanos > REGISTER_STALL.toNanos()) {
            // a WaitFence lost on the way (Artery drops what overflows its outbound queue) would otherwise be waited for forever
            ph.fail("the peer registered " + listedSoFar + " of " + n + " waits and none more in " + REGISTER_STALL.toSeconds()
                + " s: messages to it were dropped (overloaded?)");
            return Behaviors.same();
          }
          context.scheduleOnce(Duration.ofMillis(20), context.getSelf(), new FenceBench.Relist()); // not a busy loop on both members
        } else {
          registered.run();
        }
      } else if (m instanceof FenceBench.Relist) {
        listPeerWaits();
      } else {
        onAnswer.accept(m);
      }
      return Behaviors.same();
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
    context.ask(dev.fencelab.protocol.control.WaitsListed.class, p.peer(), Duration.ofSeconds(10),
        r -> new dev.fencelab.protocol.control.ListWaits(r, offset, dev.fencelab.protocol.control.ListWaits.PAGE),
        (ok, err) -> new FenceBench.Listed(ok != null ? ok : new dev.fencelab.protocol.control.WaitsListed("", List.of())));
  }

  /** A burst: {@code n} fences here, each waited on from the peer, all signalled at once after a GC. */
  private void crossBurst(java.util.function.LongConsumer done) {
    int n = p.crossIterations();
    withPeerWaits(n, "bench burst", () -> ph.afterGc(() -> {
      context.getLog().info("bench: signalling {} fences waited on from the peer", n);
      ph.phaseStart = System.nanoTime();
      pendingRefs.forEach(f -> f.actor().tell(new FenceProtocol.Signal(0, 0, null)));
    }), answer -> {
      if (answer instanceof FenceBench.Waited && ++ph.count == n) {
        long elapsed = System.nanoTime() - ph.phaseStart;
        context.getLog().info("bench: {} cross-node wakes in {} ms", n, elapsed / 1_000_000);
        done.accept(elapsed);
      }
    });
  }

  private void rawCrossBurst(java.util.function.LongConsumer done) {
    int n = p.crossIterations();
    ph.handle(m -> {
      if (m instanceof FenceBench.Ponged && ++ph.count == n) {
        long elapsed = System.nanoTime() - ph.phaseStart;
        context.getLog().info("bench: {} raw ping-pongs in {} ms", n, elapsed / 1_000_000);
        done.accept(elapsed);
      }
      return Behaviors.same();
    });
    ph.afterGc(() -> {
      ph.phaseStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        p.peer().tell(new Ping(i, System.nanoTime(), pongAdapter));
      }
    });
  }
}
