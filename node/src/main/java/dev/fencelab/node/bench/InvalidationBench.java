package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmActor;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.mm.MmuEvent;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The invalidation-round figures of {@code bench devices}: an mm on this member whose interval notifiers belong to
 * subscribers on the peer member that answer at once, invalidated round after round (a blockable CLEAR over the
 * range) — with 1 and with 100 subscribers, whose callbacks run one after the other as the kernel's do — against raw
 * Pekko doing the same messages: 1 and 100 sequential protobuf round trips to the peer. Median round time of each;
 * ratio = fencelab / raw (lower is better).
 */
final class InvalidationBench extends StepwiseBench {

  static final int MANY = 100;

  private final ActorRef<NodeControl> peer;
  private final int rounds;
  private final List<BenchFigure> figures;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  private final ActorRef<MmProtocol.Command> mm;
  private final FenceServices services;
  private final List<ActorRef<MmProtocol.Invalidate>> subscribers = new ArrayList<>();
  private long addr;

  /** Runs after the other device figures ({@code figures}) and answers {@code replyTo} with all of them. */
  static Behavior<Command> create(ActorRef<NodeControl> peer, int rounds, FenceServices services, List<BenchFigure> figures,
      ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(context -> new InvalidationBench(context, peer, rounds, services, figures, replyTo).start());
  }

  private InvalidationBench(ActorContext<Command> context, ActorRef<NodeControl> peer, int rounds, FenceServices services,
      List<BenchFigure> figures, ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.peer = peer;
    this.rounds = Math.max(10, rounds);
    this.figures = new ArrayList<>(figures);
    this.replyTo = replyTo;
    this.mm = context.spawn(MmActor.create("bench/mm", 1 << 20, services), "bench-mm");
    this.services = services;
  }

  private Behavior<Command> start() {
    onStep = m -> {
      if (m instanceof MmProtocol.Reply r) {
        addr = r.ret();
        spawnSubscribers();
      }
    };
    mm.tell(new MmProtocol.Mmap(0, 1 << 20, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, reply()));
    return this;
  }

  private void spawnSubscribers() {
    onStep = m -> {
      if (m instanceof DeviceControl.AckSubscriberSpawned s) {
        subscribers.add(s.subscriber());
        if (subscribers.size() == MANY) {
          insert(1, () -> measure(1, () -> insert(MANY, () -> measure(MANY, this::raw))));
        }
      }
    };
    for (int i = 0; i < MANY; i++) {
      peer.tell(new DeviceControl.SpawnAckSubscriber(reply()));
    }
  }

  private int inserted;

  /** Registers subscribers until {@code n} are in the tree. */
  private void insert(int n, Runnable then) {
    if (inserted == n) {
      then.run();
      return;
    }
    onStep = m -> {
      if (m instanceof MmProtocol.Inserted) {
        inserted++;
        insert(n, then);
      }
    };
    mm.tell(new MmProtocol.NotifierInsert(subscribers.get(inserted), "bench/sub" + inserted, addr, 1 << 20, reply()));
  }

  private final List<Double> fencelabP50 = new ArrayList<>();

  /** {@code rounds} invalidation rounds one after another; their median in microseconds. */
  private void measure(int n, Runnable then) {
    long[] times = new long[n == 1 ? rounds : Math.max(10, rounds / 10)];
    int[] done = {0};
    long[] t0 = {System.nanoTime()};
    onStep = m -> {
      if (!(m instanceof MmProtocol.Reply)) {
        return;
      }
      times[done[0]++] = System.nanoTime() - t0[0];
      if (done[0] == times.length) {
        fencelabP50.add(p50(times));
        then.run();
        return;
      }
      t0[0] = System.nanoTime();
      mm.tell(new MmProtocol.InvalidateRange(addr, addr + (1 << 20), MmuEvent.CLEAR, true, "", reply()));
    };
    mm.tell(new MmProtocol.InvalidateRange(addr, addr + (1 << 20), MmuEvent.CLEAR, true, "", reply()));
  }

  /** Raw Pekko: 1, then 100, sequential protobuf round trips to the peer per round. */
  private void raw() {
    rawRounds(1, rounds, p1 -> rawRounds(MANY, Math.max(10, rounds / 10), p100 -> {
      figures.add(BenchFigure.of("invalidate.round.1_subscriber.p50", "us", fencelabP50.get(0), p1, false));
      figures.add(BenchFigure.of("invalidate.round.100_subscribers.p50", "us", fencelabP50.get(1), p100, false));
      getContext().spawnAnonymous(HmmBench.create(services, figures, replyTo)); // it answers with every figure
      getContext().stop(mm);
    }));
  }

  private void rawRounds(int perRound, int count, java.util.function.DoubleConsumer then) {
    long[] times = new long[count];
    int[] done = {0};
    int[] inRound = {0};
    long[] t0 = {System.nanoTime()};
    ActorRef<Pong> pong = reply();
    onStep = m -> {
      if (!(m instanceof Pong)) {
        return;
      }
      if (++inRound[0] < perRound) {
        peer.tell(new Ping(inRound[0], System.nanoTime(), pong));
        return;
      }
      times[done[0]++] = System.nanoTime() - t0[0];
      if (done[0] == count) {
        then.accept(p50(times));
        return;
      }
      inRound[0] = 0;
      t0[0] = System.nanoTime();
      peer.tell(new Ping(0, System.nanoTime(), pong));
    };
    peer.tell(new Ping(0, System.nanoTime(), pong));
  }

  private static double p50(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2] / 1000.0;
  }
}
