package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceTimeline;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The pending-fence part of {@code fencelab bench scale} on one member: {@code count} fences created on one timeline and
 * left pending, with the used heap after a full GC before and after (GCs run on the blocking dispatcher, never on an
 * actor thread). The fences stay pending until the member stops.
 */
final class FenceHold {
  private FenceHold() {}

  /** Fences in flight while creating: the timeline's mailbox stays small. */
  static final int WINDOW = 10_000;

  private interface Command {}

  private record Made(FenceRef fence) implements Command, NoSerializationVerificationNeeded {}

  private record Heap(long used) implements Command, NoSerializationVerificationNeeded {}

  static Behavior<?> create(long count, String node, FenceServices services, ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.<Command>setup(context -> {
      if (count == 0) { // nothing to hold (the chain alone is measured)
        replyTo.tell(new FenceControl.BenchReport(List.of(BenchFigure.of("scale.pending." + node + ".fences", "fences", 0, 0, true))));
        return Behaviors.stopped();
      }
      measure(context);
      return Behaviors.receive(Command.class).onMessage(Heap.class, before -> {
        ActorRef<dev.fencelab.node.fence.ContextOwner.Command> timeline =
            context.spawn(FenceTimeline.create(services, false), "held-fences");
        ActorRef<FenceRef> made = context.messageAdapter(FenceRef.class, Made::new);
        long start = System.nanoTime();
        long[] asked = {0};
        long[] done = {0};
        for (; asked[0] < Math.min(count, WINDOW); asked[0]++) {
          timeline.tell(new FenceTimeline.CreateFence(made));
        }
        return Behaviors.receive(Command.class).onMessage(Made.class, m -> {
          if (asked[0] < count) {
            asked[0]++;
            timeline.tell(new FenceTimeline.CreateFence(made));
          }
          if (++done[0] == count) {
            double seconds = (System.nanoTime() - start) / 1e9;
            context.getLog().info("bench scale: {} pending fences made in {} s; measuring the heap", count, Math.round(seconds));
            measure(context);
            return Behaviors.receive(Command.class).onMessage(Heap.class, after -> {
              long grown = after.used() - before.used();
              replyTo.tell(new FenceControl.BenchReport(List.of(
                  BenchFigure.of("scale.pending." + node + ".fences", "fences", count, 0, true),
                  BenchFigure.of("scale.pending." + node + ".create.rate", "fences/s", count / seconds, 0, true),
                  BenchFigure.of("scale.pending." + node + ".heap_used", "MiB", after.used() / (double) (1 << 20), 0, false),
                  BenchFigure.of("scale.pending." + node + ".bytes_per_fence", "bytes", grown / (double) count, 0,
                      false))));
              return Behaviors.same(); // the fences stay pending with this actor until the member stops
            }).build();
          }
          return Behaviors.same();
        }).build();
      }).build();
    });
  }

  private static void measure(ActorContext<Command> context) {
    usedHeap(context, Heap::new);
  }

  /** The used heap after full GCs (run on the blocking dispatcher), to the actor as {@code message} (-1 if unknown). */
  static <T> void usedHeap(ActorContext<T> context, java.util.function.LongFunction<T> message) {
    Executor blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    context.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }, blocking), (used, err) -> message.apply(used == null ? -1 : used));
  }
}
