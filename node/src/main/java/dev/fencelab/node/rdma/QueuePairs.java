package dev.fencelab.node.rdma;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.rdma.CompletionQueues.Cqe;
import dev.fencelab.node.rdma.QueuePair.Recv;
import dev.fencelab.node.rdma.QueuePair.State;
import dev.fencelab.node.rdma.QueuePair.Wr;
import dev.fencelab.node.rdma.Verbs.Opcode;
import dev.fencelab.node.rdma.Verbs.Status;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The reliable-connected queue pairs of one NIC: connection, the requester (a send queue run in order, one work
 * request at a time, a window of chunks in flight, the transport's timeout) and the responder (rkey, PD, bounds and
 * access checks, receives for SENDs, READ responses streamed back), the error state that flushes, and a peer's death.
 * The responder's half is {@link Responder}. Part of {@link RdmaNic}.
 */
final class QueuePairs {
  /** The transport timer of {@code qp} fired: if its work requests made no progress for the call timeout, it gives up. */
  record WrTimeout(String qp) implements NoSerializationVerificationNeeded {}

  private final ActorContext<Object> ctx;
  private final RdmaNic.Params p;
  private final NicClock clock;
  private final TraceRecorder trace;
  private final TimerScheduler<Object> timers;
  private final ActorRef<Object> self;
  private final Set<String> pds;
  private final MemoryRegions mrs;
  private final CompletionQueues cqs;
  private final Map<String, QueuePair> qps = new HashMap<>();
  private final Responder responder;
  private final Set<ActorRef<Object>> watched = new HashSet<>();

  QueuePairs(ActorContext<Object> ctx, RdmaNic.Params p, NicClock clock, TraceRecorder trace, TimerScheduler<Object> timers,
      Set<String> pds, MemoryRegions mrs, CompletionQueues cqs) {
    this.ctx = ctx;
    this.p = p;
    this.clock = clock;
    this.trace = trace;
    this.timers = timers;
    this.self = ctx.getSelf();
    this.pds = pds;
    this.mrs = mrs;
    this.cqs = cqs;
    this.responder = new Responder(this, clock, trace, mrs, self);
  }

  void create(RdmaProtocol.CreateQp c) {
    if (!pds.contains(c.pd()) || !cqs.exists(c.cq())) {
      c.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no pd " + c.pd() + " or cq " + c.cq() + " on " + p.name()));
    } else {
      qps.put(c.name(), new QueuePair(c.name(), c.pd(), c.cq()));
      c.replyTo().tell(RdmaProtocol.Reply.of(0, "rc qp " + c.name() + " on " + p.name() + " (INIT)"));
    }
  }

  void timedOut(WrTimeout t) {
    QueuePair qp = qps.get(t.qp());
    if (qp == null) {
      return;
    }
    qp.timerArmed = false;
    long idle = System.nanoTime() - qp.progressAt;
    if (!qp.inFlight.isEmpty() && idle < p.callTimeout().toNanos()) { // it moved since: the timeout counts from then
      arm(qp, java.time.Duration.ofNanos(p.callTimeout().toNanos() - idle));
      return;
    }
    Wr head = firstUnfinished(qp);
    if (head != null) {
      if (trace.enabled()) { // nothing built per work request when tracing is off
        trace.record(TraceRecorder.event(EventKind.MARK, track(qp)).setName("transport timeout").setDetail(head.name
            + ": no acknowledgement from " + qp.peerQp + " for " + p.callTimeout().toMillis() + " ms"));
      }
      complete(qp, head, Status.RETRY_EXC_ERR);
    }
  }

  /** The oldest work request in flight that has not ended, or null. */
  private static Wr firstUnfinished(QueuePair qp) {
    return qp.inFlight.values().stream().filter(w -> !w.finished).findFirst().orElse(null);
  }

  /** A completion into the QP's CQ, traced: the end of a work request's slice, or a receive's mark. */
  void cqe(String cq, Cqe e, QueuePair qp, Wr wr) {
    if (wr != null) {
      if (trace.enabled()) { // nothing built per work request when tracing is off
        trace.record(TraceRecorder.event(EventKind.WR_END, track(qp)).setId(wr.traceId).setStatus(e.status().code).setName(e.status().text())
            .setBytes(e.bytes()).setDetail(wr.name).setSubject(qp.peerQp == null ? "" : qp.peerQp).setResult(wr.psn)
            .setModelNanos(clock.model()));
      }
    } else {
      if (trace.enabled()) { // nothing built per work request when tracing is off
        trace.record(TraceRecorder.event(EventKind.MARK, track(qp)).setName("recv " + e.status().text()).setDetail(e.wr())
            .setBytes(e.bytes()).setModelNanos(clock.model()));
      }
    }
    cqs.add(cq, e);
  }

  // --- queue pairs: connection

  void connectQp(RdmaProtocol.ConnectQp c) {
    QueuePair qp = qps.get(c.qp());
    if (qp == null || qp.peer != null) {
      c.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), qp == null ? "no qp " + c.qp() + " on " + p.name()
          : "qp " + c.qp() + " is connected already"));
      return;
    }
    ctx.ask(RdmaProtocol.Connected.class, c.peer(), p.callTimeout(), to -> new RdmaProtocol.Connect(c.peerQp(), c.qp(), self, to),
        (res, failure) -> new RdmaNic.Continue(() -> {
          int result = res == null ? Errno.ETIMEDOUT.negative() : res.result();
          if (result == 0) {
            connect(qp, c.peer(), c.peerQp());
          }
          c.replyTo().tell(RdmaProtocol.Reply.of(result, result == 0 ? "qp " + c.qp() + " <-> " + c.peerQp() + " (RTS)"
              : "connect: " + (res == null ? "the peer NIC did not answer" : res.detail())));
        }));
  }

  void connectFrom(RdmaProtocol.Connect c) {
    QueuePair qp = qps.get(c.qp());
    if (qp == null || (qp.peer != null && !(qp.peer.equals(c.from()) && c.fromQp().equals(qp.name)))) {
      c.replyTo().tell(new RdmaProtocol.Connected(Errno.EINVAL.negative(), qp == null ? "no qp " + c.qp() + " on " + p.name()
          : "qp " + c.qp() + " is connected already"));
      return;
    }
    connect(qp, c.from(), c.fromQp());
    c.replyTo().tell(new RdmaProtocol.Connected(0, ""));
  }

  private void connect(QueuePair qp, ActorRef<Object> peer, String peerQp) {
    qp.peer = peer;
    qp.peerQp = peerQp;
    qp.state = State.RTS;
    if (!peer.equals(self) && watched.add(peer)) {
      ctx.watch(peer);
    }
  }

  /** The peer NIC's member died: its QPs' active work requests exhaust their retries; the rest is flushed. */
  void peerGone(Terminated t) {
    for (QueuePair qp : qps.values()) {
      if (t.getRef().equals(qp.peer)) {
        qp.peerDead = true;
        qp.inbound.clear();
        qp.reads.clear();
        responder.abandon(qp);
        Wr head = firstUnfinished(qp);
        if (head != null) {
          clock.observe(clock.model() + RdmaNic.RETRY_EXCEEDED_NANOS);
          complete(qp, head, Status.RETRY_EXC_ERR);
        }
      }
    }
  }

  // --- the requester

  void postSend(RdmaProtocol.PostSend s) {
    QueuePair qp = qps.get(s.qp());
    if (qp == null || qp.state == State.INIT) {
      s.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), qp == null ? "no qp " + s.qp() + " on " + p.name()
          : "qp " + s.qp() + " is not connected (not in RTS)"));
      return;
    }
    clock.posted();
    Wr wr = new Wr(s.wr(), s.opcode(), s.mr(), s.offset(), s.length(), s.remoteMr(), s.remoteOffset(), clock.nextId());
    if (trace.enabled()) { // nothing built per work request when tracing is off
      trace.record(TraceRecorder.event(EventKind.WR_BEGIN, track(qp)).setId(wr.traceId).setName(s.opcode().name().toLowerCase())
          .setSubject(qp.peerQp).setBytes(s.length()).setDetail(s.wr()).setModelNanos(clock.model()));
    }
    s.replyTo().tell(RdmaProtocol.Reply.of(0, s.opcode().name().toLowerCase() + " " + s.wr() + " posted on " + s.qp()));
    if (qp.state == State.ERROR) {
      cqe(qp.cq, new Cqe(wr.name, Status.WR_FLUSH_ERR, wr.opcode, 0), qp, wr);
    } else {
      qp.sendQueue.add(wr);
      kick(qp);
    }
  }

  String track(QueuePair qp) {
    return p.label() + "/" + qp.name;
  }

  private boolean kicking;

  /** Starts queued work requests while fewer than {@link RdmaNic#MAX_OUTSTANDING} are in flight. */
  private void kick(QueuePair qp) {
    if (kicking) {
      return; // a start that ended at once (a local error) re-enters here: the loop below goes on
    }
    kicking = true;
    try {
      while (qp.state == State.RTS && qp.inFlight.size() < RdmaNic.MAX_OUTSTANDING && !qp.sendQueue.isEmpty()) {
        Wr wr = qp.sendQueue.poll();
        wr.psn = qp.nextPsn++;
        qp.inFlight.put(wr.psn, wr);
        start(qp, wr);
      }
    } finally {
      kicking = false;
    }
  }

  private void start(QueuePair qp, Wr wr) {
    if (qp.peerDead) { // the transport retries, then gives up
      clock.observe(clock.model() + RdmaNic.RETRY_EXCEEDED_NANOS);
      complete(qp, wr, Status.RETRY_EXC_ERR);
      return;
    }
    int needed = wr.opcode == Opcode.READ ? Verbs.LOCAL_WRITE : 0;
    if (!mrs.usable(wr.mr, qp.pd, wr.offset, wr.length, needed)) { // lkey, PD, bounds, access
      complete(qp, wr, Status.LOC_PROT_ERR);
      return;
    }
    progress(qp, wr);
    if (wr.opcode != Opcode.READ && wr.length > 0 && wr.length <= RdmaNic.MTU) { // one packet: the data rides in the request
      wr.sent = wr.length;
      mrs.read(wr.mr, wr.offset, (int) wr.length, (st, chunks) -> {
        if (wr.finished) {
          return;
        }
        if (st < 0) {
          complete(qp, wr, Status.LOC_PROT_ERR);
          return;
        }
        clock.send(qp.peer, new RdmaProtocol.Request(qp.peerQp, wr.psn, wr.opcode, wr.remoteMr, wr.remoteOffset, wr.length,
            clock.transmit(64 + wr.length, qp.peer), chunks), wr.length);
      });
      return;
    }
    qp.peer.tell(new RdmaProtocol.Request(qp.peerQp, wr.psn, wr.opcode, wr.remoteMr, wr.remoteOffset, wr.length, clock.transmit(64, qp.peer)));
    if (wr.opcode == Opcode.WRITE) {
      pump(qp, wr);
    }
  }

  /**
   * The active work request moved (or started): the transport's timeout starts again. One timer per QP, armed once and
   * pushed back lazily when it fires (not restarted per packet: that was a scheduler call per work request).
   */
  private void progress(QueuePair qp, Wr wr) {
    qp.progressAt = System.nanoTime();
    if (!qp.timerArmed) {
      arm(qp, p.callTimeout());
    }
  }

  private void arm(QueuePair qp, java.time.Duration after) {
    qp.timerArmed = true;
    timers.startSingleTimer(qp.timerKey, new WrTimeout(qp.name), after);
  }

  /** Sends the next chunks of a WRITE or SEND, each read from the local MR, while the window allows. */
  private void pump(QueuePair qp, Wr wr) {
    while (!wr.finished && wr.inflight < RdmaNic.WINDOW && wr.sent < wr.length) {
      long off = wr.sent;
      int n = (int) Math.min(RdmaNic.CHUNK, wr.length - off);
      wr.sent += n;
      wr.inflight++;
      mrs.read(wr.mr, wr.offset + off, n, (st, chunks) -> {
        if (wr.finished) {
          return;
        }
        if (st < 0) {
          complete(qp, wr, Status.LOC_PROT_ERR);
          return;
        }
        clock.send(qp.peer, new RdmaProtocol.Data(qp.peerQp, wr.psn, off, rebase(chunks, off), clock.transmit(n, qp.peer)), n);
      });
    }
  }

  static List<Chunk> rebase(List<Chunk> chunks, long by) {
    if (by == 0) {
      return chunks;
    }
    List<Chunk> out = new java.util.ArrayList<>(chunks.size());
    for (Chunk c : chunks) {
      out.add(c.at(c.offset() + by));
    }
    return out;
  }

  void dataAck(RdmaProtocol.DataAck a) {
    clock.observe(a.modelNanos());
    QueuePair qp = qps.get(a.qp());
    if (qp == null) {
      return;
    }
    if (responder.readCredit(qp, a.psn())) { // the requester took a chunk of our READ response
      return;
    }
    Wr wr = qp.inFlight.get(a.psn());
    if (wr != null && !wr.finished) {
      progress(qp, wr);
      if (a.bytes() == 0) {
        wr.go = true;
      } else {
        wr.inflight--;
      }
      pump(qp, wr);
    }
  }

  void completed(RdmaProtocol.Complete c) {
    ended(qps.get(c.qp()), c.psn(), c.status(), c.modelNanos());
  }

  /** Coalesced ACKs: each as its own {@link RdmaProtocol.Complete}, in the order the responder's work requests ended. */
  void acked(RdmaProtocol.Acks a) {
    QueuePair qp = qps.get(a.qp());
    for (int i = 0; i < a.psns().size(); i++) {
      ended(qp, a.psns().get(i), 0, a.modelNanos().get(i));
    }
  }

  /** The responder's end of the work request {@code psn} (an ACK or a NAK), sent at model time {@code modelNanos}. */
  private void ended(QueuePair qp, long psn, int status, long modelNanos) {
    clock.observe(modelNanos);
    Wr wr = qp == null ? null : qp.inFlight.get(psn);
    if (wr != null && !wr.finished) {
      wr.remoteStatus = status;
      finishIfDone(qp, wr);
    }
  }

  private void finishIfDone(QueuePair qp, Wr wr) {
    if (wr.remoteStatus == null) {
      return;
    }
    if (wr.remoteStatus != Status.SUCCESS.code) {
      complete(qp, wr, Status.of(wr.remoteStatus));
    } else if (wr.opcode != Opcode.READ || wr.written == wr.length) {
      complete(qp, wr, Status.SUCCESS);
    }
  }

  /** A work request ended: it completes into the CQ once every earlier one has (an error flushes the ones after it). */
  private void complete(QueuePair qp, Wr wr, Status status) {
    if (wr.finished) {
      return;
    }
    wr.finished = true;
    wr.result = status;
    if (!qp.inFlight.containsKey(wr.psn)) { // never started (the QP was in error): completes at once
      cqe(qp.cq, new Cqe(wr.name, status, wr.opcode, 0), qp, wr);
      return;
    }
    while (!qp.inFlight.isEmpty()) {
      Wr head = qp.inFlight.values().iterator().next();
      if (!head.finished) {
        break;
      }
      qp.inFlight.remove(head.psn);
      cqe(qp.cq, new Cqe(head.name, head.result, head.opcode, head.result == Status.SUCCESS ? head.length : 0), qp, head);
      if (head.result != Status.SUCCESS) {
        error(qp);
        return;
      }
    }
    kick(qp); // an idle QP's armed timer finds nothing in flight when it fires
  }

  /** The QP enters the error state: every queued work request and posted receive completes flushed. */
  void error(QueuePair qp) {
    qp.state = State.ERROR;
    timers.cancel(qp.timerKey);
    qp.timerArmed = false;
    for (Wr a : List.copyOf(qp.inFlight.values())) {
      a.finished = true;
      cqe(qp.cq, new Cqe(a.name, Status.WR_FLUSH_ERR, a.opcode, 0), qp, a);
    }
    qp.inFlight.clear();
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
    responder.abandon(qp);
  }

  void data(RdmaProtocol.Data d) {
    clock.observe(d.modelNanos());
    QueuePair qp = qps.get(d.qp());
    if (qp == null) {
      return;
    }
    Wr wr = qp.inFlight.get(d.psn());
    if (wr != null && wr.opcode == Opcode.READ && !wr.finished) { // our READ's response
      progress(qp, wr);
      // The window's credit goes back on receipt (the link's flow control); the completion waits for the placement.
      qp.peer.tell(new RdmaProtocol.DataAck(qp.peerQp, d.psn(), d.bytes(), clock.arrival(qp.peer)));
      mrs.write(wr.mr, wr.offset, d.chunks(), st -> {
        if (wr.finished) {
          return;
        }
        if (st < 0) {
          complete(qp, wr, Status.LOC_PROT_ERR);
          return;
        }
        wr.written += d.bytes();
        finishIfDone(qp, wr);
      });
      return;
    }
    responder.data(qp, d);
  }

  void postRecv(RdmaProtocol.PostRecv r) {
    QueuePair qp = qps.get(r.qp());
    if (qp == null) {
      r.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no qp " + r.qp() + " on " + p.name()));
      return;
    }
    r.replyTo().tell(RdmaProtocol.Reply.of(0, "recv " + r.wr() + " posted on " + r.qp()));
    responder.postRecv(qp, new Recv(r.wr(), r.mr(), r.offset(), r.length()));
  }

  void request(RdmaProtocol.Request r) {
    clock.observe(r.modelNanos());
    QueuePair qp = qps.get(r.qp());
    if (qp != null) {
      responder.request(qp, r);
    }
  }
}
