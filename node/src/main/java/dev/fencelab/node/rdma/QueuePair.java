package dev.fencelab.node.rdma;

import dev.fencelab.node.rdma.Verbs.Opcode;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One reliable-connected queue pair's state: INIT until connected, RTS, ERROR after a failed completion; its peer; the
 * send queue with the work requests in flight; posted receives; and as a responder, the WRITEs and SENDs landing in its
 * MRs, the READs it streams back, and the SENDs waiting for a receive. Touched by {@link QueuePairs} only.
 */
final class QueuePair {
  enum State { INIT, RTS, ERROR }

  static final class Wr {
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
    /** How it ended (set when finished; completed into the CQ once every earlier one is). */
    Verbs.Status result;

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

  record Recv(String wr, String mr, long offset, long length) {}

  /** The responder's side of one WRITE or SEND (bytes landing in {@code mr} at {@code base}), or one READ being streamed. */
  static final class Inbound {
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

  final String name;
  final String pd;
  final String cq;
  State state = State.INIT;
  ActorRef<Object> peer;
  String peerQp;
  boolean peerDead;
  long nextPsn = 1;
  /** Work requests started and not yet completed into the CQ, by PSN, in posting order (completions go in this order). */
  final java.util.LinkedHashMap<Long, Wr> inFlight = new java.util.LinkedHashMap<>();
  /**
   * As a responder: the PSN it NAKed (0: none). The requests before it go on to their end (an RC responder handles them
   * in PSN order, so they came first); later ones are dropped; once the earlier ones are done the QP enters the error state.
   */
  long nakPsn;
  /** As a responder: the trace id of the slice of each request being served, by PSN. */
  final Map<Long, Long> served = new HashMap<>();
  final Deque<Wr> sendQueue = new ArrayDeque<>();
  final Deque<Recv> recvs = new ArrayDeque<>();
  final Map<Long, Inbound> inbound = new HashMap<>();
  final Map<Long, Inbound> reads = new HashMap<>();
  final Deque<RdmaProtocol.Request> waitingForRecv = new ArrayDeque<>();
  /**
   * As a responder: the ACKs not sent yet (coalesced, see {@link Responder}), the PSN and model time of each in the order
   * the work requests ended, and whether a flush of them is queued behind the NIC's mailbox.
   */
  final java.util.List<Long> ackPsns = new java.util.ArrayList<>();
  final java.util.List<Long> ackModelNanos = new java.util.ArrayList<>();
  boolean ackFlushQueued;

  /** The transport timer's key, when the active work requests last moved (System.nanoTime), and whether it is armed. */
  final String timerKey;
  long progressAt;
  boolean timerArmed;

  QueuePair(String name, String pd, String cq) {
    this.timerKey = "wr:" + name;
    this.name = name;
    this.pd = pd;
    this.cq = cq;
  }
}
