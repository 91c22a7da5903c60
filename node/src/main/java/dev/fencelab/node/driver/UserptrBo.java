package dev.fencelab.node.driver;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.device.DeviceSpec.UserptrPolicy;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.mm.Frames;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.function.Consumer;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One userptr buffer object (kernel-semantics §1.15): a GPU buffer over a range of a process's anonymous memory, kept
 * valid by an interval notifier on the process's {@code mm} (any member) — its subscriber is this actor, a child of
 * the driver. It holds the notifier lock, the notifier seq as the driver last saw it, and the device's translation
 * (the frames {@code hmm_range_fault} gave it).
 *
 * <ul>
 *   <li>Submission ({@link SubmitFlow}): {@link Validate} — read_begin, then hmm_range_fault with the seq (-EBUSY:
 *       again) — before any lock; then, under the resv locks, {@link LockCheck} takes the notifier lock and checks
 *       read_retry; the job's fence is published into the buffer's resv, and {@link Unlock} drops the lock.
 *   <li>The invalidate callback, by the device's {@link UserptrPolicy}: WAIT takes the notifier lock, sets the seq and
 *       waits for every fence of the buffer's resv (BOOKKEEP) — returning false on a non-blockable range, as amdgpu
 *       does; PREEMPT drops the translation after the preemption time; FAULT drops it at once; PIN never registered;
 *       NONE returns at once and keeps using the old pages (the bug the checks catch).
 *   <li>DMA ({@code ReadRange}/{@code WriteRange} from a job) goes to the {@code mm} through the translation; with no
 *       translation (dropped by an invalidation) the device faults it back first.
 * </ul>
 */
final class UserptrBo extends AbstractBehavior<Object> {
  /** Make the device's translation valid for a submission: the seq it is valid for, or -EFAULT/-EPERM/-EAGAIN/-ENODEV. */
  record Validate(ActorRef<Validated> replyTo) implements NoSerializationVerificationNeeded {}

  record Validated(int result, long seq) implements NoSerializationVerificationNeeded {}

  /**
   * The D4 bug (§3.5): fault the pages from run_job, after the job's fence is published — hmm_range_fault takes
   * mmap_lock, so {@code waiter} (the job) waits for it in the wait-for graph — and map them without the lock/retry.
   */
  record RunJobFault(String waiter, ActorRef<Validated> replyTo) implements NoSerializationVerificationNeeded {}

  /** Take the notifier lock and check read_retry against {@code seq}: ok (lock held) or retry (lock dropped). */
  record LockCheck(long seq, ActorRef<Checked> replyTo) implements NoSerializationVerificationNeeded {}

  record Checked(boolean ok) implements NoSerializationVerificationNeeded {}

  enum Unlock implements NoSerializationVerificationNeeded {
    INSTANCE
  }

  private record Registered(MmProtocol.Inserted inserted, MmProtocol.Faulted pinned, ActorRef<DriverProtocol.BoReply> replyTo,
      int handle) implements NoSerializationVerificationNeeded {}

  private record Step(Runnable then) implements NoSerializationVerificationNeeded {}

  private record Preempted(MmProtocol.Invalidate inv) implements NoSerializationVerificationNeeded {}

  private static final int MAX_RETRIES = 64;

  private final String label;
  private final ActorRef<MmProtocol.Command> mm;
  private final long start;
  private final long length;
  private final UserptrPolicy policy;
  private final Duration preemptTime;
  private final ActorRef<Resv.Command> resv;
  private final FenceServices services;
  private final Duration callTimeout;
  private final boolean skipRetry;
  private final TimerScheduler<Object> timers;
  private long interval;
  private long seq;
  private List<Frames> translation;
  private boolean locked;
  private final Queue<Runnable> lockWaiters = new ArrayDeque<>();
  /** What the last validation faulted, and the seq it is valid for (mapped by a successful {@link LockCheck}). */
  private List<Frames> pending;
  private long pendingSeq;

  static Behavior<Object> create(String label, ActorRef<MmProtocol.Command> mm, long start, long length, dev.fencelab.node.device.DeviceSpec spec,
      ActorRef<Resv.Command> resv, FenceServices services, Duration callTimeout, int handle, ActorRef<DriverProtocol.BoReply> replyTo) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new UserptrBo(context, timers, label, mm, start, length, spec, resv, services, callTimeout, handle, replyTo)));
  }

  private UserptrBo(ActorContext<Object> context, TimerScheduler<Object> timers, String label, ActorRef<MmProtocol.Command> mm, long start,
      long length, dev.fencelab.node.device.DeviceSpec spec, ActorRef<Resv.Command> resv, FenceServices services, Duration callTimeout,
      int handle, ActorRef<DriverProtocol.BoReply> replyTo) {
    super(context);
    UserptrPolicy policy = spec.userptrPolicy();
    Duration preemptTime = spec.preemptTime();
    this.skipRetry = spec.skipRetry();
    this.timers = timers;
    this.label = label;
    this.mm = mm;
    this.start = start;
    this.length = length;
    this.policy = policy;
    this.preemptTime = preemptTime;
    this.resv = resv;
    this.services = services;
    this.callTimeout = callTimeout;
    context.watch(mm);
    if (policy == UserptrPolicy.PIN) { // get_user_pages(FOLL_LONGTERM | FOLL_WRITE): the pages are the device's from now on
      context.ask(MmProtocol.Faulted.class, mm, callTimeout, r -> new MmProtocol.RangeFault(0, 0, start, length, true, true, r),
          (f, failure) -> new Registered(null, f != null ? f : new MmProtocol.Faulted(Errno.ESRCH.negative(), List.of()), replyTo, handle));
    } else {
      ActorRef<MmProtocol.Invalidate> subscriber = context.getSelf().narrow();
      context.ask(MmProtocol.Inserted.class, mm, callTimeout, r -> new MmProtocol.NotifierInsert(subscriber, label, start, length, r),
          (in, failure) -> new Registered(in != null ? in : new MmProtocol.Inserted(Errno.ESRCH.negative(), 0, 0), null, replyTo, handle));
    }
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Registered.class, this::onRegistered)
        .onMessage(Validate.class, v -> {
          validate(0, "", v.replyTo());
          return this;
        })
        .onMessage(RunJobFault.class, r -> {
          validate(0, r.waiter(), getContext().messageAdapter(Validated.class, v -> new Step(() -> {
            if (v.result() == 0) {
              translation = pending; // mapped with no notifier lock and no read_retry: the bug
            }
            r.replyTo().tell(v);
          })));
          return this;
        })
        .onMessage(LockCheck.class, this::onLockCheck)
        .onMessageEquals(Unlock.INSTANCE, () -> {
          unlock();
          return this;
        })
        .onMessage(Step.class, s -> {
          s.then().run();
          return this;
        })
        .onMessage(MmProtocol.Invalidate.class, this::onInvalidate)
        .onMessage(Preempted.class, p -> {
          translation = null;
          unlock();
          p.inv().replyTo().tell(new MmProtocol.InvalidateDone(p.inv().round(), p.inv().interval(), true));
          return this;
        })
        .onMessage(DriverProtocol.ReadRange.class, this::onReadRange)
        .onMessage(DriverProtocol.Layout.class, l -> { // process memory: read in byte chunks, through the translation
          l.replyTo().tell(new DriverProtocol.LayoutReply(0, List.of(new dev.fencelab.node.memory.Content.Extent(l.offset(), l.length(), true))));
          return this;
        })
        .onMessage(DriverProtocol.WriteRange.class, this::onWriteRange)
        .onSignal(org.apache.pekko.actor.typed.Terminated.class, t -> Behaviors.same()) // the process is gone: DMA reports it
        .build();
  }

  private Behavior<Object> onRegistered(Registered r) {
    int result = r.inserted() != null ? r.inserted().result() : r.pinned().result();
    if (result < 0) {
      r.replyTo().tell(new DriverProtocol.BoReply(result, 0));
      return Behaviors.stopped();
    }
    if (r.inserted() != null) {
      interval = r.inserted().interval();
      seq = r.inserted().seq();
    } else {
      translation = r.pinned().frames();
    }
    r.replyTo().tell(new DriverProtocol.BoReply(0, r.handle()));
    return this;
  }

  // --- submission

  private <R> void ask(Class<R> type, java.util.function.Function<ActorRef<R>, MmProtocol.Command> request, Consumer<R> then,
      Runnable failed) {
    getContext().ask(type, mm, callTimeout, request::apply, (r, failure) -> new Step(() -> {
      if (r != null) {
        then.accept(r);
      } else {
        failed.run();
      }
    }));
  }

  /** read_begin, then hmm_range_fault(seq): -EBUSY starts over (the kernel's retry loop), bounded. */
  private void validate(int attempt, String waiter, ActorRef<Validated> replyTo) {
    if (policy == UserptrPolicy.PIN) {
      replyTo.tell(new Validated(0, 0));
      return;
    }
    if (attempt > MAX_RETRIES) {
      replyTo.tell(new Validated(Errno.EAGAIN.negative(), 0));
      return;
    }
    Runnable gone = () -> replyTo.tell(new Validated(Errno.EFAULT.negative(), 0));
    ask(MmProtocol.Result.class, r -> new MmProtocol.ReadBegin(interval, waiter, r), begun -> {
      if (begun.result() < 0) {
        replyTo.tell(new Validated((int) begun.result(), 0));
        return;
      }
      long s = begun.value();
      ask(MmProtocol.Faulted.class, r -> new MmProtocol.RangeFault(interval, s, start, length, true, false, waiter, r), f -> {
        if (f.result() == Errno.EBUSY.negative()) {
          validate(attempt + 1, waiter, replyTo);
        } else if (f.result() < 0) {
          replyTo.tell(new Validated(f.result(), 0));
        } else {
          pending = f.frames();
          pendingSeq = s;
          replyTo.tell(new Validated(0, s));
        }
      }, gone);
    }, gone);
  }

  private Behavior<Object> onLockCheck(LockCheck c) {
    lock(() -> {
      if (skipRetry && policy != UserptrPolicy.PIN && seq != c.seq()) {
        services.violation(Violation.Kind.USERPTR_PUBLISHED_WITHOUT_RETRY, label, "a job was published over the userptr without "
            + "mmu_interval_read_retry: the notifier seq moved from " + c.seq() + " to " + seq + " since the pages were faulted");
        translation = pending; // the stale pages the fault returned: the device will use them
        c.replyTo().tell(new Checked(true));
        return;
      }
      if (policy != UserptrPolicy.PIN && seq != c.seq()) { // mmu_interval_read_retry: an invalidation came in between
        unlock();
        c.replyTo().tell(new Checked(false));
        return;
      }
      if (policy != UserptrPolicy.PIN && pendingSeq == c.seq() && pending != null) {
        translation = pending; // program the device's page tables: valid until the next invalidation
      }
      c.replyTo().tell(new Checked(true));
    });
    return this;
  }

  /**
   * What lockdep sees of the wait policy's callback (amdgpu's shape, kernel-semantics §1.18 V4, §3.4): the mmu-notifier
   * map is held by the invalidation, the callback takes the driver's notifier lock and waits for the buffer's fences
   * while holding it.
   */
  private void annotateWaitingCallback() {
    var lockdep = dev.fencelab.node.lockdep.Lockdep.get(getContext().getSystem());
    if (!lockdep.enabled()) {
      return;
    }
    var task = lockdep.task(label + " userptr notifier");
    String what = label + " invalidate callback";
    task.acquire(dev.fencelab.protocol.lockdep.LockClass.MMU_NOTIFIER, false, false, what + " (mmu_notifier_invalidate_range_start)");
    task.acquire(dev.fencelab.protocol.lockdep.LockClass.NOTIFIER_LOCK, false, false, what + ": mutex_lock(notifier_lock)");
    task.mightWait(what + ": dma_resv_wait_timeout(BOOKKEEP) holding notifier_lock");
  }

  private void lock(Runnable then) {
    if (locked) {
      lockWaiters.add(then);
    } else {
      locked = true;
      then.run();
    }
  }

  private void unlock() {
    Runnable next = lockWaiters.poll();
    if (next != null) {
      next.run(); // the lock passes to the next waiter
    } else {
      locked = false;
    }
  }

  // --- the invalidate callback

  private Behavior<Object> onInvalidate(MmProtocol.Invalidate inv) {
    Runnable done = () -> inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true));
    switch (policy) {
      case WAIT -> {
        if (!inv.blockable()) {
          inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), false)); // amdgpu: it would sleep
          return this;
        }
        lock(() -> {
          seq = inv.seq(); // mmu_interval_set_seq under the notifier lock
          annotateWaitingCallback();
          getContext().ask(WaitResult.class, resv, services.waitCap().plusSeconds(5),
              r -> new Resv.Wait(ResvUsage.BOOKKEEP, -1, label + " invalidate", r), // the vertex the mm's round waits for
              (w, failure) -> new Step(() -> {
                translation = null;
                unlock();
                inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true,
                    w == null ? 0 : w.status().modelNanos())); // the model time of the last fence it waited for
              }));
        });
      }
      case PREEMPT -> lock(() -> {
        seq = inv.seq();
        timers.startSingleTimer(new Preempted(inv), preemptTime); // evict the queues; the restore worker revalidates
      });
      case FAULT -> {
        if (locked && !inv.blockable()) {
          inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), false)); // mutex_trylock failed
          return this;
        }
        lock(() -> {
          seq = inv.seq();
          translation = null; // zap the device's PTEs; the next access faults
          unlock();
          done.run();
        });
      }
      case NONE -> getContext().ask(Resv.Fences.class, resv, callTimeout, r -> new Resv.GetFences(ResvUsage.BOOKKEEP, false, r),
          (f, failure) -> new Step(() -> {
            if (f != null && !f.entries().isEmpty()) {
              services.violation(Violation.Kind.NOTIFIER_RETURNED_EARLY, label, "the invalidate callback (" + inv.event() + " of " + inv.mm()
                  + ") returned while " + f.entries().size() + " fence(s) of the buffer were pending: the device still accesses the range");
            }
            done.run();
          }));
      case PIN -> done.run(); // never registered; nothing to do
    }
    return this;
  }

  // --- DMA through the translation

  private void withTranslation(Consumer<List<Frames>> then, Consumer<Integer> failed) {
    if (translation != null) {
      then.accept(translation);
      return;
    }
    // A device page fault: read_begin, hmm_range_fault, take the lock, check, map (restartable, like ODP's).
    validate(0, "", getContext().messageAdapter(Validated.class, v -> new Step(() -> {
      if (v.result() < 0) {
        failed.accept(v.result());
      } else {
        lock(() -> {
          if (seq != v.seq()) {
            unlock();
            withTranslation(then, failed);
            return;
          }
          translation = pending;
          unlock();
          then.accept(translation);
        });
      }
    })));
  }

  private Behavior<Object> onReadRange(DriverProtocol.ReadRange read) {
    withTranslation(t -> getContext().ask(MmProtocol.DmaData.class, mm, callTimeout,
        r -> new MmProtocol.DmaRead(label, start + read.offset(), read.length(), t, read.tag(), r),
        (data, failure) -> new Step(() -> read.replyTo().tell(data == null
            ? new DriverProtocol.RangeData(read.tag(), Errno.ENODEV.negative(), List.of()) // the process (its member) is gone
            : new DriverProtocol.RangeData(read.tag(), data.result(),
                data.chunks().stream().map(c -> c.at(c.offset() + read.offset())).toList())))),
        e -> read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), e, List.of())));
    return this;
  }

  private Behavior<Object> onWriteRange(DriverProtocol.WriteRange write) {
    withTranslation(t -> getContext().ask(MmProtocol.DmaAck.class, mm, callTimeout,
        r -> new MmProtocol.DmaWrite(label, start, write.chunks(), t, write.tag(), r),
        (ack, failure) -> new Step(() -> write.replyTo().tell(
            new DriverProtocol.WriteAck(write.tag(), ack == null ? Errno.ENODEV.negative() : ack.result())))),
        e -> write.replyTo().tell(new DriverProtocol.WriteAck(write.tag(), e)));
    return this;
  }
}
