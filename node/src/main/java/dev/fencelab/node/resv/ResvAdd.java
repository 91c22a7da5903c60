package dev.fencelab.node.resv;

import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One {@code dma_resv} add as a driver does it: lock (the lock holder is this actor, which the resv watches, so it
 * lives until it unlocked), reserve a slot, add — {@code dma_resv_add_fence(usage)} on a modern object,
 * {@code add_excl_fence} (write, kernel) or {@code add_shared_fence} (read, bookkeep) on a 2020 one — then unlock.
 * Answers the add's result (or the lock's or reserve's error) once, and stops; bounded by {@code timeout}.
 */
final class ResvAdd {
  sealed interface Msg extends NoSerializationVerificationNeeded {}

  private record Locked(Resv.LockReply reply) implements Msg {}

  private record Step(Resv.Result result) implements Msg {}

  private enum Timeout implements Msg { INSTANCE }

  private ResvAdd() {}

  static Behavior<Msg> create(ActorRef<Resv.Command> resv, Resv.Mode mode, AcquireCtx ctx, FenceRef fence, ResvUsage usage,
      List<String> orderedAfter, boolean noReserve, Duration timeout, ActorRef<Integer> replyTo) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(Timeout.INSTANCE, timeout);
      ActorRef<Resv.LockReply> lockAdapter = context.messageAdapter(Resv.LockReply.class, Locked::new);
      ActorRef<Resv.Result> stepAdapter = context.messageAdapter(Resv.Result.class, Step::new);
      resv.tell(new Resv.Lock(ctx, false, lockAdapter));
      int[] phase = {0}; // 0 locking, 1 reserving, 2 adding
      return Behaviors.receive(Msg.class)
          .onMessage(Locked.class, l -> {
            if (l.reply().result() != 0) {
              replyTo.tell(l.reply().result());
              return Behaviors.stopped();
            }
            phase[0] = 1;
            if (noReserve) { // the driver bug: add without dma_resv_reserve_fences (BUG in the kernel)
              stepAdapter.tell(new Resv.Result(0));
            } else {
              resv.tell(new Resv.Reserve(ctx, 1, stepAdapter));
            }
            return Behaviors.same();
          })
          .onMessage(Step.class, st -> {
            if (phase[0] == 1 && st.result().result() == 0) {
              phase[0] = 2;
              boolean write = usage == ResvUsage.WRITE || usage == ResvUsage.KERNEL;
              resv.tell(mode == Resv.Mode.Y2020
                  ? (write ? new Resv.AddExclusive(ctx, fence, orderedAfter, stepAdapter) : new Resv.AddShared(ctx, fence, orderedAfter, stepAdapter))
                  : new Resv.AddFence(ctx, fence, usage, stepAdapter));
              return Behaviors.same();
            }
            resv.tell(new Resv.Unlock(ctx));
            replyTo.tell(st.result().result());
            return Behaviors.stopped();
          })
          .onMessageEquals(Timeout.INSTANCE, () -> {
            resv.tell(new Resv.Unlock(ctx));
            replyTo.tell(Errno.ETIMEDOUT.negative());
            return Behaviors.stopped();
          })
          .build();
    }));
  }
}
