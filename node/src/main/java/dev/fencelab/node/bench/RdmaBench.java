package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.rdma.RdmaProtocol;
import dev.fencelab.node.rdma.Verbs;
import dev.fencelab.protocol.control.NodeControl;
import java.time.Duration;
import java.util.ArrayList;
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
 * The RDMA benchmark ({@code fencelab bench rdma}), run on one member with a peer member: a NIC and a pinned MR on each
 * side (see {@link RdmaSide}), one RC connection between them, and a plain actor on the peer as the raw sink; one
 * unmeasured round of everything below (the JIT warms up on both sides), then {@link #ROUNDS} measured rounds, fencelab
 * and raw alternating, each figure the median of its rounds:
 *
 * <ol>
 *   <li>RDMA WRITE throughput: {@code writes} work requests of {@code bytes} of real bytes each, posted at once, until
 *       the last completion — MB/s, vs raw Pekko moving the same bytes to a raw actor on the peer in the same chunks
 *       with the same window of unacknowledged chunks;
 *   <li>small-message rate: {@code small} RDMA WRITEs of 64 bytes — work requests per second, vs the same number of
 *       64-byte raw messages with as many unacknowledged as the queue pair keeps work requests in flight.
 * </ol>
 */
public final class RdmaBench extends AbstractBehavior<Object> {
  public record Params(long bytes, int writes, int small, ActorRef<NodeControl> peer) {}

  private record Answer(Object reply) implements NoSerializationVerificationNeeded {}

  private static final int SMALL = 64;

  private final Params p;
  private final FenceServices services;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  private final ActorRef<Object> answers;
  private final List<BenchFigure> figures = new ArrayList<>();
  private Consumer<Object> onAnswer = m -> {};
  private ActorRef<Object> nic;
  private ActorRef<Object> peerNic;
  private long t0;
  private boolean finished;

  public static Behavior<Object> create(Params params, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(context -> new RdmaBench(context, params, services, replyTo).start());
  }

  private RdmaBench(ActorContext<Object> context, Params p, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.p = p;
    this.services = services;
    this.replyTo = replyTo;
    this.answers = context.messageAdapter(Object.class, Answer::new);
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder().onMessage(Answer.class, a -> {
      onAnswer.accept(a.reply());
      return finished ? Behaviors.stopped() : this;
    }).build();
  }

  @SuppressWarnings("unchecked")
  private <T> ActorRef<T> answers() {
    return (ActorRef<T>) (ActorRef<?>) answers;
  }

  private void phase(String what) {
    getContext().getLog().info("rdma bench: {}", what);
  }

  private Behavior<Object> start() {
    onAnswer = m -> {
      if (!(m instanceof DeviceControl.RdmaPeerReady ready)) {
        return;
      }
      if (ready.error() != 0) {
        fail(ready.detail());
        return;
      }
      if (ready.nic().path().address().hasLocalScope()) {
        nic = ready.nic();
      } else {
        peerNic = ready.nic();
      }
      if (nic != null && peerNic != null) {
        connect();
      }
    };
    int cqe = 2 * (p.writes() + p.small()) + 16;
    getContext().spawn(RdmaSide.create(p.bytes(), cqe, getContext().getSelf(), services, answers()), "side");
    p.peer().tell(new DeviceControl.SpawnRdmaPeer(p.bytes(), getContext().getSelf(), answers()));
    return this;
  }

  private void connect() {
    onAnswer = m -> {
      if (m instanceof RdmaProtocol.Reply r) {
        if (r.ret() != 0) {
          fail("connect: " + r.detail());
        } else {
          writes();
        }
      }
    };
    nic.tell(new RdmaProtocol.ConnectQp(RdmaSide.QP, peerNic, RdmaSide.QP, answers()));
  }

  /** Posts {@code n} WRITEs of {@code length} bytes, then polls until all completed; {@code done} gets the seconds taken. */
  private void post(int n, long length, String prefix, java.util.function.DoubleConsumer done) {
    onAnswer = m -> {
      if (m instanceof RdmaProtocol.Reply r && r.out().containsKey("order")) {
        if (r.ret() != n || r.out().entrySet().stream().anyMatch(e -> !e.getKey().equals("order") && !e.getValue().equals("success"))) {
          fail(prefix + ": " + r.detail());
          return;
        }
        done.accept((System.nanoTime() - t0) / 1e9);
      }
    };
    ActorRef<RdmaProtocol.Reply> ignore = getContext().getSystem().ignoreRef();
    t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      nic.tell(new RdmaProtocol.PostSend(RdmaSide.QP, prefix + i, Verbs.Opcode.WRITE, RdmaSide.MR, 0, length, RdmaSide.MR, 0, ignore));
    }
    nic.tell(new RdmaProtocol.PollCq(RdmaSide.CQ, n, n, Duration.ofMinutes(10), answers()));
  }

  /** Measured rounds, each fencelab then raw for both figures, after one unmeasured round of each (all code warm). */
  static final int ROUNDS = 3;

  private final List<Double> writeRates = new ArrayList<>();
  private final List<Double> rawWriteRates = new ArrayList<>();
  private final List<Double> smallRates = new ArrayList<>();
  private final List<Double> rawSmallRates = new ArrayList<>();
  private ActorRef<DriverProtocol.Command> sink;

  private void writes() {
    phase("connected; raw sink on the peer");
    onAnswer = m -> {
      if (m instanceof DeviceControl.RawSourceSpawned spawned) {
        sink = spawned.source();
        round(0);
      }
    };
    p.peer().tell(new DeviceControl.SpawnRawSource(answers()));
  }

  /** Round 0 warms every path up; rounds 1..ROUNDS are measured, the two sides alternating so load drifts hit both. */
  private void round(int r) {
    phase(r == 0 ? "warming up (" + p.writes() + " + " + p.small() + " RDMA WRITEs and their raw twins, not measured)"
        : "round " + r + " of " + ROUNDS + ": " + p.writes() + " RDMA WRITEs of " + p.bytes() + " bytes, " + p.small() + " of " + SMALL);
    long total = p.bytes() * p.writes();
    post(p.writes(), p.bytes(), "w" + r + "-", seconds ->
        rawStream(sink, total, dev.fencelab.node.rdma.RdmaNic.CHUNK, dev.fencelab.node.rdma.RdmaNic.WINDOW, rawSeconds ->
            post(p.small(), SMALL, "s" + r + "-", smallSeconds ->
                rawStream(sink, (long) SMALL * p.small(), SMALL, dev.fencelab.node.rdma.RdmaNic.MAX_OUTSTANDING, rawSmallSeconds -> {
                  if (r > 0) {
                    writeRates.add(total / seconds / 1e6);
                    rawWriteRates.add(total / rawSeconds / 1e6);
                    smallRates.add(p.small() / smallSeconds);
                    rawSmallRates.add(p.small() / rawSmallSeconds);
                  }
                  if (r < ROUNDS) {
                    round(r + 1);
                  } else {
                    report();
                  }
                }))));
  }

  private void report() {
    phase("done: writes " + writeRates + " MB/s (raw " + rawWriteRates + "), small " + smallRates + " WR/s (raw " + rawSmallRates + ")");
    figures.add(BenchFigure.of("rdma.write.throughput", "MB/s", DeviceBench.median(writeRates), DeviceBench.median(rawWriteRates), true));
    figures.add(BenchFigure.of("rdma.write.small.rate", "WR/s", DeviceBench.median(smallRates), DeviceBench.median(rawSmallRates), true));
    replyTo.tell(new FenceControl.BenchReport(figures));
    finished = true;
  }

  /** Sends {@code total} bytes in chunks of {@code chunk} with at most {@code window} unacknowledged; then {@code done}. */
  private void rawStream(ActorRef<DriverProtocol.Command> sink, long total, int chunk, int window, java.util.function.DoubleConsumer done) {
    byte[] data = new byte[chunk];
    new java.util.Random(chunk).nextBytes(data);
    long[] sent = {0};
    long[] acked = {0};
    ActorRef<DriverProtocol.WriteAck> acks = answers();
    Runnable send = () -> {
      int n = (int) Math.min(chunk, total - sent[0]);
      byte[] piece = n == chunk ? data : java.util.Arrays.copyOf(data, n);
      sink.tell(new DriverProtocol.WriteRange(0, List.of(new Chunk.Bytes(sent[0] % p.bytes(), piece)), sent[0], acks));
      sent[0] += n;
    };
    onAnswer = m -> {
      if (!(m instanceof DriverProtocol.WriteAck)) {
        return;
      }
      acked[0]++;
      if (sent[0] < total) {
        send.run();
      } else if (acked[0] == (total + chunk - 1) / chunk) {
        done.accept((System.nanoTime() - t0) / 1e9);
      }
    };
    t0 = System.nanoTime();
    for (int i = 0; i < window && sent[0] < total; i++) {
      send.run();
    }
  }

  /** The peer's side, spawned by its node agent: lives as long as the bench that asked for it. */
  public static Behavior<Object> peerSide(DeviceControl.SpawnRdmaPeer spawn, FenceServices services) {
    return RdmaSide.create(spawn.bytes(), 64, spawn.owner(), services, spawn.replyTo());
  }

  private void fail(String why) {
    getContext().getLog().error("rdma bench: {}", why);
    figures.add(BenchFigure.of("failed: " + why, "", 0, 0, true));
    replyTo.tell(new FenceControl.BenchReport(figures));
    finished = true;
  }
}
