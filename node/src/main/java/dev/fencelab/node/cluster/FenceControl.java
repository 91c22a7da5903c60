package dev.fencelab.node.cluster;

import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.node.bench.BenchFigure;
import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.control.NodeControl;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Fence commands a node agent accepts from the control plane (the coordinator's scenario runner, tests):
 * create a context owner on this member, and make an emulated kernel thread on this member wait on fences
 * that may live anywhere in the cluster.
 */
public final class FenceControl {
  private FenceControl() {}

  /** What kind of context owner to create. */
  public enum TimelineKind {
    /** A driver-style context ({@link dev.fencelab.node.fence.FenceTimeline}). */
    DRIVER,
    /** A sw_sync timeline ({@link dev.fencelab.node.sync.SwSyncTimeline}). */
    SW_SYNC,
    /** An owner of containers: arrays, chains, merges ({@link dev.fencelab.node.fence.Containers}). */
    CONTAINERS
  }

  public record SpawnTimeline(TimelineKind kind, String name, ActorRef<TimelineSpawned> replyTo)
      implements NodeControl, NodeWireMessage {
    public SpawnTimeline {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The owner, or {@code error < 0} (-EEXIST: a timeline of that name exists on this member). */
  public record TimelineSpawned(ActorRef<ContextOwner.Command> owner, int error) implements NodeWireMessage {}

  /**
   * Wait on this member for {@code fence} ({@code dma_fence_wait_timeout}).
   *
   * @param timeoutNanos {@code < 0} for an unbounded wait (bounded by the wait cap), 0 to poll
   */
  public record WaitFence(FenceRef fence, long timeoutNanos, String waiter, String reason, ActorRef<WaitResult> replyTo)
      implements NodeControl, NodeWireMessage {
    public WaitFence {
      Objects.requireNonNull(fence, "fence");
      Objects.requireNonNull(waiter, "waiter");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Wait on this member for the first of {@code fences} ({@code dma_fence_wait_any_timeout}). */
  public record WaitAnyFence(List<FenceRef> fences, long timeoutNanos, String waiter, String reason, ActorRef<WaitResult> replyTo)
      implements NodeControl, NodeWireMessage {
    public WaitAnyFence {
      fences = List.copyOf(fences);
      Objects.requireNonNull(waiter, "waiter");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Start an emulated process on this member. */
  public record SpawnProcess(String name, ActorRef<ProcessSpawned> replyTo) implements NodeControl, NodeWireMessage {
    public SpawnProcess {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The process, or {@code error < 0} (-EEXIST: a process of that name runs on this member). */
  /** The process and its address space ({@code mm}), or {@code error < 0} and neither. */
  public record ProcessSpawned(ActorRef<ProcessProtocol.Command> process, int error, ActorRef<dev.fencelab.node.mm.MmProtocol.Command> mm)
      implements NodeWireMessage {
    public ProcessSpawned(ActorRef<ProcessProtocol.Command> process, int error) {
      this(process, error, null);
    }
  }

  /** Create a reservation object on this member; {@code mode} null: the cluster's ({@code fencelab.resv.mode}). */
  public record SpawnResv(String name, Resv.Mode mode, ActorRef<ResvSpawned> replyTo) implements NodeControl, NodeWireMessage {
    public SpawnResv {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  public record ResvSpawned(ActorRef<Resv.Command> resv, int error, Resv.Mode mode) implements NodeWireMessage {}

  /** Run {@code fencelab bench fences} on this member ({@code peer}: another node's agent, or null). */
  public record RunFenceBench(int iterations, int fanout, int fanoutRounds, int createSignal, int crossIterations,
      int pendingFences, ActorRef<NodeControl> peer, ActorRef<BenchReport> replyTo) implements NodeControl, NodeWireMessage {
    public RunFenceBench {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Run {@code fencelab bench scale} on this member: {@code pending} fences over {@code members}, a chain of {@code chain} points. */
  public record RunScaleBench(long pending, int chain, List<ActorRef<NodeControl>> members, ActorRef<BenchReport> replyTo)
      implements NodeControl, NodeWireMessage {
    public RunScaleBench {
      members = List.copyOf(members);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Make {@code count} fences on a timeline of this member and keep them pending; report the heap they take. */
  public record HoldFences(long count, ActorRef<BenchReport> replyTo) implements NodeControl, NodeWireMessage {
    public HoldFences {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The figures of a bench run, each with its raw-Pekko baseline. */
  public record BenchReport(List<BenchFigure> figures) implements NodeWireMessage {
    public BenchReport {
      figures = List.copyOf(figures);
    }
  }
}
