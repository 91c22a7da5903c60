package dev.fencelab.node.mm;

import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.mm.MmProtocol.Reply;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.japi.function.Function;

/**
 * The address space ({@code mm}) of one emulated process: its {@link AddressSpace}, its {@code mmap_lock}
 * ({@link MmapLock}), its interval notifiers and the invalidation rounds in progress ({@link InvalidationRounds}). See the
 * package documentation for the contract.
 *
 * <p>The behaviour dispatches each message to the part that holds its state, all run on this actor's thread: the
 * process's calls ({@link ProcessCalls}), the notifier API and the rounds ({@link InvalidationRounds}), HMM
 * ({@link DevicePrivateCalls}) and the dmirror test driver ({@link Mirrors}), a driver's faults and long-term pins
 * ({@link DriverFaults}), device DMA ({@link DeviceAccess}), reclaim and the OOM reaper ({@link MemoryPressure}). Once
 * the process has exited, its calls fail with -ESRCH.
 *
 * <p>Talks to: its subscribers (drivers anywhere in the cluster: {@link MmProtocol.Invalidate}), the fences its test
 * notifiers wait on. Watches its remote subscribers: one that dies is dropped from the tree, and a round waiting on its
 * callback goes on (hot unplug of the device that registered it).
 */
public final class MmActor extends AbstractBehavior<MmProtocol.Command> {
  /** A message this actor sends itself (never serialized). */
  interface Internal extends MmProtocol.Command, NoSerializationVerificationNeeded {}

  /** A continuation of a call that asked this mm something ({@link Mirrors}). */
  record Continue(Runnable then) implements Internal {}

  private final InvalidationRounds rounds;
  private final MemoryPressure pressure;
  private final ProcessCalls calls;
  /** HMM: device-private memory, migrations, hmm_range_fault, exclusive access (kernel-semantics §1.17). */
  private final DevicePrivateCalls hmm;
  private final Mirrors mirrors;
  private final DriverFaults faults;
  private final DeviceAccess dma;

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
    TraceRecorder trace = TraceRecorder.get(context.getSystem());
    AddressSpace space = new AddressSpace(bytesThreshold);
    WaitEdges edges = new WaitEdges(services, label);
    MmapLock mmapLock = new MmapLock("mmap_lock " + label, edges);
    this.dma = new DeviceAccess(space, label, services, trace);
    this.mirrors = new Mirrors(space, context, java.time.Duration.ofSeconds(60));
    this.rounds = new InvalidationRounds(label, services, timers, trace, context, edges, mirrors, this::reportResident);
    this.hmm = new DevicePrivateCalls(space, mmapLock, rounds::round, trace, label, context, mirrors::movedToRam);
    this.pressure = new MemoryPressure(label, space, mmapLock, rounds::round, edges, timers, trace, context.getSelf(), memory);
    this.calls = new ProcessCalls(label, space, mmapLock, rounds::round, hmm, edges, trace, pressure::reportResident);
    this.faults = new DriverFaults(space, mmapLock, rounds, hmm, edges);
  }

  /** After every round (the accounting is current before the call returns). */
  private void reportResident() {
    pressure.reportResident();
  }

  /** A handler that answers by itself, now or later: this behaviour stays. */
  private <M> Function<M, Behavior<MmProtocol.Command>> to(Consumer<M> handler) {
    return m -> {
      handler.accept(m);
      return this;
    };
  }

  @Override
  public Receive<MmProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(MmProtocol.Mmap.class, m -> calls.exited(), m -> gone(m.replyTo()))
        .onMessage(MmProtocol.Change.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.CpuAccess.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.Migrate.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.MakeExclusive.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.EvictDevicePrivate.class, c -> calls.exited(), c -> {
          c.replyTo().tell(new MmProtocol.Result(0, 0));
          return this;
        })
        .onMessage(MmProtocol.HmmFault.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.Dmirror.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.ForkInto.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.Adopt.class, c -> calls.exited(), c -> gone(c.replyTo()))
        .onMessage(MmProtocol.InvalidateRange.class, r -> calls.exited(), r -> gone(r.replyTo()))
        .onMessage(MmProtocol.OomReap.class, r -> calls.exited(), r -> gone(r.replyTo()))
        .onMessage(MmProtocol.RangeFault.class, f -> calls.exited(), f -> {
          f.replyTo().tell(new MmProtocol.Faulted(Errno.ESRCH.negative(), List.of()));
          return this;
        })
        .onMessage(MmProtocol.LongTermPin.class, p -> calls.exited(), p -> {
          p.replyTo().tell(new MmProtocol.Pinned(Errno.ESRCH.negative(), 0, List.of(), faults.pinnedVm()));
          return this;
        })
        .onMessage(MmProtocol.NotifierInsert.class, n -> calls.exited(), n -> {
          n.replyTo().tell(new MmProtocol.Inserted(Errno.ESRCH.negative(), 0, 0));
          return this;
        })
        .onMessage(MmProtocol.Mmap.class, to(calls::mmap))
        .onMessage(MmProtocol.Change.class, to(calls::change))
        .onMessage(MmProtocol.CpuAccess.class, to(calls::cpuAccess))
        .onMessage(MmProtocol.Migrate.class, to(hmm::migrate))
        .onMessage(MmProtocol.EvictDevicePrivate.class, to(hmm::evict))
        .onMessage(MmProtocol.MakeExclusive.class, to(hmm::makeExclusive))
        .onMessage(MmProtocol.HmmFault.class, to(hmm::hmmFault))
        .onMessage(MmProtocol.Dmirror.class, to(mirrors::call))
        .onMessage(MmProtocol.ForkInto.class, to(calls::forkInto))
        .onMessage(MmProtocol.Adopt.class, to(calls::adopt))
        .onMessage(Continue.class, c -> {
          c.then().run();
          return this;
        })
        .onMessage(MmProtocol.InvalidateRange.class, to(pressure::invalidateRange))
        .onMessage(MmProtocol.Reclaim.class, to(pressure::reclaim))
        .onMessage(MmProtocol.OomReap.class, to(pressure::oomReap))
        .onMessage(MemoryPressure.ReapAttempt.class, to(pressure::reap))
        .onMessage(MmProtocol.TestInsert.class, to(rounds::testInsert))
        .onMessage(MmProtocol.TestCall.class, to(rounds::testCall))
        .onMessage(MmProtocol.NotifierInsert.class, to(rounds::notifierInsert))
        .onMessage(MmProtocol.NotifierRemove.class, to(rounds::notifierRemove))
        .onMessage(MmProtocol.ReadBegin.class, to(rounds::readBegin))
        .onMessage(MmProtocol.RangeFault.class, to(faults::rangeFault))
        .onMessage(MmProtocol.SetLimits.class, to(faults::setLimits))
        .onMessage(MmProtocol.LongTermPin.class, to(faults::longTermPin))
        .onMessage(MmProtocol.Unpin.class, to(faults::unpin))
        .onMessage(MmProtocol.DmaRead.class, r -> {
          r.replyTo().tell(dma.read(r));
          return this;
        })
        .onMessage(MmProtocol.DmaWrite.class, w -> {
          w.replyTo().tell(dma.write(w));
          return this;
        })
        .onMessage(MmProtocol.DmaBatch.class, b -> {
          for (MmProtocol.Command c : b.dmas()) {
            if (c instanceof MmProtocol.DmaRead r) {
              r.replyTo().tell(dma.read(r));
            } else if (c instanceof MmProtocol.DmaWrite w) {
              w.replyTo().tell(dma.write(w));
            }
          }
          return this;
        })
        .onMessage(MmProtocol.InvalidateDone.class, to(rounds::invalidateDone))
        .onMessage(InvalidationRounds.TestWaited.class, to(rounds::testWaited))
        .onMessage(InvalidationRounds.CallbackTimeout.class, to(rounds::callbackTimeout))
        .onSignal(Terminated.class, t -> {
          hmm.driverGone(t.getRef());
          rounds.subscriberGone(t.getRef());
          return this;
        })
        .build();
  }

  private Behavior<MmProtocol.Command> gone(ActorRef<Reply> replyTo) {
    replyTo.tell(Reply.of(Errno.ESRCH.negative(), "the process has exited"));
    return this;
  }
}
