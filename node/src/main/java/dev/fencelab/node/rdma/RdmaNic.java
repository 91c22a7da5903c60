package dev.fencelab.node.rdma;

import dev.fencelab.node.device.Pacing;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One RDMA NIC with its verbs objects (see the package documentation): protection domains, memory regions, completion
 * queues and RC queue pairs; the subscriber of its ODP MRs' interval notifiers; the DMA engine that reads and writes
 * process memory through its MRs' translations; and its half of the transport to peer NICs.
 *
 * <p>A queue pair starts up to {@link #MAX_OUTSTANDING} work requests of its send queue at once and completes them in
 * posting order, as an RC QP does; within a work request, up to {@link #WINDOW} chunks of {@link #CHUNK} bytes are in
 * flight, and one that fits the {@link #MTU} travels in its request. Model time: the NIC's
 * egress link serialises bytes at the link rate, every message adds the one-way latency, an ODP fault adds its cost.
 */
public final class RdmaNic extends AbstractBehavior<Object> {
  /** Bytes per data message (with its envelope, under Artery's 256 KiB maximum frame). */
  public static final int CHUNK = 128 << 10;
  /** Data messages of one work request in flight before the receiver's acknowledgement. */
  public static final int WINDOW = 8;
  /** Work requests of one queue pair in flight at once (later ones wait in the send queue). */
  public static final int MAX_OUTSTANDING = 16;
  /** The path MTU: a WRITE or SEND up to it is one packet, its data in the request. */
  public static final int MTU = 4096;
  /** HMM_RANGE_DEFAULT_TIMEOUT: how long an ODP fault retries -EBUSY (include/linux/hmm.h). */
  static final long HMM_RANGE_DEFAULT_TIMEOUT_NANOS = 1_000_000_000L;
  /** A dead peer: retry_cnt 7 × 4.096 µs × 2^14 (local ACK timeout 14) of model time before RETRY_EXC_ERR. */
  static final long RETRY_EXCEEDED_NANOS = 7L * 4096L * (1L << 14);

  /**
   * How the NIC is built: its name and label, ODP capability, link rate (bytes/ns) and latency, ODP fault costs, and
   * the member's pacing (realtime: the egress link also takes the real time its bytes take, so that chaos can land in
   * the middle of a transfer).
   */
  public record Params(String name, String label, boolean odp, double bytesPerNano, long latencyNanos, long minorFaultNanos,
      long majorFaultNanos, Duration callTimeout, dev.fencelab.node.device.Pacing pacing, boolean moveNotifyKeepsMapping) {
    public Params(String name, String label, boolean odp, double bytesPerNano, long latencyNanos, long minorFaultNanos,
        long majorFaultNanos, Duration callTimeout) {
      this(name, label, odp, bytesPerNano, latencyNanos, minorFaultNanos, majorFaultNanos, callTimeout,
          dev.fencelab.node.device.Pacing.ASAP, false);
    }

    /** The same NIC with the {@code move_notify_keeps_mapping} bug (a dma-buf MR's callback leaves its mapping). */
    public Params keepingMappingsOnMoveNotify() {
      return new Params(name, label, odp, bytesPerNano, latencyNanos, minorFaultNanos, majorFaultNanos, callTimeout, pacing, true);
    }
  }

  /** A continuation of one of the NIC's parts, run on the NIC's thread (an answer it asked for, a paced send). */
  record Continue(Runnable then) implements NoSerializationVerificationNeeded {}

  private final Params p;
  private final Set<String> pds = new HashSet<>();
  private final MemoryRegions mrs;
  private final CompletionQueues cqs;
  private final QueuePairs qps;

  public static Behavior<Object> create(Params params) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new RdmaNic(context, timers, params)));
  }

  private RdmaNic(ActorContext<Object> context, TimerScheduler<Object> timers, Params params) {
    super(context);
    this.p = params;
    TraceRecorder trace = TraceRecorder.get(context.getSystem());
    NicClock clock = new NicClock(params, trace, context);
    this.mrs = new MemoryRegions(context, params, clock, trace, pds);
    this.cqs = new CompletionQueues(params, clock, trace, timers);
    this.qps = new QueuePairs(context, params, clock, trace, timers, pds, mrs, cqs);
  }

  private Behavior<Object> run(Runnable r) {
    r.run();
    return this;
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Continue.class, c -> run(c.then()))
        .onMessage(RdmaProtocol.AllocPd.class, a -> run(() -> a.replyTo().tell(pds.add(a.name())
            ? RdmaProtocol.Reply.of(0, "pd " + a.name() + " on " + p.name())
            : RdmaProtocol.Reply.of(Errno.EEXIST.negative(), "pd " + a.name() + " exists"))))
        .onMessage(RdmaProtocol.RegMr.class, r -> run(() -> mrs.register(r)))
        .onMessage(RdmaProtocol.RegDmabufMr.class, r -> run(() -> mrs.registerDmabuf(r)))
        .onMessage(RdmaProtocol.UsePcie.class, u -> run(() -> mrs.usePcie(u)))
        .onMessage(dev.fencelab.node.driver.DriverProtocol.MoveNotify.class, n -> run(() -> mrs.moveNotify(n)))
        .onMessage(RdmaProtocol.DeregMr.class, d -> run(() -> mrs.deregister(d)))
        .onMessage(MmProtocol.Invalidate.class, i -> run(() -> mrs.invalidate(i)))
        .onMessage(RdmaProtocol.CreateCq.class, c -> run(() -> cqs.create(c)))
        .onMessage(RdmaProtocol.PollCq.class, c -> run(() -> cqs.poll(c)))
        .onMessage(CompletionQueues.PollTimeout.class, t -> run(() -> cqs.timedOut(t)))
        .onMessage(RdmaProtocol.CreateQp.class, c -> run(() -> qps.create(c)))
        .onMessage(RdmaProtocol.ConnectQp.class, c -> run(() -> qps.connectQp(c)))
        .onMessage(RdmaProtocol.Connect.class, c -> run(() -> qps.connectFrom(c)))
        .onMessage(RdmaProtocol.PostSend.class, s -> run(() -> qps.postSend(s)))
        .onMessage(RdmaProtocol.PostRecv.class, r -> run(() -> qps.postRecv(r)))
        .onMessage(QueuePairs.WrTimeout.class, t -> run(() -> qps.timedOut(t)))
        .onMessage(RdmaProtocol.Request.class, r -> run(() -> qps.request(r)))
        .onMessage(RdmaProtocol.Data.class, d -> run(() -> qps.data(d)))
        .onMessage(RdmaProtocol.DataAck.class, a -> run(() -> qps.dataAck(a)))
        .onMessage(RdmaProtocol.Complete.class, c -> run(() -> qps.completed(c)))
        .onMessage(RdmaProtocol.Acks.class, a -> run(() -> qps.acked(a)))
        .onSignal(Terminated.class, t -> run(() -> {
          mrs.exporterGone(t.getRef());
          mrs.mmGone(t.getRef());
          qps.peerGone(t);
        }))
        .build();
  }
}
