package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.control.ListWaits;
import dev.fencelab.protocol.control.WaitsListed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * {@code fencelab bench scale}, run on n1: what the emulation holds and how long it takes at scale, in two parts.
 *
 * <ol>
 *   <li><b>Pending fences across the cluster:</b> {@code pending} fences split evenly over {@code members} (n1 included),
 *       each member making its share on one timeline ({@link FenceHold}) and reporting its used heap after a full GC;
 *       the fences stay pending to the end.
 *   <li><b>A long chain waited on from another member:</b> {@code chainPoints} fences on a timeline here, a
 *       {@code dma_fence_chain} of one point per fence built in order, the head waited on from {@code members[1]}; then
 *       every fence is signalled in order, and the time until the remote wait ends is measured.
 * </ol>
 * Figures without a raw baseline (baseline 0): sizes and times, not ratios.
 */
public final class ScaleBench extends AbstractBehavior<ScaleBench.Command> {
  public interface Command {}

  private record Held(FenceControl.BenchReport report) implements Command, NoSerializationVerificationNeeded {}

  /** A fence made for the chain, then a chain point linked (one adapter: both answer a {@link FenceRef}). */
  private record Got(FenceRef ref) implements Command, NoSerializationVerificationNeeded {}

  private record Listed(WaitsListed waits) implements Command, NoSerializationVerificationNeeded {}

  private record Waited(WaitResult result) implements Command, NoSerializationVerificationNeeded {}

  private record Heap(long used) implements Command, NoSerializationVerificationNeeded {}

  private static final String REASON = "bench scale chain";

  private final long pending;
  private final int chainPoints;
  private final List<ActorRef<NodeControl>> members;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  private final FenceServices services;
  private final List<BenchFigure> figures = new ArrayList<>();
  private int reportsLeft;
  private ActorRef<ContextOwner.Command> timeline;
  private ActorRef<ContextOwner.Command> containers;
  private final List<FenceRef> fences = new ArrayList<>();
  private FenceRef head;
  private ActorRef<FenceRef> got;
  /** Fences of the chain asked for so far ({@link FenceHold#WINDOW} in flight). */
  private int asked;
  private long t0;

  public static Behavior<Command> create(long pending, int chainPoints, List<ActorRef<NodeControl>> members, FenceServices services,
      ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(c -> new ScaleBench(c, pending, chainPoints, members, services, replyTo));
  }

  /** A member's share of the pending fences: {@link FenceHold} reports to {@code replyTo}. */
  public static Behavior<?> hold(long count, String node, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    return FenceHold.create(count, node, services, replyTo);
  }

  private ScaleBench(ActorContext<Command> context, long pending, int chainPoints, List<ActorRef<NodeControl>> members,
      FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.pending = pending;
    this.chainPoints = chainPoints;
    this.members = List.copyOf(members);
    this.services = services;
    this.replyTo = replyTo;
    ActorRef<FenceControl.BenchReport> held = context.messageAdapter(FenceControl.BenchReport.class, Held::new);
    reportsLeft = members.size();
    for (int i = 0; i < members.size(); i++) {
      long share = pending / members.size() + (i < pending % members.size() ? 1 : 0);
      members.get(i).tell(new FenceControl.HoldFences(share, held));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Held.class, this::onHeld)
        .onMessage(Got.class, g -> fences.size() < chainPoints ? onMade(g.ref()) : onLinked(g.ref()))
        .onMessage(Listed.class, this::onListed)
        .onMessage(Waited.class, this::onWaited)
        .onMessage(Heap.class, this::onChainHeap)
        .build();
  }

  private Behavior<Command> onHeld(Held held) {
    figures.addAll(held.report().figures());
    if (--reportsLeft > 0) {
      return this;
    }
    double total = figures.stream().filter(f -> f.name().endsWith(".fences")).mapToDouble(BenchFigure::value).sum();
    figures.add(BenchFigure.of("scale.pending.total.fences", "fences", total, 0, true));
    if (chainPoints == 0 || members.size() < 2) {
      return done();
    }
    getContext().getLog().info("bench scale: {} fences pending across {} members; making {} fences for the chain", Math.round(total),
        members.size(), chainPoints);
    timeline = getContext().spawn(FenceTimeline.create(services, false), "chain-fences");
    containers = getContext().spawn(Containers.create(services), "chain-points");
    t0 = System.nanoTime();
    got = getContext().messageAdapter(FenceRef.class, Got::new);
    for (; asked < Math.min(chainPoints, FenceHold.WINDOW); asked++) {
      timeline.tell(new FenceTimeline.CreateFence(got));
    }
    return this;
  }

  private Behavior<Command> onMade(FenceRef fence) {
    fences.add(fence);
    if (asked < chainPoints) {
      asked++;
      timeline.tell(new FenceTimeline.CreateFence(got));
    }
    if (fences.size() == chainPoints) {
      fences.sort(java.util.Comparator.comparingLong(f -> f.id().seqno()));
      t0 = System.nanoTime();
      link(null, 0);
    }
    return this;
  }

  /** The next chain point, after {@code prev} (null for the first): one at a time, each needs the one before. */
  private void link(FenceRef prev, int index) {
    containers.tell(new Containers.CreateChain(prev, fences.get(index), index + 1L, got));
  }

  private Behavior<Command> onLinked(FenceRef point) {
    int index = (int) point.id().seqno();
    if (index < chainPoints) {
      link(point, index);
      return this;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    figures.add(BenchFigure.of("scale.chain.points", "points", chainPoints, 0, true));
    figures.add(BenchFigure.of("scale.chain.build.rate", "points/s", chainPoints / seconds, 0, true));
    head = point;
    getContext().getLog().info("bench scale: a chain of {} points built in {} s; measuring the heap", chainPoints, Math.round(seconds));
    FenceHold.usedHeap(getContext(), Heap::new);
    return this;
  }

  private Behavior<Command> onChainHeap(Heap heap) {
    figures.add(BenchFigure.of("scale.chain.n1.heap_used", "MiB", heap.used() / (double) (1 << 20), 0, false));
    getContext().getLog().info("bench scale: the chain's head waited on from the peer");
    members.get(1).tell(new FenceControl.WaitFence(head, Duration.ofMinutes(30).toNanos(), "bench", REASON,
        getContext().messageAdapter(WaitResult.class, Waited::new)));
    listPeer();
    return this;
  }

  private void listPeer() {
    getContext().ask(WaitsListed.class, members.get(1), Duration.ofSeconds(10), r -> new ListWaits(r, 0, ListWaits.PAGE),
        (ok, err) -> new Listed(ok != null ? ok : new WaitsListed("", List.of())));
  }

  private Behavior<Command> onListed(Listed l) {
    if (l.waits().edges().stream().noneMatch(e -> e.getReason().equals(REASON))) {
      listPeer(); // not registered yet
      return this;
    }
    getContext().getLog().info("bench scale: the peer waits on the head; signalling the {} fences in order (timed)", chainPoints);
    t0 = System.nanoTime();
    for (FenceRef f : fences) {
      timeline.tell(new FenceTimeline.SignalFence(f.id().seqno(), 0, 0, null));
    }
    return this;
  }

  private Behavior<Command> onWaited(Waited w) {
    double millis = (System.nanoTime() - t0) / 1e6;
    if (!w.result().signalled()) {
      getContext().getLog().warn("bench scale: the peer's wait on the chain head ended {} (status {})", w.result().result(),
          w.result().status());
    }
    figures.add(BenchFigure.of("scale.chain.signal_to_remote_wake", "ms", millis, 0, false));
    figures.add(BenchFigure.of("scale.chain.remote_wait.status", "status", w.result().status().value(), 0, true));
    return done();
  }

  private Behavior<Command> done() {
    replyTo.tell(new FenceControl.BenchReport(figures));
    return Behaviors.stopped();
  }
}
