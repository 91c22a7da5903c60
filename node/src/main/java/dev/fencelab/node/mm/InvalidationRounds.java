package dev.fencelab.node.mm;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.FenceWaits;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.node.mm.IntervalNotifiers.Interval;
import dev.fencelab.node.mm.MmProtocol.Reply;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The mmu notifier subscriptions of an mm and its invalidation rounds (kernel-semantics §1.14), a part of
 * {@link MmActor} run on its thread: the interval notifiers ({@link IntervalNotifiers}) and who answers each one's
 * callbacks — a driver anywhere in the cluster ({@link MmProtocol.Invalidate}, watched: one that dies is dropped and a
 * round waiting on it goes on) or a test notifier of the scenario, which does what its step said; the notifier API
 * (insert, remove, read_begin, read_retry); and every call's round ({@link InvalidationRound}) from its start through
 * each callback's return to its end, traced, with a callback that never returns bounded by the wait cap.
 */
final class InvalidationRounds {
  /** A test notifier's callback returned (a WAIT_FENCE one once its fence is done; result null: no fence waited). */
  record TestWaited(long round, long interval, WaitResult result) implements MmActor.Internal {}

  /** A driver's callback has not returned within the wait cap. */
  record CallbackTimeout(long round, long interval) implements MmActor.Internal {}

  /** One interval and who answers its callbacks: a driver (remote) or a test notifier of the scenario (here). */
  private final dev.fencelab.node.fence.LinkDelays links;

  private static final class Subscriber {
    final Interval interval;
    final String label;
    final ActorRef<MmProtocol.Invalidate> remote;
    final MmProtocol.TestCallback test;
    final FenceRef fence;
    FenceRef called;
    long lastRead;

    Subscriber(Interval interval, String label, ActorRef<MmProtocol.Invalidate> remote, MmProtocol.TestCallback test, FenceRef fence) {
      this.interval = interval;
      this.label = label;
      this.remote = remote;
      this.test = test;
      this.fence = fence;
      this.lastRead = interval.seq();
    }
  }

  private final String label;
  private final FenceServices services;
  private final TimerScheduler<MmProtocol.Command> timers;
  private final TraceRecorder trace;
  private final ActorContext<MmProtocol.Command> ctx;
  private final WaitEdges edges;
  private final Mirrors mirrors;
  /** Runs after every round, before its caller's continuation (the resident-page accounting is current then). */
  private final Runnable afterRound;
  private final IntervalNotifiers<Runnable> notifiers = new IntervalNotifiers<>();
  private final Map<Long, Subscriber> subscribers = new HashMap<>();
  private final Map<Long, InvalidationRound> rounds = new HashMap<>();
  /** The wait-for edge of the callback each round waits for now (op → subscriber). */
  private final Map<Long, Long> callbackEdges = new HashMap<>();
  private final ActorRef<MmProtocol.InvalidateDone> self;
  private long nextRound = 1;

  InvalidationRounds(String label, FenceServices services, TimerScheduler<MmProtocol.Command> timers, TraceRecorder trace,
      ActorContext<MmProtocol.Command> ctx, WaitEdges edges, Mirrors mirrors, Runnable afterRound) {
    this.label = label;
    this.services = services;
    this.timers = timers;
    this.trace = trace;
    this.ctx = ctx;
    this.links = dev.fencelab.node.fence.LinkDelays.get(ctx.getSystem());
    this.edges = edges;
    this.mirrors = mirrors;
    this.afterRound = afterRound;
    this.self = ctx.getSelf().narrow();
  }

  // --- rounds

  /** One call's invalidation round over {@code ranges}: {@code apply} runs between its start and its end, then {@code done}. */
  void round(List<Invalidation> ranges, boolean blockable, String owner, String why, Runnable apply, IntConsumer done) {
    long id = nextRound++;
    ranges.forEach(r -> mirrors.invalidated(r.start(), r.end(), r.event(), owner));
    InvalidationRound round = new InvalidationRound(id, ranges, blockable, owner, why, notifiers, host, apply, result -> {
      afterRound.run(); // the accounting is current before the call returns
      done.accept(result);
    });
    if (!ranges.isEmpty()) {
      rounds.put(id, round);
      Invalidation first = ranges.get(0);
      trace.record(TraceRecorder.event(EventKind.INVALIDATE_BEGIN, label).setId(id).setName(round.event().name())
          .setSubject(String.format("0x%x-0x%x", first.start(), ranges.get(ranges.size() - 1).end())).setDetail(why));
    }
    round.start();
  }

  private final InvalidationRound.Host host = new InvalidationRound.Host() {
    @Override
    public void call(InvalidationRound round, Interval interval, long seq) {
      Subscriber sub = subscribers.get(interval.id());
      if (sub != null) {
        callbackEdges.put(round.id, edges.add(edges.op(round.why), sub.label + " invalidate", round.event() + " invalidate callback"));
      }
      trace.record(TraceRecorder.event(EventKind.NOTIFIER_BEGIN, sub == null ? "?" : sub.label).setId(round.id)
          .setSubject(label).setName(round.event().name()).setDetail(round.why));
      if (sub == null) {
        ctx.getSelf().tell(new TestWaited(round.id, interval.id(), null));
      } else if (sub.remote != null) {
        round.calledAtModel = trace.modelNow();
        sub.remote.tell(new MmProtocol.Invalidate(round.id, interval.id(), Math.max(interval.start(), round.ranges.get(0).start()),
            Math.min(interval.last() + 1, round.ranges.get(round.ranges.size() - 1).end()), seq, round.event(), round.blockable,
            round.owner, label, self));
        timers.startSingleTimer(List.of(round.id, interval.id()), new CallbackTimeout(round.id, interval.id()),
            services.waitCap().plusSeconds(10));
      } else {
        testCallback(round, sub);
      }
    }

    @Override
    public void wake(List<Runnable> woken) {
      woken.forEach(Runnable::run);
    }

    @Override
    public void warnRefused(InvalidationRound round, Interval interval) {
      Subscriber sub = subscribers.get(interval.id());
      services.violation(Violation.Kind.NOTIFIER_REFUSED_BLOCKABLE, sub == null ? label : sub.label,
          "the invalidate callback returned false on a blockable " + round.event() + " range of " + label + " (" + round.why + ")");
    }

    @Override
    public void ended(InvalidationRound round, int result) {
      if (rounds.remove(round.id) != null) {
        trace.record(TraceRecorder.event(EventKind.INVALIDATE_END, label).setId(round.id).setStatus(result)
            .setDetail(round.callbacks() + " callback(s), " + (System.nanoTime() - round.startNanos) / 1000 + " us"));
      }
    }
  };

  /** A test notifier's callback: what its scenario step said it does. */
  private void testCallback(InvalidationRound round, Subscriber sub) {
    long id = sub.interval.id();
    if (sub.called != null) { // the first call signals it (once: a second signal would be the contract violation)
      sub.called.owner().tell(new dev.fencelab.node.fence.FenceTimeline.SignalFence(sub.called.id().seqno(), 0, 0,
          ctx.getSystem().ignoreRef()));
      sub.called = null;
    }
    switch (sub.test) {
      case OK -> ctx.getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, true));
      case REFUSE -> ctx.getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, false));
      case REMOVE_SELF -> {
        // mmu_interval_notifier_remove from inside the callback waits for this invalidation to end, which waits for the
        // callback: the kernel hangs here. Reported; the callback is then taken as returned so that the run goes on.
        services.violation(Violation.Kind.NOTIFIER_REMOVE_SELF_DEADLOCK, sub.label, "mmu_interval_notifier_remove called from its own "
            + "invalidate callback (" + round.event() + " of " + label + "): it waits for the invalidation that waits for it");
        remove(id, () -> {});
        ctx.getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, true));
      }
      case NONBLOCK_REFUSES -> ctx.getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, round.blockable));
      case WAIT_FENCE -> {
        if (!round.blockable) {
          ctx.getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, false));
        } else {
          ActorRef<WaitResult> adapter = ctx.messageAdapter(WaitResult.class, w -> new TestWaited(round.id, id, w));
          FenceWaits.start(ctx, sub.fence, null, sub.label + " invalidate", "invalidate " + label, -1, adapter, services);
        }
      }
    }
  }

  /**
   * A driver's callback returned. The round ends in model time after what its callbacks waited for — and, over a
   * delayed link ({@code link_delay}), after the call and its answer crossed it.
   */
  void invalidateDone(MmProtocol.InvalidateDone d) {
    InvalidationRound round = rounds.get(d.round());
    Subscriber sub = round == null || round.calling() == null ? null : subscribers.get(round.calling().id());
    long link = sub == null || sub.remote == null ? 0 : links.latency(sub.remote.path().address());
    trace.observeModel(link == 0 ? d.modelNanos() : Math.max(d.modelNanos(), round.calledAtModel + link) + link);
    returned(d.round(), d.interval(), d.ok());
  }

  void testWaited(TestWaited w) {
    if (w.result() != null) {
      trace.observeModel(w.result().status().modelNanos());
    }
    returned(w.round(), w.interval(), true);
  }

  private void returned(long roundId, long interval, boolean ok) {
    InvalidationRound round = rounds.get(roundId);
    if (round == null || round.calling() == null || round.calling().id() != interval) {
      return;
    }
    timers.cancel(List.of(roundId, interval));
    Long cb = callbackEdges.remove(roundId);
    if (cb != null) {
      edges.remove(cb);
    }
    Subscriber sub = subscribers.get(interval);
    trace.record(TraceRecorder.event(EventKind.NOTIFIER_END, sub == null ? "?" : sub.label).setId(roundId).setStatus(ok ? 1 : 0)
        .setSubject(label));
    round.returned(interval, ok);
  }

  void callbackTimeout(CallbackTimeout t) {
    Subscriber sub = subscribers.get(t.interval());
    services.violation(Violation.Kind.WAIT_CAP_EXCEEDED, sub == null ? label : sub.label,
        "the invalidate callback for " + label + " did not return within the wait cap: the kernel would hang here");
    returned(t.round(), t.interval(), true);
  }

  /** A watched driver died: its notifiers are dropped, and a round waiting on one of its callbacks goes on. */
  void subscriberGone(ActorRef<?> ref) {
    List<Long> gone = new ArrayList<>();
    subscribers.forEach((id, s) -> {
      if (s.remote != null && s.remote.equals(ref)) {
        gone.add(id);
      }
    });
    for (long id : gone) {
      Subscriber s = subscribers.remove(id);
      notifiers.remove(s.interval, () -> {});
      trace.record(TraceRecorder.event(EventKind.MARK, label).setName("notifier dropped")
          .setSubject(s.label).setDetail("its subscriber is gone (device unplugged or its member died)"));
      for (InvalidationRound r : List.copyOf(rounds.values())) {
        if (r.calling() != null && r.calling().id() == id) {
          returned(r.id, id, true);
        }
      }
    }
  }

  // --- notifiers

  void testInsert(MmProtocol.TestInsert t) {
    IntervalNotifiers.Inserted in = notifiers.insert(t.start(), t.length());
    if (in.errno() != 0) {
      t.replyTo().tell(Reply.of(in.errno(), "mmu_interval_notifier_insert: " + Errno.describe(in.errno())));
      return;
    }
    Subscriber sub = new Subscriber(in.interval(), label + "/" + t.name(), null, t.callback(), t.fence());
    sub.called = t.called();
    subscribers.put(in.interval().id(), sub);
    t.replyTo().tell(new Reply(0, in.interval().id(), Map.of("seq", Long.toString(in.interval().seq())),
        String.format("notifier %s over 0x%x+%d, seq %d", t.name(), t.start(), t.length(), in.interval().seq())));
  }

  void testCall(MmProtocol.TestCall c) {
    if (c.call() == MmProtocol.TestCall.Call.SEQ) {
      c.replyTo().tell(new Reply(0, notifiers.invalidateSeq(), Map.of(), "invalidate_seq " + notifiers.invalidateSeq()));
      return;
    }
    Subscriber sub = subscribers.get(c.notifier());
    if (sub == null) {
      c.replyTo().tell(Reply.of(Errno.ENOENT.negative(), "no such notifier (removed?)"));
      return;
    }
    switch (c.call()) {
      case READ_BEGIN -> readBeginOf(sub, (seq, waited) -> c.replyTo().tell(
          new Reply(0, seq, Map.of("waited", Boolean.toString(waited)), "read_begin: seq " + seq + (waited ? " (waited)" : ""))));
      case READ_RETRY -> {
        long seq = c.seq() != 0 ? c.seq() : sub.lastRead;
        boolean retry = notifiers.readRetry(sub.interval, seq);
        c.replyTo().tell(new Reply(0, retry ? 1 : 0, Map.of(), "read_retry(" + seq + "): " + retry));
      }
      case REMOVE -> remove(c.notifier(), () -> c.replyTo().tell(Reply.of(0, "removed")));
      default -> throw new IllegalStateException("unreachable");
    }
  }

  private interface SeqThen {
    void seq(long seq, boolean waited);
  }

  private void readBeginOf(Subscriber sub, SeqThen then) {
    long[] seq = new long[1];
    IntervalNotifiers.ReadBegin r = notifiers.readBegin(sub.interval, () -> then.seq(seq[0], true));
    seq[0] = r.seq();
    sub.lastRead = r.seq();
    if (!r.waits()) {
      then.seq(r.seq(), false);
    }
  }

  void notifierRemove(MmProtocol.NotifierRemove r) {
    remove(r.interval(), () -> r.replyTo().tell(new MmProtocol.Result(0, 0)));
  }

  /** mmu_interval_notifier_remove: {@code then} runs once no invalidation that saw the notifier runs any more. */
  private void remove(long id, Runnable then) {
    Subscriber sub = subscribers.get(id);
    if (sub == null) {
      then.run();
      return;
    }
    subscribers.remove(id);
    if (sub.remote != null && subscribers.values().stream().noneMatch(s -> sub.remote.equals(s.remote))) {
      ctx.unwatch(sub.remote);
    }
    if (notifiers.remove(sub.interval, then)) {
      then.run();
    }
  }

  void notifierInsert(MmProtocol.NotifierInsert n) {
    IntervalNotifiers.Inserted in = notifiers.insert(n.start(), n.length());
    if (in.errno() == 0) {
      subscribers.put(in.interval().id(), new Subscriber(in.interval(), n.label(), n.subscriber(), null, null));
      ctx.watch(n.subscriber());
    }
    n.replyTo().tell(new MmProtocol.Inserted(in.errno(), in.errno() == 0 ? in.interval().id() : 0,
        in.errno() == 0 ? in.interval().seq() : 0));
  }

  void readBegin(MmProtocol.ReadBegin r) {
    Subscriber sub = subscribers.get(r.interval());
    if (sub == null) {
      r.replyTo().tell(new MmProtocol.Result(Errno.ENOENT.negative(), 0));
    } else {
      String waiter = r.waiter().isEmpty() ? sub.label + " read_begin" : r.waiter();
      List<Long> waits = new ArrayList<>();
      readBeginOf(sub, (seq, waited) -> {
        waits.forEach(edges::remove);
        r.replyTo().tell(new MmProtocol.Result(0, seq));
      });
      if (notifiers.readRetry(sub.interval, -1) && sub.interval.seq() == notifiers.invalidateSeq()) { // parked: it waits for the rounds
        rounds.values().forEach(round -> waits.add(edges.add(waiter, edges.op(round.why), "mmu_interval_read_begin")));
      }
    }
  }

  /** The interval of notifier {@code id}, or null (removed, or never inserted). */
  Interval interval(long id) {
    Subscriber sub = subscribers.get(id);
    return sub == null ? null : sub.interval;
  }

  /** mmu_interval_read_retry / mmu_interval_check_retry: the interval's seq moved past {@code seq}. */
  boolean readRetry(Interval interval, long seq) {
    return notifiers.readRetry(interval, seq);
  }
}
