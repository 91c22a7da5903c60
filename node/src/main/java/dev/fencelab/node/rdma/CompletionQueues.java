package dev.fencelab.node.rdma;

import dev.fencelab.node.rdma.Verbs.Opcode;
import dev.fencelab.node.rdma.Verbs.Status;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The completion queues of one NIC: completions in the order they happened, {@code ibv_poll_cq} answered at once or
 * once enough are there (bounded by the poll's wait), and a CQ overrun when a queue is full. Part of {@link RdmaNic}.
 */
final class CompletionQueues {
  /** One work completion: the work request's name (its wr_id), status, opcode and byte_len. */
  record Cqe(String wr, Status status, Opcode opcode, long bytes) {}

  record PollTimeout(long id) implements NoSerializationVerificationNeeded {}

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

  private final RdmaNic.Params p;
  private final NicClock clock;
  private final TraceRecorder trace;
  private final TimerScheduler<Object> timers;
  private final Map<String, Cq> cqs = new HashMap<>();

  CompletionQueues(RdmaNic.Params p, NicClock clock, TraceRecorder trace, TimerScheduler<Object> timers) {
    this.p = p;
    this.clock = clock;
    this.trace = trace;
    this.timers = timers;
  }

  void create(RdmaProtocol.CreateCq c) {
    cqs.put(c.name(), new Cq(c.name(), c.cqe() > 0 ? c.cqe() : 256));
    c.replyTo().tell(RdmaProtocol.Reply.of(0, "cq " + c.name() + " on " + p.name()));
  }

  boolean exists(String name) {
    return cqs.containsKey(name);
  }

  /** Adds a completion to CQ {@code name}, and answers the pollers it satisfies. */
  void add(String name, Cqe e) {
    Cq cq = cqs.get(name);
    if (cq == null) {
      return;
    }
    if (cq.entries.size() >= cq.depth) { // a CQ overrun: the verbs raise IB_EVENT_CQ_ERR; the entry is lost
      if (trace.enabled()) { // nothing built per work request when tracing is off
        trace.record(TraceRecorder.event(EventKind.MARK, p.label() + "/" + cq.name).setName("cq overrun").setDetail(e.wr()));
      }
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

  void poll(RdmaProtocol.PollCq c) {
    Cq cq = cqs.get(c.cq());
    if (cq == null) {
      c.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no cq " + c.cq() + " on " + p.name()));
      return;
    }
    int min = Math.max(1, c.min());
    int max = c.max() > 0 ? c.max() : 16;
    if (cq.entries.size() >= min || c.waitFor().isZero()) {
      answer(cq, max, c.replyTo());
    } else {
      long id = clock.nextId();
      cq.pollers.add(new Poller(id, max, min, c.replyTo()));
      timers.startSingleTimer(id, new PollTimeout(id), c.waitFor());
    }
  }

  /** A poll's wait ended: it gets what is there (maybe nothing). */
  void timedOut(PollTimeout t) {
    for (Cq cq : cqs.values()) {
      cq.pollers.stream().filter(pl -> pl.id() == t.id()).findFirst().ifPresent(pl -> {
        cq.pollers.remove(pl);
        answer(cq, pl.max(), pl.replyTo());
      });
    }
  }

  private void answer(Cq cq, int max, ActorRef<RdmaProtocol.Reply> replyTo) {
    Map<String, String> out = new LinkedHashMap<>();
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
    String listed = order.stream().limit(16).map(w -> w + " " + out.get(w)).collect(java.util.stream.Collectors.joining(", "));
    replyTo.tell(new RdmaProtocol.Reply(order.size(), out, order.isEmpty() ? "no completion"
        : order.size() + " completions: [" + listed + (order.size() > 16 ? ", … " + (order.size() - 16) + " more" : "") + "]"));
  }
}
