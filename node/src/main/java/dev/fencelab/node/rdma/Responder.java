package dev.fencelab.node.rdma;

import dev.fencelab.node.rdma.CompletionQueues.Cqe;
import dev.fencelab.node.rdma.QueuePair.Inbound;
import dev.fencelab.node.rdma.QueuePair.Recv;
import dev.fencelab.node.rdma.QueuePair.State;
import dev.fencelab.node.rdma.Verbs.Opcode;
import dev.fencelab.node.rdma.Verbs.Status;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The responder's half of the NIC's queue pairs: a request is checked (rkey: the MR exists, is of the QP's PD, in
 * bounds, with {@code remote_write}/{@code remote_read}) or NAKed; a WRITE's or SEND's data is credited on receipt and
 * ACKed once placed; a SEND takes the next posted receive (or waits for one: RNR, retried forever) and a receive too short
 * is LOC_LEN_ERR here and REM_INV_REQ_ERR there; a READ is streamed back within the requester's window. ACKs are
 * coalesced (a run of them in one message), a NAK goes at once behind the ACKs before it. After a NAK the
 * requests before it still end (an RC responder handles them in PSN order), later ones are dropped, then the QP enters
 * the error state. Each request served is a slice in the trace. Part of {@link RdmaNic}, beside {@link QueuePairs}.
 */
final class Responder {
  /**
   * ACKs sent together at most (half the requester's {@link RdmaNic#MAX_OUTSTANDING}: it keeps work requests in flight
   * while the ACK of the first half travels).
   */
  static final int ACK_COALESCE = RdmaNic.MAX_OUTSTANDING / 2;

  private final QueuePairs qps;
  private final NicClock clock;
  private final TraceRecorder trace;
  private final MemoryRegions mrs;
  private final ActorRef<Object> self;

  Responder(QueuePairs qps, NicClock clock, TraceRecorder trace, MemoryRegions mrs, ActorRef<Object> self) {
    this.qps = qps;
    this.clock = clock;
    this.trace = trace;
    this.mrs = mrs;
    this.self = self;
  }

  void request(QueuePair qp, RdmaProtocol.Request r) {
    if (!accepts(qp, r.psn())) {
      return; // dropped: the requester's transport retries and gives up (or its QP is flushed after the NAK)
    }
    long id = clock.nextId(); // the responder's side of the work request, as a slice the requester's points to
    qp.served.put(r.psn(), id);
    if (trace.enabled()) { // nothing built per work request when tracing is off
      trace.record(TraceRecorder.event(EventKind.WR_BEGIN, qps.track(qp)).setId(id).setName("serve " + r.opcode().name().toLowerCase())
          .setSubject(qp.peerQp).setResult(r.psn()).setBytes(r.length()).setModelNanos(clock.model()));
    }
    switch (r.opcode()) {
      case WRITE -> {
        if (!mrs.usable(r.mr(), qp.pd, r.offset(), r.length(), Verbs.REMOTE_WRITE)) {
          nak(qp, r.psn(), Status.REM_ACCESS_ERR);
        } else if (r.length() == 0) {
          respond(qp, r.psn(), 0);
        } else if (!r.inline().isEmpty()) {
          placeInline(qp, r, r.mr(), r.offset(), null);
        } else {
          qp.inbound.put(r.psn(), new Inbound(r.mr(), r.offset(), r.length(), null));
        }
      }
      case READ -> {
        if (!mrs.usable(r.mr(), qp.pd, r.offset(), r.length(), Verbs.REMOTE_READ)) {
          nak(qp, r.psn(), Status.REM_ACCESS_ERR);
        } else {
          Inbound read = new Inbound(r.mr(), r.offset(), r.length(), null);
          read.messages = (int) ((r.length() + RdmaNic.CHUNK - 1) / RdmaNic.CHUNK);
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
  }

  private void bindSend(QueuePair qp, RdmaProtocol.Request r, Recv recv) {
    if (recv.length() < r.length()) {
      qps.cqe(qp.cq, new Cqe(recv.wr(), Status.LOC_LEN_ERR, Opcode.RECV, 0), qp, null);
      nak(qp, r.psn(), Status.REM_INV_REQ_ERR);
      return;
    }
    if (!mrs.usable(recv.mr(), qp.pd, recv.offset(), r.length(), Verbs.LOCAL_WRITE)) {
      qps.cqe(qp.cq, new Cqe(recv.wr(), Status.LOC_PROT_ERR, Opcode.RECV, 0), qp, null);
      nak(qp, r.psn(), Status.REM_OP_ERR);
      return;
    }
    if (r.length() == 0) {
      qps.cqe(qp.cq, new Cqe(recv.wr(), Status.SUCCESS, Opcode.RECV, 0), qp, null);
      respond(qp, r.psn(), 0);
      return;
    }
    if (!r.inline().isEmpty()) {
      placeInline(qp, r, recv.mr(), recv.offset(), recv);
      return;
    }
    qp.inbound.put(r.psn(), new Inbound(recv.mr(), recv.offset(), r.length(), recv));
    qp.peer.tell(new RdmaProtocol.DataAck(qp.peerQp, r.psn(), 0, clock.arrival(qp.peer)));
  }

  /** A one-packet WRITE or SEND: its data placed at {@code base} of {@code mr}, then the ACK (or a NAK). */
  private void placeInline(QueuePair qp, RdmaProtocol.Request r, String mr, long base, Recv recv) {
    Inbound in = new Inbound(mr, base, r.length(), recv);
    qp.inbound.put(r.psn(), in);
    mrs.write(mr, base, r.inline(), st -> {
      if (qp.inbound.get(r.psn()) != in) {
        return;
      }
      qp.inbound.remove(r.psn());
      if (st < 0) {
        if (recv != null) {
          qps.cqe(qp.cq, new Cqe(recv.wr(), Status.LOC_PROT_ERR, Opcode.RECV, 0), qp, null);
        }
        nak(qp, r.psn(), Status.REM_ACCESS_ERR);
        return;
      }
      if (recv != null) {
        qps.cqe(qp.cq, new Cqe(recv.wr(), Status.SUCCESS, Opcode.RECV, r.length()), qp, null);
      }
      respond(qp, r.psn(), 0);
      errorOnceEarlierDone(qp);
    });
  }

  /**
   * The responder's answer to the request of {@code psn}: the ACK (0) or a NAK (an ib_wc_status), and its slice ends. An
   * ACK is coalesced with the ones after it ({@link #ack}); a NAK first sends the ACKs before it, then goes at once.
   */
  private void respond(QueuePair qp, long psn, int status) {
    if (status == 0) {
      ack(qp, psn, clock.arrival(qp.peer));
    } else {
      flushAcks(qp);
      qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, psn, status, clock.arrival(qp.peer)));
    }
    Long id = qp.served.remove(psn);
    if (id != null) {
      if (trace.enabled()) { // nothing built per work request when tracing is off
        trace.record(TraceRecorder.event(EventKind.WR_END, qps.track(qp)).setId(id).setStatus(status).setName(Status.of(status).text())
            .setSubject(qp.peerQp).setResult(psn).setModelNanos(clock.model()));
      }
    }
  }

  /**
   * An ACK, coalesced as a real RC responder's are: it waits for the ACKs of the requests this NIC is handling right
   * now — sent once {@link #ACK_COALESCE} are pending, or when the NIC has handled the messages already in its mailbox
   * (a flush queued behind them), so an ACK never waits for traffic that may not come. Each keeps the model time it
   * was sent at; the requester handles them as separate ACKs, in order.
   */
  private void ack(QueuePair qp, long psn, long modelNanos) {
    qp.ackPsns.add(psn);
    qp.ackModelNanos.add(modelNanos);
    if (qp.ackPsns.size() >= ACK_COALESCE) {
      flushAcks(qp);
    } else if (!qp.ackFlushQueued) {
      qp.ackFlushQueued = true;
      self.tell(new RdmaNic.Continue(() -> {
        qp.ackFlushQueued = false;
        flushAcks(qp);
      }));
    }
  }

  /** Sends the pending ACKs of {@code qp}: one as a {@link RdmaProtocol.Complete}, several as one {@link RdmaProtocol.Acks}. */
  void flushAcks(QueuePair qp) {
    if (qp.ackPsns.isEmpty()) {
      return;
    }
    if (qp.ackPsns.size() == 1) {
      qp.peer.tell(new RdmaProtocol.Complete(qp.peerQp, qp.ackPsns.get(0), 0, qp.ackModelNanos.get(0)));
    } else {
      qp.peer.tell(new RdmaProtocol.Acks(qp.peerQp, qp.ackPsns, qp.ackModelNanos));
    }
    qp.ackPsns.clear();
    qp.ackModelNanos.clear();
  }

  /** A NAK: the requester's work request completes with {@code status}; this QP enters the error state. */
  private void nak(QueuePair qp, long psn, Status status) {
    respond(qp, psn, status.code);
    if (qp.nakPsn == 0 || psn < qp.nakPsn) {
      qp.nakPsn = psn;
    }
    qp.inbound.keySet().removeIf(k -> k > qp.nakPsn);
    qp.reads.keySet().removeIf(k -> k > qp.nakPsn);
    qp.inbound.remove(psn);
    qp.reads.remove(psn);
    errorOnceEarlierDone(qp);
  }

  /** After a NAK: the error state, once every request before the NAKed one has ended. */
  private void errorOnceEarlierDone(QueuePair qp) {
    if (qp.nakPsn != 0 && qp.state == State.RTS && qp.inbound.isEmpty() && qp.reads.isEmpty()) {
      qps.error(qp);
    }
  }

  /** Whether a responder takes a request or data of {@code psn}: connected, and not after a NAK. */
  private static boolean accepts(QueuePair qp, long psn) {
    return qp.state == State.RTS && (qp.nakPsn == 0 || psn < qp.nakPsn);
  }

  /** Streams a READ response: chunks read from the MR, while the requester's window allows; then the completion. */
  private void pumpRead(QueuePair qp, long psn, Inbound read) {
    if (read.length == 0) {
      qp.reads.remove(psn);
      respond(qp, psn, 0);
      return;
    }
    while (read.inflight < RdmaNic.WINDOW && read.sent < read.length) {
      long off = read.sent;
      int n = (int) Math.min(RdmaNic.CHUNK, read.length - off);
      read.sent += n;
      read.inflight++;
      mrs.read(read.mr, read.base + off, n, (st, chunks) -> {
        if (qp.reads.get(psn) != read) {
          return;
        }
        if (st < 0) {
          qp.reads.remove(psn);
          nak(qp, psn, Status.REM_ACCESS_ERR);
          return;
        }
        clock.send(qp.peer, new RdmaProtocol.Data(qp.peerQp, psn, off, QueuePairs.rebase(chunks, off), clock.transmit(n, qp.peer)), n);
        if (++read.sentMessages == read.messages) {
          qp.reads.remove(psn);
          respond(qp, psn, 0);
          errorOnceEarlierDone(qp);
        }
      });
    }
  }

  /** Data of a WRITE or SEND this QP is serving: credit on receipt, placed, the ACK once every byte is. */
  void data(QueuePair qp, RdmaProtocol.Data d) {
    Inbound in = qp.inbound.get(d.psn());
    if (in == null) {
      return;
    }
    qp.peer.tell(new RdmaProtocol.DataAck(qp.peerQp, d.psn(), d.bytes(), clock.arrival(qp.peer))); // credit on receipt
    mrs.write(in.mr, in.base, d.chunks(), st -> {
      if (qp.inbound.get(d.psn()) != in) {
        return;
      }
      if (st < 0) {
        qp.inbound.remove(d.psn());
        if (in.recv != null) {
          qps.cqe(qp.cq, new Cqe(in.recv.wr(), Status.LOC_PROT_ERR, Opcode.RECV, 0), qp, null);
        }
        nak(qp, d.psn(), Status.REM_ACCESS_ERR);
        return;
      }
      in.done += d.bytes();
      if (in.done == in.length) { // every byte placed: the ACK that completes the requester's work request
        qp.inbound.remove(d.psn());
        if (in.recv != null) {
          qps.cqe(qp.cq, new Cqe(in.recv.wr(), Status.SUCCESS, Opcode.RECV, in.length), qp, null);
        }
        respond(qp, d.psn(), 0);
        errorOnceEarlierDone(qp);
      }
    });
  }

  /** A receive posted: flushed in the error state, bound to a SEND waiting for one, or queued. */
  void postRecv(QueuePair qp, Recv recv) {
    if (qp.state == State.ERROR) {
      qps.cqe(qp.cq, new Cqe(recv.wr(), Status.WR_FLUSH_ERR, Opcode.RECV, 0), qp, null);
    } else if (!qp.waitingForRecv.isEmpty()) {
      bindSend(qp, qp.waitingForRecv.poll(), recv);
    } else {
      qp.recvs.add(recv);
    }
  }

  /** A window credit for a READ response this QP streams: true if it was one (the next chunks go out). */
  boolean readCredit(QueuePair qp, long psn) {
    Inbound read = qp.reads.get(psn);
    if (read == null) {
      return false;
    }
    read.inflight--;
    pumpRead(qp, psn, read);
    return true;
  }

  /** The requests this QP was serving end unanswered (its error state, or its peer's death): their slices end flushed. */
  void abandon(QueuePair qp) {
    qp.served.forEach((psn, id) -> trace.record(TraceRecorder.event(EventKind.WR_END, qps.track(qp)).setId(id)
        .setStatus(Status.WR_FLUSH_ERR.code).setName("abandoned").setSubject(qp.peerQp).setResult(psn).setModelNanos(clock.model())));
    qp.served.clear();
  }
}
