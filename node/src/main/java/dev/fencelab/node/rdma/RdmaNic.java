package dev.fencelab.node.rdma;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.rdma.Verbs.Opcode;
import dev.fencelab.node.rdma.Verbs.Status;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
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
 * <p>A queue pair runs its send queue in order, one work request at a time (completions in posting order, as on an RC
 * QP); within a work request, up to {@link #WINDOW} chunks of {@link #CHUNK} bytes are in flight. Model time: the NIC's
 * egress link serialises bytes at the link rate, every message adds the one-way latency, an ODP fault adds its cost.
 */
public final class RdmaNic extends AbstractBehavior<Object> {
  /** Bytes per data message (with its envelope, under Artery's 256 KiB maximum frame). */
  static final int CHUNK = 128 << 10;
  /** Data messages of one work request in flight before the receiver's acknowledgement. */
  static final int WINDOW = 8;
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
      long majorFaultNanos, Duration callTimeout, dev.fencelab.node.device.Engine.Pacing pacing) {
    public Params(String name, String label, boolean odp, double bytesPerNano, long latencyNanos, long minorFaultNanos,
        long majorFaultNanos, Duration callTimeout) {
      this(name, label, odp, bytesPerNano, latencyNanos, minorFaultNanos, majorFaultNanos, callTimeout,
          dev.fencelab.node.device.Engine.Pacing.ASAP);
    }
  }

  private record Step(Runnable then) implements NoSerializationVerificationNeeded {}

  private record PollTimeout(long id) implements NoSerializationVerificationNeeded {}

  /** The active work request of {@code qp} made no progress for the call timeout: the transport gives up. */
  private record WrTimeout(String qp, long psn) implements NoSerializationVerificationNeeded {}

  private record Cqe(String wr, Status status, Opcode opcode, long bytes) {}

  private record Poller(long id, int max, int min, ActorRef<RdmaProtocol.Reply> replyTo) {}

  private static final class Cq {
    final String name;
    final int depth;
    final Deque<Cqe> entries = new ArrayDeque<>();
    final List<Poller> pollers = new ArrayList<>();

    Cq(String name, int depth) {
      this.name = name;
      this.depth = depth;
    }
  }

  private enum State { INIT, RTS, ERROR }

  private static final class Wr {
    final String name;
    final Opcode opcode;
    final String mr;
    final long offset;
    final long length;
    final String remoteMr;
    final long remoteOffset;
    final long traceId;
    long psn;
    long sent;
    int inflight;
    long written;
    boolean go;
    Integer remoteStatus;
    boolean finished;

    Wr(String name, Opcode opcode, String mr, long offset, long length, String remoteMr, long remoteOffset, long traceId) {
      this.name = name;
      this.opcode = opcode;
      this.mr = mr;
      this.offset = offset;
      this.length = length;
      this.remoteMr = remoteMr;
      this.remoteOffset = remoteOffset;
      this.traceId = traceId;
    }
  }

  private record Recv(String wr, String mr, long offset, long length) {}

  /** The responder's side of one WRITE or SEND (bytes landing in {@code mr} at {@code base}), or one READ being streamed. */
  private static final class Inbound {
    final String mr;
    final long base;
    final long length;
    final Recv recv;
    long done;
    long sent;
    int inflight;
    int messages;
    int sentMessages;

    Inbound(String mr, long base, long length, Recv recv) {
      this.mr = mr;
      this.base = base;
      this.length = length;
      this.recv = recv;
    }
  }

  private static final class Qp {
    final String name;
    final String pd;
    final String cq;
    State state = State.INIT;
    ActorRef<Object> peer;
    String peerQp;
    boolean peerDead;
    long nextPsn = 1;
    Wr active;
    final Deque<Wr> sendQueue = new ArrayDeque<>();
    final Deque<Recv> recvs = new ArrayDeque<>();
    final Map<Long, Inbound> inbound = new HashMap<>();
    final Map<Long, Inbound> reads = new HashMap<>();
    final Deque<RdmaProtocol.Request> waitingForRecv = new ArrayDeque<>();

    Qp(String name, String pd, String cq) {
      this.name = name;
      this.pd = pd;
      this.cq = cq;
    }
  }

  private final Params p;
  private final TimerScheduler<Object> timers;
  private final TraceRecorder trace;
  private final ActorRef<Object> self;
  private final Set<String> pds = new HashSet<>();
  private final Map<String, MemoryRegion> mrs = new HashMap<>();
  private final Map<Long, MemoryRegion> byInterval = new HashMap<>();
  private final Map<String, Cq> cqs = new HashMap<>();
  private final Map<String, Qp> qps = new HashMap<>();
  private final Set<ActorRef<Object>> watched = new HashSet<>();
  private long model;
  private long linkFree;
  /** Realtime pacing: when the egress link is free in wall time (System.nanoTime). */
  private long wallLinkFree;
  private long nextId = 1;

  public static Behavior<Object> create(Params params) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new RdmaNic(context, timers, params)));
  }

  private RdmaNic(ActorContext<Object> context, TimerScheduler<Object> timers, Params params) {
    super(context);
    this.p = params;
    this.timers = timers;
    this.trace = TraceRecorder.get(context.getSystem());
    this.self = context.getSelf();
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Step.class, s -> {
          s.then().run();
          return this;
        })
        .onMessage(RdmaProtocol.AllocPd.class, a -> {
          a.replyTo().tell(pds.add(a.name()) ? RdmaProtocol.Reply.of(0, "pd " + a.name() + " on " + p.name())
              : RdmaProtocol.Reply.of(Errno.EEXIST.negative(), "pd " + a.name() + " exists"));
          return this;
        })
        .onMessage(RdmaProtocol.RegMr.class, this::onRegMr)
        .onMessage(RdmaProtocol.DeregMr.class, this::onDeregMr)
        .onMessage(RdmaProtocol.CreateCq.class, c -> {
          cqs.put(c.name(), new Cq(c.name(), c.cqe() > 0 ? c.cqe() : 256));
          c.replyTo().tell(RdmaProtocol.Reply.of(0, "cq " + c.name() + " on " + p.name()));
          return this;
        })
        .onMessage(RdmaProtocol.CreateQp.class, c -> {
          if (!pds.contains(c.pd()) || !cqs.containsKey(c.cq())) {
            c.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no pd " + c.pd() + " or cq " + c.cq() + " on " + p.name()));
          } else {
            qps.put(c.name(), new Qp(c.name(), c.pd(), c.cq()));
            c.replyTo().tell(RdmaProtocol.Reply.of(0, "rc qp " + c.name() + " on " + p.name() + " (INIT)"));
          }
          return this;
        })
        .onMessage(RdmaProtocol.ConnectQp.class, this::onConnectQp)
        .onMessage(RdmaProtocol.Connect.class, this::onConnect)
        .onMessage(RdmaProtocol.PostSend.class, this::onPostSend)
        .onMessage(RdmaProtocol.PostRecv.class, this::onPostRecv)
        .onMessage(RdmaProtocol.PollCq.class, this::onPollCq)
        .onMessage(PollTimeout.class, t -> {
          for (Cq cq : cqs.values()) {
            cq.pollers.stream().filter(pl -> pl.id() == t.id()).findFirst().ifPresent(pl -> {
              cq.pollers.remove(pl);
              answer(cq, pl.max(), pl.replyTo());
            });
          }
          return this;
        })
        .onMessage(WrTimeout.class, t -> {
          Qp qp = qps.get(t.qp());
          if (qp != null && qp.active != null && qp.active.psn == t.psn() && !qp.active.finished) {
            trace.record(TraceRecorder.event(EventKind.MARK, track(qp)).setName("transport timeout").setDetail(qp.active.name
                + ": no acknowledgement from " + qp.peerQp + " for " + p.callTimeout().toMillis() + " ms"));
            complete(qp, qp.active, Status.RETRY_EXC_ERR);
          }
          return this;
        })
        .onMessage(RdmaProtocol.Request.class, this::onRequest)
        .onMessage(RdmaProtocol.Data.class, this::onData)
        .onMessage(RdmaProtocol.DataAck.class, this::onDataAck)
        .onMessage(RdmaProtocol.Complete.class, this::onComplete)
        .onMessage(MmProtocol.Invalidate.class, this::onInvalidate)
        .onSignal(Terminated.class, this::onPeerGone)
        .build();
  }

  // --- model time

  /** Advances the NIC's clock to {@code modelNanos} and to its member's (what the host's other devices did meanwhile). */
  private long observe(long modelNanos) {
    model = Math.max(Math.max(model, modelNanos), trace.modelNow());
    trace.observeModel(model);
    return model;
  }

  /** Sends {@code bytes} on the egress link: when they arrive at the peer (model time). */
  private long transmit(long bytes) {
    linkFree = Math.max(linkFree, model) + (long) Math.ceil(bytes / p.bytesPerNano());
    return linkFree + p.latencyNanos();
  }

  /** Sends data of {@code bytes} to {@code to}: at once, or (realtime pacing) once the link has carried it in real time. */
  private void sendData(ActorRef<Object> to, RdmaProtocol.Data data, long bytes) {
    Duration delay = p.pacing().realDelay((long) Math.ceil(bytes / p.bytesPerNano()));
    if (delay.isZero()) {
      to.tell(data);
      return;
    }
    long now = System.nanoTime();
    wallLinkFree = Math.max(now, wallLinkFree) + delay.toNanos();
    getContext().scheduleOnce(Duration.ofNanos(wallLinkFree - now), self, new Step(() -> to.tell(data)));
  }

  private long arrival() {
    return model + p.latencyNanos();
  }

  // --- memory regions

  private Behavior<Object> onRegMr(RdmaProtocol.RegMr r) {
    int check = Verbs.checkAccess(r.access(), p.odp());
    if (check != 0 || !pds.contains(r.pd()) || mrs.containsKey(r.name())) {
      r.replyTo().tell(RdmaProtocol.Reply.of(check != 0 ? check : Errno.EINVAL.negative(), check != 0 ? "ib_check_mr_access refused the flags"
          : "no pd " + r.pd() + " on " + p.name() + ", or mr " + r.name() + " exists"));
      return this;
    }
    boolean odp = (r.access() & Verbs.ON_DEMAND) != 0;
    MemoryRegion mr = new MemoryRegion(r.name(), r.pd(), r.owner(), r.mm(), r.start(), r.length(), r.access(), odp);
    if (odp) { // ib_umem_odp_get: an interval notifier over the range, nothing faulted yet
      ActorRef<MmProtocol.Invalidate> subscriber = self.narrow();
      getContext().ask(MmProtocol.Inserted.class, r.mm(), p.callTimeout(),
          to -> new MmProtocol.NotifierInsert(subscriber, p.label() + "/" + r.name(), r.start(), r.length(), to),
          (in, failure) -> new Step(() -> {
            int result = in == null || in.result() == Errno.ESRCH.negative() ? Errno.EINVAL.negative() : in.result();
            if (result == 0) {
              mr.interval = in.interval();
              mr.seq = in.seq();
              mrs.put(mr.name, mr);
              byInterval.put(mr.interval, mr);
            }
            r.replyTo().tell(new RdmaProtocol.Reply(result, result == 0 ? Map.of("lkey", Long.toString(lkey(mr))) : Map.of(),
                result == 0 ? String.format("odp mr %s over %s 0x%x+%d (interval notifier %d)", r.name(), r.owner(), r.start(), r.length(),
                    in.interval()) : "ib_umem_odp_get: " + Errno.describe(result)));
          }));
      return this;
    }
    int range = Verbs.checkPinnedRange(r.access(), r.start(), r.length());
    if (range != 0) {
      r.replyTo().tell(RdmaProtocol.Reply.of(range, "ib_umem_get: the range overflows"));
      return this;
    }
    getContext().ask(MmProtocol.Pinned.class, r.mm(), p.callTimeout(),
        to -> new MmProtocol.LongTermPin(p.label(), r.start(), r.length(), mr.writable(), to),
        (pinned, failure) -> new Step(() -> {
          int result = pinned == null ? Errno.EINVAL.negative() : pinned.result() == Errno.ESRCH.negative() ? Errno.EINVAL.negative()
              : pinned.result();
          if (result == 0) {
            mr.pin = pinned.pin();
            mr.map(pinned.frames());
            mrs.put(mr.name, mr);
          }
          long pages = pinned == null ? 0 : pinned.frames().stream().mapToLong(f -> f.pages()).sum();
          r.replyTo().tell(new RdmaProtocol.Reply(result, pinned == null ? Map.of() : result == 0
              ? Map.of("pages", Long.toString(pages), "pinned_vm", Long.toString(pinned.pinnedVm()), "lkey", Long.toString(lkey(mr)))
              : Map.of("pinned_vm", Long.toString(pinned.pinnedVm())),
              result == 0 ? String.format("pinned mr %s over %s 0x%x+%d: %d pages pinned (pinned_vm %d)", r.name(), r.owner(), r.start(),
                  r.length(), pages, pinned.pinnedVm()) : "ib_umem_get: " + Errno.describe(result)));
        }));
    return this;
  }

  private long lkey(MemoryRegion mr) {
    return (Integer.toUnsignedLong(mr.name.hashCode()) << 8 | (mrs.size() & 0xff)) & 0xffff_ffffL;
  }

  private Behavior<Object> onDeregMr(RdmaProtocol.DeregMr d) {
    MemoryRegion mr = mrs.remove(d.name());
    if (mr == null) {
      d.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no mr " + d.name() + " on " + p.name()));
      return this;
    }
    if (mr.odp) { // ib_umem_odp_release: mmu_interval_notifier_remove waits for a running invalidation
      byInterval.remove(mr.interval);
      getContext().ask(MmProtocol.Result.class, mr.mm, p.callTimeout(), to -> new MmProtocol.NotifierRemove(mr.interval, to),
          (res, failure) -> new Step(() -> d.replyTo().tell(RdmaProtocol.Reply.of(0, "odp mr " + d.name() + " deregistered"))));
    } else {
      getContext().ask(MmProtocol.Result.class, mr.mm, p.callTimeout(), to -> new MmProtocol.Unpin(mr.pin, to),
          (res, failure) -> new Step(() -> d.replyTo().tell(new RdmaProtocol.Reply(0, res == null ? Map.of()
              : Map.of("pinned_vm", Long.toString(res.value())), "pinned mr " + d.name() + " deregistered, pages unpinned"))));
    }
    return this;
  }

  /** The invalidate op of an ODP MR (mlx5_ib_invalidate_range): false when not blockable; else set_seq, zap, true. */
  private Behavior<Object> onInvalidate(MmProtocol.Invalidate inv) {
    MemoryRegion mr = byInterval.get(inv.interval());
    if (mr == null) {
      inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true));
      return this;
    }
    if (!inv.blockable()) {
      inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), false));
      return this;
    }
    mr.seq = inv.seq();
    long zapped = mr.zap(inv.start(), inv.end());
    trace.record(TraceRecorder.event(EventKind.MARK, p.label() + "/" + mr.name).setName("odp zap").setSubject(inv.mm())
        .setDetail(String.format("%s 0x%x-0x%x: %d pages zapped, no fence waited for", inv.event(), inv.start(), inv.end(), zapped)));
    inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true, model));
    return this;
  }

  /** ib_umem_odp_map_dma_and_lock over the pages of {@code [addr, addr + len)}: pages mapped, or a negative errno. */
  private void ensureMapped(MemoryRegion mr, long addr, long len, IntConsumer done) {
    if (!mr.odp || mr.covers(addr, len)) {
      done.accept(0);
      return;
    }
    if (addr < mr.start || addr + len > mr.start + mr.length) {
      done.accept(Errno.EFAULT.negative());
      return;
    }
    fault(mr, addr, len, System.nanoTime(), done);
  }

  private void fault(MemoryRegion mr, long addr, long len, long began, IntConsumer done) {
    long first = addr & ~4095L;
    long last = (addr + len + 4095) & ~4095L;
    getContext().ask(MmProtocol.Result.class, mr.mm, p.callTimeout(), to -> new MmProtocol.ReadBegin(mr.interval, to),
        (begun, failure) -> new Step(() -> {
          if (begun == null || begun.result() < 0) {
            faulted(mr, done, Errno.EINVAL.negative(), 0, "read_begin: the owning mm is gone");
            return;
          }
          long seq = begun.value();
          getContext().ask(MmProtocol.Faulted.class, mr.mm, p.callTimeout(),
              to -> new MmProtocol.RangeFault(mr.interval, seq, first, last - first, mr.writable(), false, to),
              (f, failure2) -> new Step(() -> {
                int result = f == null || f.result() == Errno.ESRCH.negative() ? Errno.EINVAL.negative() : f.result();
                if (result == Errno.EBUSY.negative()) {
                  if (System.nanoTime() - began > HMM_RANGE_DEFAULT_TIMEOUT_NANOS) {
                    faulted(mr, done, result, 0, "hmm_range_fault kept returning -EBUSY for 1000 ms");
                  } else {
                    fault(mr, addr, len, began, done);
                  }
                } else if (result < 0) {
                  faulted(mr, done, result, 0, "hmm_range_fault");
                } else if (mr.seq != seq || !mrs.containsKey(mr.name)) { // umem_mutex; mmu_interval_read_retry
                  fault(mr, addr, len, began, done);
                } else {
                  mr.map(f.frames());
                  observe(model + (f.populated() > 0 ? p.majorFaultNanos() : p.minorFaultNanos()));
                  faulted(mr, done, (int) ((last - first) / 4096), f.populated(), f.populated() > 0 ? "major" : "minor");
                }
              }));
        }));
  }

  private void faulted(MemoryRegion mr, IntConsumer done, int result, long populated, String detail) {
    trace.record(TraceRecorder.event(EventKind.ODP_FAULT, p.label() + "/" + mr.name).setStatus(result).setModelNanos(model)
        .setDetail(detail + (populated > 0 ? " (" + populated + " pages allocated)" : "")).setSubject(mr.owner));
    done.accept(result);
  }

  /** A DMA read of {@code len} bytes at {@code offset} of MR {@code name}: status 0 and the chunks (offsets from 0), or -errno. */
  private void dmaRead(String name, long offset, int len, BiConsumer<Integer, List<Chunk>> done) {
    MemoryRegion mr = mrs.get(name);
    if (mr == null) {
      done.accept(Errno.EINVAL.negative(), List.of());
      return;
    }
    long addr = mr.start + offset;
    ensureMapped(mr, addr, len, st -> {
      if (st < 0) {
        done.accept(st, List.of());
        return;
      }
      long tag = nextId++;
      getContext().ask(MmProtocol.DmaData.class, mr.mm, p.callTimeout(),
          to -> new MmProtocol.DmaRead(p.label(), addr, len, mr.translation(), tag, to),
          (d, failure) -> new Step(() -> done.accept(d == null ? Errno.EIO.negative() : d.result(), d == null ? List.of() : d.chunks())));
    });
  }

  /** A DMA write of {@code chunks} (offsets from 0) at {@code offset} of MR {@code name}: 0 or -errno. */
  private void dmaWrite(String name, long offset, List<Chunk> chunks, IntConsumer done) {
    MemoryRegion mr = mrs.get(name);
    if (mr == null) {
      done.accept(Errno.EINVAL.negative());
      return;
    }
    long addr = mr.start + offset;
    long lo = chunks.stream().mapToLong(Chunk::offset).min().orElse(0);
    long hi = chunks.stream().mapToLong(c -> c.offset() + c.length()).max().orElse(0);
    ensureMapped(mr, addr + lo, hi - lo, st -> {
      if (st < 0) {
        done.accept(st);
        return;
      }
      long tag = nextId++;
      getContext().ask(MmProtocol.DmaAck.class, mr.mm, p.callTimeout(),
          to -> new MmProtocol.DmaWrite(p.label(), addr, chunks, mr.translation(), tag, to),
          (a, failure) -> new Step(() -> done.accept(a == null ? Errno.EIO.negative() : a.result())));
    });
  }

  /** Whether MR {@code name} may be used by a QP of {@code pd} over {@code [offset, offset + len)} with {@code needed} access. */
  private boolean usable(String name, String pd, long offset, long len, int needed) {
    MemoryRegion mr = mrs.get(name);
    return mr != null && mr.pd.equals(pd) && mr.contains(offset, len) && (mr.access & needed) == needed;
  }

  // --- queue pairs: connection

  private Behavior<Object> onConnectQp(RdmaProtocol.ConnectQp c) {
    Qp qp = qps.get(c.qp());
    if (qp == null || qp.peer != null) {
      c.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), qp == null ? "no qp " + c.qp() + " on " + p.name()
          : "qp " + c.qp() + " is connected already"));
      return this;
    }
    getContext().ask(RdmaProtocol.Connected.class, c.peer(), p.callTimeout(), to -> new RdmaProtocol.Connect(c.peerQp(), c.qp(), self, to),
        (res, failure) -> new Step(() -> {
          int result = res == null ? Errno.ETIMEDOUT.negative() : res.result();
          if (result == 0) {
            connect(qp, c.peer(), c.peerQp());
          }
          c.replyTo().tell(RdmaProtocol.Reply.of(result, result == 0 ? "qp " + c.qp() + " <-> " + c.peerQp() + " (RTS)"
              : "connect: " + (res == null ? "the peer NIC did not answer" : res.detail())));
        }));
    return this;
  }

  private Behavior<Object> onConnect(RdmaProtocol.Connect c) {
    Qp qp = qps.get(c.qp());
    if (qp == null || (qp.peer != null && !(qp.peer.equals(c.from()) && c.fromQp().equals(qp.name)))) {
      c.replyTo().tell(new RdmaProtocol.Connected(Errno.EINVAL.negative(), qp == null ? "no qp " + c.qp() + " on " + p.name()
          : "qp " + c.qp() + " is connected already"));
      return this;
    }
    connect(qp, c.from(), c.fromQp());
    c.replyTo().tell(new RdmaProtocol.Connected(0, ""));
    return this;
  }

  private void connect(Qp qp, ActorRef<Object> peer, String peerQp) {
    qp.peer = peer;
    qp.peerQp = peerQp;
    qp.state = State.RTS;
    if (!peer.equals(self) && watched.add(peer)) {
      getContext().watch(peer);
    }
  }

  /** The peer NIC's member died: its QPs' active work requests exhaust their retries; the rest is flushed. */
  private Behavior<Object> onPeerGone(Terminated t) {
    for (Qp qp : qps.values()) {
      if (t.getRef().equals(qp.peer)) {
        qp.peerDead = true;
        qp.inbound.clear();
        qp.reads.clear();
        if (qp.active != null && !qp.active.finished) {
          observe(model + RETRY_EXCEEDED_NANOS);
          complete(qp, qp.active, Status.RETRY_EXC_ERR);
        }
      }
    }
    return this;
  }

  // --- the requester

  private Behavior<Object> onPostSend(RdmaProtocol.PostSend s) {
    Qp qp = qps.get(s.qp());
    if (qp == null || qp.state == State.INIT) {
      s.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), qp == null ? "no qp " + s.qp() + " on " + p.name()
          : "qp " + s.qp() + " is not connected (not in RTS)"));
      return this;
    }
    observe(0);
    Wr wr = new Wr(s.wr(), s.opcode(), s.mr(), s.offset(), s.length(), s.remoteMr(), s.remoteOffset(), nextId++);
    trace.record(TraceRecorder.event(EventKind.WR_BEGIN, track(qp)).setId(wr.traceId).setName(s.opcode().name().toLowerCase())
        .setSubject(qp.peerQp).setBytes(s.length()).setDetail(s.wr()).setModelNanos(model));
    s.replyTo().tell(RdmaProtocol.Reply.of(0, s.opcode().name().toLowerCase() + " " + s.wr() + " posted on " + s.qp()));
    if (qp.state == State.ERROR) {
      cqe(qp.cq, new Cqe(wr.name, Status.WR_FLUSH_ERR, wr.opcode, 0), qp, wr);
    } else {
      qp.sendQueue.add(wr);
      kick(qp);
    }
    return this;
  }

  private String track(Qp qp) {
    return p.label() + "/" + qp.name;
  }

  private void kick(Qp qp) {
    if (qp.active == null && qp.state == State.RTS && !qp.sendQueue.isEmpty()) {
      qp.active = qp.sendQueue.poll();
      start(qp, qp.active);
    }
  }

  private void start(Qp qp, Wr wr) {
    if (qp.peerDead) { // the transport retries, then gives up
      observe(model + RETRY_EXCEEDED_NANOS);
      complete(qp, wr, Status.RETRY_EXC_ERR);
      return;
    }
    int needed = wr.opcode == Opcode.READ ? Verbs.LOCAL_WRITE : 0;
    if (!usable(wr.mr, qp.pd, wr.offset, wr.length, needed)) { // lkey, PD, bounds, access
      complete(qp, wr, Status.LOC_PROT_ERR);
      return;
    }
    wr.psn = qp.nextPsn++;
    progress(qp, wr);
    qp.peer.tell(new RdmaProtocol.Request(qp.peerQp, wr.psn, wr.opcode, wr.remoteMr, wr.remoteOffset, wr.length, transmit(64)));
    if (wr.opcode == Opcode.WRITE) {
      pump(qp, wr);
    }
  }

  /** The active work request moved (or started): the transport's timeout starts again. */
  private void progress(Qp qp, Wr wr) {
    timers.startSingleTimer("wr:" + qp.name, new WrTimeout(qp.name, wr.psn), p.callTimeout());
  }

  /** Sends the next chunks of a WRITE or SEND, each read from the local MR, while the window allows. */
  private void pump(Qp qp, Wr wr) {
    while (!wr.finished && wr.inflight < WINDOW && wr.sent < wr.length) {
      long off = wr.sent;
      int n = (int) Math.min(CHUNK, wr.length - off);
      wr.sent += n;
      wr.inflight++;
      dmaRead(wr.mr, wr.offset + off, n, (st, chunks) -> {
        if (wr.finished) {
          return;
        }
        if (st < 0) {
          complete(qp, wr, Status.LOC_PROT_ERR);
          return;
        }
        sendData(qp.peer, new RdmaProtocol.Data(qp.peerQp, wr.psn, off, rebase(chunks, off), transmit(n)), n);
      });
    }
  }

  private static List<Chunk> rebase(List<Chunk> chunks, long by) {
    return chunks.stream().map(c -> c.at(c.offset() + by)).toList();
  }

  private Behavior<Object> onDataAck(RdmaProtocol.DataAck a) {
    observe(a.modelNanos());
    Qp qp = qps.get(a.qp());
    if (qp == null) {
      return this;
    }
    Inbound read = qp.reads.get(a.psn());
    if (read != null) { // the requester wrote a chunk of our READ response
      read.inflight--;
      pumpRead(qp, a.psn(), read);
      return this;
    }
    Wr wr = qp.active;
    if (wr != null && wr.psn == a.psn() && !wr.finished) {
      progress(qp, wr);
      if (a.bytes() == 0) {
        wr.go = true;
      } else {
        wr.inflight--;
      }
      pump(qp, wr);
    }
    return this;
  }

  private Behavior<Object> onComplete(RdmaProtocol.Complete c) {
    observe(c.modelNanos());
    Qp qp = qps.get(c.qp());
    Wr wr = qp == null ? null : qp.active;
    if (wr != null && wr.psn == c.psn() && !wr.finished) {
      wr.remoteStatus = c.status();
      finishIfDone(qp, wr);
    }
    return this;
  }

  private void finishIfDone(Qp qp, Wr wr) {
    if (wr.remoteStatus == null) {
      return;
    }
    if (wr.remoteStatus != Status.SUCCESS.code) {
      complete(qp, wr, Status.of(wr.remoteStatus));
    } else if (wr.opcode != Opcode.READ || wr.written == wr.length) {
      complete(qp, wr, Status.SUCCESS);
    }
  }

  private void complete(Qp qp, Wr wr, Status status) {
    wr.finished = true;
    timers.cancel("wr:" + qp.name);
    if (qp.active == wr) {
      qp.active = null;
    }
    cqe(qp.cq, new Cqe(wr.name, status, wr.opcode, status == Status.SUCCESS ? wr.length : 0), qp, wr);
    if (status != Status.SUCCESS) {
      error(qp);
    } else {
      kick(qp);
    }
  }

  /** The QP enters the error state: every queued work request and posted receive completes flushed. */
  private void error(Qp qp) {
    qp.state = State.ERROR;
    if (qp.active != null && !qp.active.finished) {
      Wr a = qp.active;
      a.finished = true;
      qp.active = null;
      cqe(qp.cq, new Cqe(a.name, Status.WR_FLUSH_ERR, a.opcode, 0), qp, a);
    }
    while (!qp.sendQueue.isEmpty()) {
      Wr w = qp.sendQueue.poll();
      w.finished = true;
      cqe(qp.cq, new Cqe(w.name, Status.WR_FLUSH_ERR, w.opcode, 0), qp, w);
    }
    while (!qp.recvs.isEmpty()) {
      cqe(qp.cq, new Cqe(qp.recvs.poll().wr(), Status.WR_FLUSH_ERR, Opcode.RECV, 0), qp, null);
    }
    qp.inbound.clear();
    qp.reads.clear();
    qp.waitingForRecv.clear();
  }

  // --- the responder

  private Behavior<Object> onRequest(RdmaProtocol.Request r) {
    observe(r.modelNanos());
    Qp qp = qps.get(r.qp());
    if (qp == null || qp.state != State.RTS) {
      return this; // dropped: the requester's transport retries and gives up
    }
    switch (r.opcode()) {
      case WRITE -> {
        if (!usable(r.mr(), qp.pd, r.offset(), r.length(), Verbs.REMOTE_WRITE)) {
          nak(qp, r.psn(), Status.REM_ACCESS_ERR);
        } else if (r.length() == 0) {
          qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, r.psn(), 0, arrival()));
        } else {
          qp.inbound.put(r.psn(), new Inbound(r.mr(), r.offset(), r.length(), null));
        }
      }
      case READ -> {
        if (!usable(r.mr(), qp.pd, r.offset(), r.length(), Verbs.REMOTE_READ)) {
          nak(qp, r.psn(), Status.REM_ACCESS_ERR);
        } else {
          Inbound read = new Inbound(r.mr(), r.offset(), r.length(), null);
          read.messages = (int) ((r.length() + CHUNK - 1) / CHUNK);
          qp.reads.put(r.psn(), read);
          pumpRead(qp, r.psn(), read);
        }
      }
      case SEND -> {
        Recv recv = qp.recvs.poll();
        if (recv == null) {
          qp.waitingForRecv.add(r); // RNR: retried until a receive is posted (rnr_retry 7: forever)
        } else {
          bindSend(qp, r, recv);
        }
      }
      default -> nak(qp, r.psn(), Status.REM_INV_REQ_ERR);
    }
    return this;
  }

  private void bindSend(Qp qp, RdmaProtocol.Request r, Recv recv) {
    if (recv.length() < r.length()) {
      cqe(qp.cq, new Cqe(recv.wr(), Status.LOC_LEN_ERR, Opcode.RECV, 0), qp, null);
      nak(qp, r.psn(), Status.REM_INV_REQ_ERR);
      return;
    }
    if (!usable(recv.mr(), qp.pd, recv.offset(), r.length(), Verbs.LOCAL_WRITE)) {
      cqe(qp.cq, new Cqe(recv.wr(), Status.LOC_PROT_ERR, Opcode.RECV, 0), qp, null);
      nak(qp, r.psn(), Status.REM_OP_ERR);
      return;
    }
    if (r.length() == 0) {
      cqe(qp.cq, new Cqe(recv.wr(), Status.SUCCESS, Opcode.RECV, 0), qp, null);
      qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, r.psn(), 0, arrival()));
      return;
    }
    qp.inbound.put(r.psn(), new Inbound(recv.mr(), recv.offset(), r.length(), recv));
    qp.peer.tell(new RdmaProtocol.DataAck(qp.peerQp, r.psn(), 0, arrival()));
  }

  /** A NAK: the requester's work request completes with {@code status}; this QP enters the error state. */
  private void nak(Qp qp, long psn, Status status) {
    qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, psn, status.code, arrival()));
    error(qp);
  }

  /** Streams a READ response: chunks read from the MR, while the requester's window allows; then the completion. */
  private void pumpRead(Qp qp, long psn, Inbound read) {
    if (read.length == 0) {
      qp.reads.remove(psn);
      qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, psn, 0, arrival()));
      return;
    }
    while (read.inflight < WINDOW && read.sent < read.length) {
      long off = read.sent;
      int n = (int) Math.min(CHUNK, read.length - off);
      read.sent += n;
      read.inflight++;
      dmaRead(read.mr, read.base + off, n, (st, chunks) -> {
        if (qp.reads.get(psn) != read) {
          return;
        }
        if (st < 0) {
          qp.reads.remove(psn);
          nak(qp, psn, Status.REM_ACCESS_ERR);
          return;
        }
        sendData(qp.peer, new RdmaProtocol.Data(qp.peerQp, psn, off, rebase(chunks, off), transmit(n)), n);
        if (++read.sentMessages == read.messages) {
          qp.reads.remove(psn);
          qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, psn, 0, arrival()));
        }
      });
    }
  }

  private Behavior<Object> onData(RdmaProtocol.Data d) {
    observe(d.modelNanos());
    Qp qp = qps.get(d.qp());
    if (qp == null) {
      return this;
    }
    Wr wr = qp.active;
    if (wr != null && wr.opcode == Opcode.READ && wr.psn == d.psn() && !wr.finished) { // our READ's response
      progress(qp, wr);
      dmaWrite(wr.mr, wr.offset, d.chunks(), st -> {
        if (wr.finished) {
          return;
        }
        if (st < 0) {
          complete(qp, wr, Status.LOC_PROT_ERR);
          return;
        }
        wr.written += d.bytes();
        qp.peer.tell(new RdmaProtocol.DataAck(qp.peerQp, d.psn(), d.bytes(), arrival()));
        finishIfDone(qp, wr);
      });
      return this;
    }
    Inbound in = qp.inbound.get(d.psn());
    if (in == null) {
      return this;
    }
    dmaWrite(in.mr, in.base, d.chunks(), st -> {
      if (qp.inbound.get(d.psn()) != in) {
        return;
      }
      if (st < 0) {
        qp.inbound.remove(d.psn());
        if (in.recv != null) {
          cqe(qp.cq, new Cqe(in.recv.wr(), Status.LOC_PROT_ERR, Opcode.RECV, 0), qp, null);
        }
        nak(qp, d.psn(), Status.REM_ACCESS_ERR);
        return;
      }
      in.done += d.bytes();
      qp.peer.tell(new RdmaProtocol.DataAck(qp.peerQp, d.psn(), d.bytes(), arrival()));
      if (in.done == in.length) {
        qp.inbound.remove(d.psn());
        if (in.recv != null) {
          cqe(qp.cq, new Cqe(in.recv.wr(), Status.SUCCESS, Opcode.RECV, in.length), qp, null);
        }
        qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, d.psn(), 0, arrival()));
      }
    });
    return this;
  }

  private Behavior<Object> onPostRecv(RdmaProtocol.PostRecv r) {
    Qp qp = qps.get(r.qp());
    if (qp == null) {
      r.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no qp " + r.qp() + " on " + p.name()));
      return this;
    }
    r.replyTo().tell(RdmaProtocol.Reply.of(0, "recv " + r.wr() + " posted on " + r.qp()));
    Recv recv = new Recv(r.wr(), r.mr(), r.offset(), r.length());
    if (qp.state == State.ERROR) {
      cqe(qp.cq, new Cqe(recv.wr(), Status.WR_FLUSH_ERR, Opcode.RECV, 0), qp, null);
    } else if (!qp.waitingForRecv.isEmpty()) {
      bindSend(qp, qp.waitingForRecv.poll(), recv);
    } else {
      qp.recvs.add(recv);
    }
    return this;
  }

  // --- completion queues

  private void cqe(String cqName, Cqe e, Qp qp, Wr wr) {
    if (wr != null) {
      trace.record(TraceRecorder.event(EventKind.WR_END, track(qp)).setId(wr.traceId).setStatus(e.status().code).setName(e.status().text())
          .setBytes(e.bytes()).setDetail(wr.name).setModelNanos(model));
    } else {
      trace.record(TraceRecorder.event(EventKind.MARK, track(qp)).setName("recv " + e.status().text()).setDetail(e.wr())
          .setBytes(e.bytes()).setModelNanos(model));
    }
    Cq cq = cqs.get(cqName);
    if (cq == null) {
      return;
    }
    if (cq.entries.size() >= cq.depth) { // a CQ overrun: the verbs raise IB_EVENT_CQ_ERR; the entry is lost
      trace.record(TraceRecorder.event(EventKind.MARK, p.label() + "/" + cq.name).setName("cq overrun").setDetail(e.wr()));
      return;
    }
    cq.entries.add(e);
    for (Poller pl : List.copyOf(cq.pollers)) {
      if (cq.entries.size() >= pl.min()) {
        cq.pollers.remove(pl);
        timers.cancel(pl.id());
        answer(cq, pl.max(), pl.replyTo());
      }
    }
  }

  private Behavior<Object> onPollCq(RdmaProtocol.PollCq c) {
    Cq cq = cqs.get(c.cq());
    if (cq == null) {
      c.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no cq " + c.cq() + " on " + p.name()));
      return this;
    }
    int min = Math.max(1, c.min());
    int max = c.max() > 0 ? c.max() : 16;
    if (cq.entries.size() >= min || c.waitFor().isZero()) {
      answer(cq, max, c.replyTo());
    } else {
      long id = nextId++;
      cq.pollers.add(new Poller(id, max, min, c.replyTo()));
      timers.startSingleTimer(id, new PollTimeout(id), c.waitFor());
    }
    return this;
  }

  private void answer(Cq cq, int max, ActorRef<RdmaProtocol.Reply> replyTo) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    List<String> order = new ArrayList<>();
    while (order.size() < max && !cq.entries.isEmpty()) {
      Cqe e = cq.entries.poll();
      order.add(e.wr());
      out.put(e.wr(), e.status().text());
      if (e.opcode() == Opcode.RECV) {
        out.put("bytes:" + e.wr(), Long.toString(e.bytes()));
      }
    }
    out.put("order", String.join(",", order));
    replyTo.tell(new RdmaProtocol.Reply(order.size(), out, order.isEmpty() ? "no completion"
        : order.size() + " completions: " + order.stream().map(w -> w + " " + out.get(w)).toList()));
  }
}
