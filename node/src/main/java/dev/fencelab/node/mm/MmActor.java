package dev.fencelab.node.mm;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceWait;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.memory.Content;
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
 * The address space ({@code mm}) of one emulated process: its {@link AddressSpace}, its interval notifiers
 * ({@link IntervalNotifiers}), its {@code mmap_lock} ({@link MmapLock}) and the invalidation rounds in progress
 * ({@link InvalidationRound}). See the package documentation for the contract.
 *
 * <p>Owns: all of that. Talks to: its subscribers (drivers anywhere in the cluster: {@link MmProtocol.Invalidate}), the
 * fences its test notifiers wait on. Watches its remote subscribers: one that dies is dropped from the tree, and a round
 * waiting on its callback goes on (hot unplug of the device that registered it).
 */
public final class MmActor extends AbstractBehavior<MmProtocol.Command> {
  private interface Internal extends MmProtocol.Command, NoSerializationVerificationNeeded {}

  /** A continuation of a call that asked this mm something ({@link Mirrors}). */
  record Continue(Runnable then) implements Internal {}

  private record TestWaited(long round, long interval, WaitResult result) implements Internal {}

  private record CallbackTimeout(long round, long interval) implements Internal {}

  private record ReapAttempt(int attempt, long reaped, ActorRef<Reply> replyTo) implements Internal {}

  /** mm/oom_kill.c: MAX_OOM_REAP_RETRIES attempts, schedule_timeout_idle(HZ/10) between them. */
  static final int MAX_OOM_REAP_RETRIES = 10;
  static final java.time.Duration OOM_REAP_PAUSE = java.time.Duration.ofMillis(100);

  /** One interval and who answers its callbacks: a driver (remote) or a test notifier of the scenario (here). */
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
  private final ActorRef<HostMemory.Command> memory;
  private long reportedResident = -1;
  private final TimerScheduler<MmProtocol.Command> timers;
  private final TraceRecorder trace;
  private final AddressSpace space;
  private final IntervalNotifiers<Runnable> notifiers = new IntervalNotifiers<>();
  private final MmapLock mmapLock;
  /** HMM: device-private memory, migrations, hmm_range_fault, exclusive access (kernel-semantics §1.17). */
  private final DevicePrivateCalls hmm;
  private final Mirrors mirrors;
  private final Map<Long, Subscriber> subscribers = new HashMap<>();
  private final Map<Long, InvalidationRound> rounds = new HashMap<>();
  private final DeviceAccess dma;
  /** The wait-for edge of the callback each round waits for now (op → subscriber). */
  private final Map<Long, Long> callbackEdges = new HashMap<>();
  private final ActorRef<MmProtocol.InvalidateDone> self;
  private long nextRound = 1;
  /** The process exited (exit_mmap ran): its calls fail with -ESRCH, new notifiers too. */
  private boolean exited;
  /** RLIMIT_MEMLOCK in bytes (-1 unlimited): 8 MiB, the kernel's MLOCK_LIMIT since v5.16. */
  private long memlock = 8L << 20;
  private boolean capIpcLock;
  /** {@code mm->pinned_vm}: pages pinned by pinned memory regions (accounted long-term pins). */
  private long pinnedVm;
  private final Map<Long, Long> accountedPins = new HashMap<>();

  /**
   * @param label the process, as traces and violations name it ({@code n1/proc1})
   * @param bytesThreshold mappings up to this size hold real bytes
   */
  public static Behavior<MmProtocol.Command> create(String label, long bytesThreshold, FenceServices services) {
    return create(label, bytesThreshold, services, null);
  }

  /** @param memory the member's physical memory, told of this mm's resident pages (null: not accounted) */
  public static Behavior<MmProtocol.Command> create(String label, long bytesThreshold, FenceServices services,
      ActorRef<HostMemory.Command> memory) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new MmActor(context, timers, label, bytesThreshold, services, memory)));
  }

  private MmActor(ActorContext<MmProtocol.Command> context, TimerScheduler<MmProtocol.Command> timers, String label, long bytesThreshold,
      FenceServices services, ActorRef<HostMemory.Command> memory) {
    super(context);
    this.memory = memory;
    this.label = label;
    this.services = services;
    this.timers = timers;
    this.trace = TraceRecorder.get(context.getSystem());
    this.space = new AddressSpace(bytesThreshold);
    this.dma = new DeviceAccess(space, label, services, trace);
    this.self = context.getSelf().narrow();
    this.mmapLock = new MmapLock("mmap_lock " + label, new MmapLock.Edges() {
      @Override
      public long add(String from, String to, String reason) {
        return edge(from, to, reason);
      }

      @Override
      public void remove(long edge) {
        unedge(edge);
      }
    });
    this.mirrors = new Mirrors(space, context, java.time.Duration.ofSeconds(60));
    this.hmm = new DevicePrivateCalls(space, mmapLock, this::round, trace, label, context, mirrors::movedToRam);
  }

  /** A wait-for edge on this member's graph (the run's deadlock detector sees it); its id removes it. */
  private long edge(String from, String to, String reason) {
    long id = services.nextWaitId();
    services.waits().tell(new dev.fencelab.node.check.WaitGraph.AddEdge(new dev.fencelab.node.check.WaitGraph.Edge(id, from, to, "", reason,
        dev.fencelab.node.fence.Clocks.wallNanos())));
    return id;
  }

  private void unedge(long id) {
    services.waits().tell(new dev.fencelab.node.check.WaitGraph.RemoveEdge(id));
  }

  /** A call of the process as a vertex: {@code n3/P munmap}. */
  private String op(String who) {
    return label + " " + who;
  }

  @Override
  public Receive<MmProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(MmProtocol.Mmap.class, m -> exited, m -> gone(m.replyTo()))
        .onMessage(MmProtocol.Change.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.CpuAccess.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.Migrate.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.MakeExclusive.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.EvictDevicePrivate.class, c -> exited, c -> {
          c.replyTo().tell(new MmProtocol.Result(0, 0));
          return this;
        })
        .onMessage(MmProtocol.HmmFault.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.Dmirror.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.ForkInto.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.Adopt.class, c -> exited, c -> gone(c.replyTo()))
        .onMessage(MmProtocol.InvalidateRange.class, r -> exited, r -> gone(r.replyTo()))
        .onMessage(MmProtocol.OomReap.class, r -> exited, r -> gone(r.replyTo()))
        .onMessage(MmProtocol.RangeFault.class, f -> exited, f -> {
          f.replyTo().tell(new MmProtocol.Faulted(Errno.ESRCH.negative(), List.of()));
          return this;
        })
        .onMessage(MmProtocol.LongTermPin.class, p -> exited, p -> {
          p.replyTo().tell(new MmProtocol.Pinned(Errno.ESRCH.negative(), 0, List.of(), pinnedVm));
          return this;
        })
        .onMessage(MmProtocol.NotifierInsert.class, n -> exited, n -> {
          n.replyTo().tell(new MmProtocol.Inserted(Errno.ESRCH.negative(), 0, 0));
          return this;
        })
        .onMessage(MmProtocol.Mmap.class, this::onMmap)
        .onMessage(MmProtocol.Change.class, this::onChange)
        .onMessage(MmProtocol.CpuAccess.class, this::onCpuAccess)
        .onMessage(MmProtocol.Migrate.class, m -> {
          hmm.migrate(m);
          return this;
        })
        .onMessage(MmProtocol.EvictDevicePrivate.class, e -> {
          hmm.evict(e);
          return this;
        })
        .onMessage(MmProtocol.MakeExclusive.class, x -> {
          hmm.makeExclusive(x);
          return this;
        })
        .onMessage(MmProtocol.HmmFault.class, h -> {
          hmm.hmmFault(h);
          return this;
        })
        .onMessage(MmProtocol.Dmirror.class, d -> {
          mirrors.call(d);
          return this;
        })
        .onMessage(MmProtocol.ForkInto.class, this::onForkInto)
        .onMessage(MmProtocol.Adopt.class, a -> {
          boolean adopted = space.adopt(a.inheritance());
          reportResident();
          a.replyTo().tell(adopted ? Reply.of(0, "fork: the child's address space is a copy of its parent's")
              : Reply.of(Errno.EBUSY.negative(), "fork: the child process has mappings of its own already"));
          return this;
        })
        .onMessage(Continue.class, c -> {
          c.then().run();
          return this;
        })
        .onMessage(MmProtocol.InvalidateRange.class, this::onInvalidateRange)
        .onMessage(MmProtocol.Reclaim.class, this::onReclaim)
        .onMessage(MmProtocol.OomReap.class, r -> {
          if (r.delay().isZero()) {
            reap(new ReapAttempt(1, 0, r.replyTo()));
          } else {
            timers.startSingleTimer(new ReapAttempt(1, 0, r.replyTo()), r.delay());
          }
          return this;
        })
        .onMessage(ReapAttempt.class, a -> {
          reap(a);
          return this;
        })
        .onMessage(MmProtocol.TestInsert.class, this::onTestInsert)
        .onMessage(MmProtocol.TestCall.class, this::onTestCall)
        .onMessage(MmProtocol.NotifierInsert.class, this::onNotifierInsert)
        .onMessage(MmProtocol.NotifierRemove.class, r -> {
          remove(r.interval(), () -> r.replyTo().tell(new MmProtocol.Result(0, 0)));
          return this;
        })
        .onMessage(MmProtocol.ReadBegin.class, this::onReadBegin)
        .onMessage(MmProtocol.RangeFault.class, this::onRangeFault)
        .onMessage(MmProtocol.SetLimits.class, l -> {
          memlock = l.memlock();
          capIpcLock = l.capIpcLock();
          return this;
        })
        .onMessage(MmProtocol.LongTermPin.class, this::onLongTermPin)
        .onMessage(MmProtocol.Unpin.class, u -> {
          space.unpin(u.pin());
          Long pages = accountedPins.remove(u.pin());
          pinnedVm -= pages == null ? 0 : pages;
          u.replyTo().tell(new MmProtocol.Result(0, pinnedVm));
          return this;
        })
        .onMessage(MmProtocol.DmaRead.class, this::onDmaRead)
        .onMessage(MmProtocol.DmaWrite.class, this::onDmaWrite)
        .onMessage(MmProtocol.InvalidateDone.class, d -> {
          trace.observeModel(d.modelNanos()); // the round ends in model time after what its callbacks waited for
          return returned(d.round(), d.interval(), d.ok());
        })
        .onMessage(TestWaited.class, w -> {
          if (w.result() != null) {
            trace.observeModel(w.result().status().modelNanos());
          }
          return returned(w.round(), w.interval(), true);
        })
        .onMessage(CallbackTimeout.class, this::onCallbackTimeout)
        .onSignal(Terminated.class, this::onSubscriberGone)
        .build();
  }

  private Behavior<MmProtocol.Command> gone(ActorRef<Reply> replyTo) {
    replyTo.tell(Reply.of(Errno.ESRCH.negative(), "the process has exited"));
    return this;
  }

  // --- the process's calls

  private Behavior<MmProtocol.Command> onMmap(MmProtocol.Mmap m) {
    String who = op("mmap");
    mmapLock.acquire(true, who, () -> {
      long addr = space.mmap(m.addr(), m.length(), m.prot(), m.shared(), m.fixed());
      mmapLock.release(true, who);
      m.replyTo().tell(new Reply(addr, addr, Map.of(), addr < 0 ? "mmap: " + Errno.describe((int) addr)
          : String.format("mmap 0x%x, %d bytes", addr, m.length())));
    });
    return this;
  }

  private Behavior<MmProtocol.Command> onChange(MmProtocol.Change c) {
    boolean write = c.kind() != MmProtocol.Change.Kind.DONTNEED; // madvise(DONTNEED) takes mmap_lock for read
    String call = c.kind().name().toLowerCase(java.util.Locale.ROOT);
    String who = op(call);
    mmapLock.acquire(write, who, () -> {
      AddressSpace.Plan plan = switch (c.kind()) {
        case MUNMAP -> space.planMunmap(c.addr(), c.length());
        case MPROTECT -> space.planMprotect(c.addr(), c.length(), c.prot());
        case DONTNEED -> space.planDontneed(c.addr(), c.length());
        case FORK -> space.planFork();
        case EXIT -> space.planExit();
      };
      if (plan.errno() != 0) {
        mmapLock.release(write, who);
        c.replyTo().tell(Reply.of(plan.errno(), call + ": " + Errno.describe(plan.errno())));
        return;
      }
      Runnable apply = switch (c.kind()) {
        case MUNMAP -> () -> space.munmap(c.addr(), c.length());
        case MPROTECT -> () -> space.mprotect(c.addr(), c.length(), c.prot());
        case DONTNEED -> () -> space.dontneed(c.addr(), c.length());
        case FORK -> space::fork;
        case EXIT -> space::exit;
      };
      round(plan.ranges(), true, "", call, apply, result -> {
        mmapLock.release(write, who);
        int ret = result != 0 ? result : c.kind() == MmProtocol.Change.Kind.DONTNEED ? space.dontneedResult(c.addr(), c.length()) : 0;
        exited |= c.kind() == MmProtocol.Change.Kind.EXIT;
        c.replyTo().tell(Reply.of(ret, call + (plan.ranges().isEmpty() ? ": nothing to invalidate"
            : ": " + plan.ranges().size() + " range(s) invalidated")));
      });
    });
    return this;
  }

  /**
   * fork() into a child process (copy_mm): under the write lock, the parent's writable private memory becomes
   * copy-on-write (PROTECTION_PAGE over it: a device mirror of the parent loses those pages, an exclusive entry is
   * restored), and the child's mm takes a copy of the mappings and page table. fencelab does not share a device-private
   * page between two address spaces: such pages come back to RAM first (the kernel keeps them on the device, read-only
   * in both).
   */
  private Behavior<MmProtocol.Command> onForkInto(MmProtocol.ForkInto f) {
    String who = op("fork");
    mmapLock.acquire(true, who, () -> hmm.toRam(0, AddressSpace.TASK_SIZE, "fork: device-private pages back to RAM first", () -> {
      AddressSpace.Plan plan = space.planFork();
      AddressSpace.Inheritance[] inherited = {null};
      round(plan.ranges(), true, "", "fork", () -> {
        space.fork();
        inherited[0] = space.inherit();
      }, result -> {
        mmapLock.release(true, who);
        if (result != 0) {
          f.replyTo().tell(Reply.of(result, "fork: " + Errno.describe(result)));
        } else {
          f.child().tell(new MmProtocol.Adopt(inherited[0], f.replyTo()));
        }
      });
    }));
    return this;
  }

  private Behavior<MmProtocol.Command> onCpuAccess(MmProtocol.CpuAccess a) {
    String what = a.write() ? "cpu write" : "cpu read";
    String who = op(what + " page fault");
    mmapLock.acquire(false, who, () -> {
      AddressSpace.Plan plan = space.planAccess(a.addr(), a.length(), a.write(), Errno.EFAULT);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        a.replyTo().tell(Reply.of(plan.errno(), String.format("%s at 0x%x: SIGSEGV", what, a.addr())));
        return;
      }
      long lost = space.lost(a.addr(), a.length());
      if (lost > 0) { // the device that held them died: nothing to migrate back
        mmapLock.release(false, who);
        trace.record(TraceRecorder.event(EventKind.MARK, label).setName("SIGBUS").setBytes(lost * AddressSpace.PAGE)
            .setDetail(String.format("%s at 0x%x: %d device-private page(s) lost with their device", what, a.addr(), lost)));
        a.replyTo().tell(Reply.of(Errno.EFAULT.negative(), String.format("%s at 0x%x: SIGBUS (%d page(s) lost with their device)", what,
            a.addr(), lost)));
        return;
      }
      // device-private pages are not CPU-accessible: the touch faults and migrate_to_ram brings them back, data intact;
      // a device's exclusive access is revoked first
      hmm.revokeExclusive(a.addr(), a.length(), () -> hmm.toRam(a.addr(), a.length(), "migrate_to_ram (cpu touch)", () -> round(plan.ranges(), true, "", "cow break",
          () -> space.fault(a.addr(), a.length(), a.write()), result -> {
        if (a.write()) {
          space.write(a.addr(), a.length(), a.seed());
        }
        String sum = Content.format(space.checksum(a.addr(), a.length()));
        mmapLock.release(false, who);
        a.replyTo().tell(new Reply(0, 0, Map.of("checksum", sum), what + " " + a.length() + " bytes: " + sum));
      })));
    });
    return this;
  }

  private Behavior<MmProtocol.Command> onInvalidateRange(MmProtocol.InvalidateRange r) {
    if (r.end() <= r.start()) {
      r.replyTo().tell(Reply.of(Errno.EINVAL.negative(), "an empty range"));
      return this;
    }
    boolean zaps = r.event() == MmuEvent.UNMAP || r.event() == MmuEvent.CLEAR;
    String who = (r.blockable() ? "" : "nonblock ") + r.event().name().toLowerCase(java.util.Locale.ROOT);
    round(List.of(new Invalidation(r.start(), r.end(), r.event())), r.blockable(), r.owner(), who,
        () -> {
          if (zaps) {
            space.reclaim(r.start(), r.end() - r.start());
          } else if (r.event() == MmuEvent.MIGRATE) {
            space.migrate(r.start(), r.end() - r.start());
          }
        },
        result -> r.replyTo().tell(Reply.of(result, who + (result == 0 ? ": done" : ": " + Errno.describe(result)))));
    return this;
  }

  /**
   * One attempt of the OOM reaper: mmap_read_trylock (fails while a writer holds it), then per private anonymous
   * mapping a non-blockable UNMAP — a mapping whose subscriber would block is skipped, the others are reaped. The
   * attempt succeeds when nothing was skipped; after {@link #MAX_OOM_REAP_RETRIES} the reaper gives up.
   */
  private void reap(ReapAttempt a) {
    if (!mmapLock.tryRead(op("oom_reaper"))) {
      reapFailed(a, a.reaped());
      return;
    }
    List<Invalidation> ranges = space.reapable();
    reapNext(a, ranges, 0, a.reaped(), false);
  }

  private void reapNext(ReapAttempt a, List<Invalidation> ranges, int i, long reaped, boolean skipped) {
    if (i == ranges.size()) {
      mmapLock.release(false, op("oom_reaper"));
      if (skipped) {
        reapFailed(a, reaped);
      } else {
        a.replyTo().tell(new Reply(0, reaped, Map.of("attempts", Integer.toString(a.attempt()), "reaped", Long.toString(reaped)),
            "oom_reaper: reaped " + reaped + " page(s) after " + a.attempt() + " attempt(s)"));
      }
      return;
    }
    Invalidation r = ranges.get(i);
    long[] got = new long[1];
    round(List.of(r), false, "", "oom_reaper", () -> got[0] = space.reap(r.start(), r.end()),
        result -> reapNext(a, ranges, i + 1, reaped + got[0], skipped || result != 0));
  }

  private void reapFailed(ReapAttempt a, long reaped) {
    if (a.attempt() < MAX_OOM_REAP_RETRIES) {
      timers.startSingleTimer(new ReapAttempt(a.attempt() + 1, reaped, a.replyTo()), OOM_REAP_PAUSE);
      return;
    }
    trace.record(TraceRecorder.event(EventKind.MARK, label).setName("oom_reaper: unable to reap")
        .setDetail(MAX_OOM_REAP_RETRIES + " attempts; MMF_OOM_SKIP set: the memory is freed when the process exits"));
    a.replyTo().tell(new Reply(Errno.EAGAIN.negative(), reaped, Map.of("attempts", Integer.toString(a.attempt()),
        "reaped", Long.toString(reaped)), "oom_reaper: unable to reap " + label + " after " + a.attempt() + " attempts"));
  }

  /** Tells the member's memory how many pages this mm has resident, when that changed. */
  private void reportResident() {
    long now = space.residentPages();
    if (memory != null && now != reportedResident) {
      reportedResident = now;
      memory.tell(new HostMemory.Resident(getContext().getSelf(), label, now));
    }
  }

  /** Direct reclaim: unmap every resident page (a blockable CLEAR round per mapping with pages); value = pages freed. */
  private Behavior<MmProtocol.Command> onReclaim(MmProtocol.Reclaim r) {
    long before = space.residentPages();
    List<Invalidation> ranges = space.residentRanges();
    round(ranges, true, "", "reclaim", () -> ranges.forEach(i -> space.reclaim(i.start(), i.end() - i.start())), result -> {
      long freed = before - space.residentPages();
      r.replyTo().tell(new Reply(result, freed, Map.of("freed", Long.toString(freed)), "reclaim: " + freed + " page(s) freed"));
    });
    return this;
  }

  // --- rounds

  private void round(List<Invalidation> ranges, boolean blockable, String owner, String why, Runnable apply, IntConsumer done) {
    long id = nextRound++;
    ranges.forEach(r -> mirrors.invalidated(r.start(), r.end(), r.event(), owner));
    InvalidationRound round = new InvalidationRound(id, ranges, blockable, owner, why, notifiers, host, apply, result -> {
      reportResident(); // the accounting is current before the call returns
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
        callbackEdges.put(round.id, edge(op(round.why), sub.label + " invalidate", round.event() + " invalidate callback"));
      }
      trace.record(TraceRecorder.event(EventKind.NOTIFIER_BEGIN, sub == null ? "?" : sub.label).setId(round.id)
          .setSubject(label).setName(round.event().name()).setDetail(round.why));
      if (sub == null) {
        getContext().getSelf().tell(new TestWaited(round.id, interval.id(), null));
      } else if (sub.remote != null) {
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
          getContext().getSystem().ignoreRef()));
      sub.called = null;
    }
    switch (sub.test) {
      case OK -> getContext().getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, true));
      case REFUSE -> getContext().getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, false));
      case REMOVE_SELF -> {
        // mmu_interval_notifier_remove from inside the callback waits for this invalidation to end, which waits for the
        // callback: the kernel hangs here. Reported; the callback is then taken as returned so that the run goes on.
        services.violation(Violation.Kind.NOTIFIER_REMOVE_SELF_DEADLOCK, sub.label, "mmu_interval_notifier_remove called from its own "
            + "invalidate callback (" + round.event() + " of " + label + "): it waits for the invalidation that waits for it");
        remove(id, () -> {});
        getContext().getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, true));
      }
      case NONBLOCK_REFUSES -> getContext().getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, round.blockable));
      case WAIT_FENCE -> {
        if (!round.blockable) {
          getContext().getSelf().tell(new MmProtocol.InvalidateDone(round.id, id, false));
        } else {
          ActorRef<WaitResult> adapter = getContext().messageAdapter(WaitResult.class, w -> new TestWaited(round.id, id, w));
          getContext().spawnAnonymous(FenceWait.create(sub.fence, null, sub.label + " invalidate", "invalidate " + label, adapter, services));
        }
      }
    }
  }

  private Behavior<MmProtocol.Command> returned(long roundId, long interval, boolean ok) {
    InvalidationRound round = rounds.get(roundId);
    if (round == null || round.calling() == null || round.calling().id() != interval) {
      return this;
    }
    timers.cancel(List.of(roundId, interval));
    Long cb = callbackEdges.remove(roundId);
    if (cb != null) {
      unedge(cb);
    }
    Subscriber sub = subscribers.get(interval);
    trace.record(TraceRecorder.event(EventKind.NOTIFIER_END, sub == null ? "?" : sub.label).setId(roundId).setStatus(ok ? 1 : 0)
        .setSubject(label));
    round.returned(interval, ok);
    return this;
  }

  private Behavior<MmProtocol.Command> onCallbackTimeout(CallbackTimeout t) {
    Subscriber sub = subscribers.get(t.interval());
    services.violation(Violation.Kind.WAIT_CAP_EXCEEDED, sub == null ? label : sub.label,
        "the invalidate callback for " + label + " did not return within the wait cap: the kernel would hang here");
    return returned(t.round(), t.interval(), true);
  }

  private Behavior<MmProtocol.Command> onSubscriberGone(Terminated t) {
    hmm.driverGone(t.getRef());
    List<Long> gone = new ArrayList<>();
    subscribers.forEach((id, s) -> {
      if (s.remote != null && s.remote.equals(t.getRef())) {
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
    return this;
  }

  // --- notifiers

  private Behavior<MmProtocol.Command> onTestInsert(MmProtocol.TestInsert t) {
    IntervalNotifiers.Inserted in = notifiers.insert(t.start(), t.length());
    if (in.errno() != 0) {
      t.replyTo().tell(Reply.of(in.errno(), "mmu_interval_notifier_insert: " + Errno.describe(in.errno())));
      return this;
    }
    Subscriber sub = new Subscriber(in.interval(), label + "/" + t.name(), null, t.callback(), t.fence());
    sub.called = t.called();
    subscribers.put(in.interval().id(), sub);
    t.replyTo().tell(new Reply(0, in.interval().id(), Map.of("seq", Long.toString(in.interval().seq())),
        String.format("notifier %s over 0x%x+%d, seq %d", t.name(), t.start(), t.length(), in.interval().seq())));
    return this;
  }

  private Behavior<MmProtocol.Command> onTestCall(MmProtocol.TestCall c) {
    if (c.call() == MmProtocol.TestCall.Call.SEQ) {
      c.replyTo().tell(new Reply(0, notifiers.invalidateSeq(), Map.of(), "invalidate_seq " + notifiers.invalidateSeq()));
      return this;
    }
    Subscriber sub = subscribers.get(c.notifier());
    if (sub == null) {
      c.replyTo().tell(Reply.of(Errno.ENOENT.negative(), "no such notifier (removed?)"));
      return this;
    }
    switch (c.call()) {
      case READ_BEGIN -> readBegin(sub, (seq, waited) -> c.replyTo().tell(
          new Reply(0, seq, Map.of("waited", Boolean.toString(waited)), "read_begin: seq " + seq + (waited ? " (waited)" : ""))));
      case READ_RETRY -> {
        long seq = c.seq() != 0 ? c.seq() : sub.lastRead;
        boolean retry = notifiers.readRetry(sub.interval, seq);
        c.replyTo().tell(new Reply(0, retry ? 1 : 0, Map.of(), "read_retry(" + seq + "): " + retry));
      }
      case REMOVE -> remove(c.notifier(), () -> c.replyTo().tell(Reply.of(0, "removed")));
      default -> throw new IllegalStateException("unreachable");
    }
    return this;
  }

  private interface SeqThen {
    void seq(long seq, boolean waited);
  }

  private void readBegin(Subscriber sub, SeqThen then) {
    long[] seq = new long[1];
    IntervalNotifiers.ReadBegin r = notifiers.readBegin(sub.interval, () -> then.seq(seq[0], true));
    seq[0] = r.seq();
    sub.lastRead = r.seq();
    if (!r.waits()) {
      then.seq(r.seq(), false);
    }
  }

  private void remove(long id, Runnable then) {
    Subscriber sub = subscribers.get(id);
    if (sub == null) {
      then.run();
      return;
    }
    subscribers.remove(id);
    if (sub.remote != null && subscribers.values().stream().noneMatch(s -> sub.remote.equals(s.remote))) {
      getContext().unwatch(sub.remote);
    }
    if (notifiers.remove(sub.interval, then)) {
      then.run();
    }
  }

  private Behavior<MmProtocol.Command> onNotifierInsert(MmProtocol.NotifierInsert n) {
    IntervalNotifiers.Inserted in = notifiers.insert(n.start(), n.length());
    if (in.errno() == 0) {
      subscribers.put(in.interval().id(), new Subscriber(in.interval(), n.label(), n.subscriber(), null, null));
      getContext().watch(n.subscriber());
    }
    n.replyTo().tell(new MmProtocol.Inserted(in.errno(), in.errno() == 0 ? in.interval().id() : 0,
        in.errno() == 0 ? in.interval().seq() : 0));
    return this;
  }

  private Behavior<MmProtocol.Command> onReadBegin(MmProtocol.ReadBegin r) {
    Subscriber sub = subscribers.get(r.interval());
    if (sub == null) {
      r.replyTo().tell(new MmProtocol.Result(Errno.ENOENT.negative(), 0));
    } else {
      String waiter = r.waiter().isEmpty() ? sub.label + " read_begin" : r.waiter();
      List<Long> waits = new ArrayList<>();
      readBegin(sub, (seq, waited) -> {
        waits.forEach(this::unedge);
        r.replyTo().tell(new MmProtocol.Result(0, seq));
      });
      if (notifiers.readRetry(sub.interval, -1) && sub.interval.seq() == notifiers.invalidateSeq()) { // parked: it waits for the rounds
        rounds.values().forEach(round -> waits.add(edge(waiter, op(round.why), "mmu_interval_read_begin")));
      }
    }
    return this;
  }

  // --- faults and DMA

  private Behavior<MmProtocol.Command> onRangeFault(MmProtocol.RangeFault f) {
    Subscriber sub = subscribers.get(f.interval());
    if (!f.pin() && sub == null) {
      f.replyTo().tell(new MmProtocol.Faulted(Errno.ENOENT.negative(), List.of()));
      return this;
    }
    String who = f.waiter().isEmpty() ? op("hmm_range_fault") : f.waiter();
    mmapLock.acquire(false, who, () -> {
      if (!f.pin() && notifiers.readRetry(sub.interval, f.seq())) { // mmu_interval_check_retry
        mmapLock.release(false, who);
        f.replyTo().tell(new MmProtocol.Faulted(Errno.EBUSY.negative(), List.of()));
        return;
      }
      AddressSpace.Plan plan = space.planAccess(f.start(), f.length(), f.write(), Errno.EPERM);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        f.replyTo().tell(new MmProtocol.Faulted(plan.errno(), List.of()));
        return;
      }
      List<List<Frames>> out = new ArrayList<>();
      long absent = space.absent(f.start(), f.length());
      // a device-private page is no other device's to map: its owner's driver migrates it back to RAM first
      hmm.toRam(f.start(), f.length(), "hmm_range_fault of device-private pages", () -> round(plan.ranges(), true, "", "cow break",
          () -> out.add(space.fault(f.start(), f.length(), f.write())), result -> {
        mmapLock.release(false, who);
        if (!f.pin() && notifiers.readRetry(sub.interval, f.seq())) { // the COW break (or anything) invalidated it meanwhile
          f.replyTo().tell(new MmProtocol.Faulted(Errno.EBUSY.negative(), List.of()));
          return;
        }
        if (f.pin()) {
          space.pin(out.get(0));
        }
        f.replyTo().tell(new MmProtocol.Faulted(0, out.get(0), absent));
      }));
    });
    return this;
  }

  /** {@code ib_umem_get} from the mm's side: accounting against RLIMIT_MEMLOCK, then the long-term pin (§1.16). */
  private Behavior<MmProtocol.Command> onLongTermPin(MmProtocol.LongTermPin p) {
    java.util.function.IntConsumer fail = errno -> p.replyTo().tell(new MmProtocol.Pinned(errno, 0, List.of(), pinnedVm));
    if (memlock == 0 && !capIpcLock) { // can_do_mlock()
      fail.accept(Errno.EPERM.negative());
      return this;
    }
    long first = p.start() & ~(AddressSpace.PAGE - 1);
    long npages = (((p.start() + p.length() + AddressSpace.PAGE - 1) & ~(AddressSpace.PAGE - 1)) - first) / AddressSpace.PAGE;
    if (p.length() == 0 || npages == 0) {
      fail.accept(Errno.EINVAL.negative());
      return this;
    }
    long limit = memlock < 0 ? Long.MAX_VALUE : memlock / AddressSpace.PAGE;
    if (pinnedVm + npages > limit && !capIpcLock) {
      fail.accept(Errno.ENOMEM.negative()); // atomic64_sub: pinned_vm as before
      return this;
    }
    pinnedVm += npages;
    String who = op("pin_user_pages " + p.device());
    mmapLock.acquire(false, who, () -> {
      AddressSpace.Plan plan = space.planAccess(first, npages * AddressSpace.PAGE, p.write(), Errno.EFAULT);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        pinnedVm -= npages;
        fail.accept(plan.errno());
        return;
      }
      List<List<Frames>> out = new ArrayList<>();
      round(plan.ranges(), true, "", "cow break", () -> out.add(space.fault(first, npages * AddressSpace.PAGE, p.write())), result -> {
        mmapLock.release(false, who);
        long pin = space.pin(out.get(0));
        accountedPins.put(pin, npages);
        p.replyTo().tell(new MmProtocol.Pinned(0, pin, out.get(0), pinnedVm));
      });
    });
    return this;
  }

  private Behavior<MmProtocol.Command> onDmaRead(MmProtocol.DmaRead r) {
    r.replyTo().tell(dma.read(r));
    return this;
  }

  private Behavior<MmProtocol.Command> onDmaWrite(MmProtocol.DmaWrite w) {
    w.replyTo().tell(dma.write(w));
    return this;
  }
}
