package dev.fencelab.node.bench;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.FenceTimeline;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The heap phases of {@link FenceBench}: heap per pending fence — {@code pendingFences} unsignalled fences, used heap
 * after full GCs — vs as many raw empty actors. GCs and heap reads run on the blocking dispatcher, never on an actor
 * thread.
 */
final class HeapPhases {
  private final int n;
  private final BenchPhases ph;
  private final ActorContext<FenceBench.Command> context;
  private final FenceServices services;
  private final ActorRef<FenceRef> fenceAdapter;
  private final Executor blocking;
  private long heapBase;
  /** Bytes per pending fence, kept for the raw phase. */
  private long perFence;
  private ActorRef<ContextOwner.Command> heapTimeline;

  HeapPhases(int pendingFences, BenchPhases ph, ActorContext<FenceBench.Command> context, FenceServices services,
      ActorRef<FenceRef> fenceAdapter) {
    this.n = pendingFences;
    this.ph = ph;
    this.context = context;
    this.services = services;
    this.fenceAdapter = fenceAdapter;
    this.blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
  }

  void queuePhases() {
    ph.add(this::heapFences);
    ph.add(this::heapRaw);
  }

  private void measureHeap() {
    context.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }, blocking), (used, err) -> new FenceBench.Heap(used == null ? -1 : used));
  }

  /**
   * Heap per object = (used with N alive − used once the same N are released) / N, both after full GCs, taken back to
   * back: garbage and retention from earlier phases cancel out.
   */
  private void heapFences() {
    int batch = 10_000;
    heapTimeline = context.spawn(FenceTimeline.create(services, false), "bench-heap-timeline");
    ph.handle(new java.util.function.Function<>() {
      int stage;
      int created;

      @Override
      public Behavior<FenceBench.Command> apply(FenceBench.Command m) {
        if (m instanceof FenceBench.GotFence) {
          if (++created == n) {
            stage = 1;
            measureHeap();
          } else if (created % batch == 0) {
            sendBatch();
          }
        } else if (m instanceof FenceBench.Heap h && stage == 1) {
          heapBase = h.used();
          stage = 2;
          context.watchWith(heapTimeline, new FenceBench.Gone());
          context.stop(heapTimeline); // its fences stop with it
        } else if (m instanceof FenceBench.Gone && stage == 2) {
          stage = 3;
          measureHeap();
        } else if (m instanceof FenceBench.Heap h && stage == 3) {
          perFence = (heapBase - h.used()) / n; // bytes per pending fence, kept for the baseline phase
          ph.next();
        }
        return Behaviors.same();
      }

      private void sendBatch() {
        for (int i = 0; i < Math.min(batch, n - created); i++) {
          heapTimeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
        }
      }
    });
    for (int i = 0; i < Math.min(batch, n); i++) {
      heapTimeline.tell(new FenceTimeline.CreateFence(fenceAdapter));
    }
  }

  private void heapRaw() {
    ActorRef<FenceBench.Command> self = context.getSelf();
    ActorRef<Void> holder = context.spawn(Behaviors.<Void>setup(ctx -> {
      for (int i = 0; i < n; i++) {
        ctx.spawnAnonymous(Behaviors.empty());
      }
      self.tell(new FenceBench.Gone()); // all spawned
      return Behaviors.empty();
    }), "bench-raw-holder");
    ph.handle(new java.util.function.Function<>() {
      int stage;

      @Override
      public Behavior<FenceBench.Command> apply(FenceBench.Command m) {
        if (m instanceof FenceBench.Gone && stage == 0) {
          stage = 1;
          measureHeap();
        } else if (m instanceof FenceBench.Heap h && stage == 1) {
          heapBase = h.used();
          stage = 2;
          context.watchWith(holder, new FenceBench.Gone());
          context.stop(holder);
        } else if (m instanceof FenceBench.Gone && stage == 2) {
          stage = 3;
          measureHeap();
        } else if (m instanceof FenceBench.Heap h && stage == 3) {
          long perActor = (heapBase - h.used()) / n;
          ph.figure(BenchFigure.of("heap.bytes_per_pending_fence", "bytes", perFence, perActor, false));
          ph.next();
        }
        return Behaviors.same();
      }
    });
  }
}
