package dev.fencelab.node.mm;

import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.fence.Clocks;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The physical memory of this member's part of the emulated host (a NUMA node of it): the resident pages of its
 * processes' address spaces plus the kernel's allocations, against a limit (none by default). An allocation that
 * does not fit and may sleep (GFP_KERNEL, and GFP_NOFS/NOIO: fs_reclaim still reaches the notifiers, §3.2) runs
 * direct reclaim: the address space with the most resident pages is asked to unmap them — an invalidation round
 * (CLEAR) whose subscribers may wait on fences — and the allocation retries with what came free. GFP_ATOMIC and
 * GFP_NOWAIT never reclaim: -ENOMEM. This is the route by which an allocation reaches an mmu notifier.
 *
 * <p>Owns: the accounting. Talks to: the address spaces (reclaim). Every allocation waiting for reclaim is an edge of
 * the wait-for graph (the allocating thread → the victim's reclaim), so a cycle through reclaim is seen.
 */
public final class HostMemory extends AbstractBehavior<HostMemory.Command> {
  public interface Command extends NoSerializationVerificationNeeded {}

  /** The node's memory for processes and kernel allocations, in bytes (0: unlimited). */
  public record SetLimit(long bytes) implements Command {}

  /** An address space's resident pages now. */
  public record Resident(ActorRef<MmProtocol.Command> mm, String label, long pages) implements Command {}

  /** {@code kmalloc}/{@code alloc_pages} of {@code bytes} by {@code waiter}: 0 or -ENOMEM. */
  public record Alloc(long bytes, boolean mayReclaim, String waiter, ActorRef<MmProtocol.Reply> replyTo) implements Command {}

  /** {@code kfree} of {@code bytes} an earlier {@link Alloc} got. */
  public record Free(long bytes) implements Command {}

  private record Reclaimed(Alloc alloc, long edge, MmProtocol.Reply reply) implements Command {}

  private static final long PAGE = AddressSpace.PAGE;

  private final FenceServices services;
  private final String node;
  private long limitPages = Long.MAX_VALUE;
  private long kernelPages;
  private final Map<ActorRef<MmProtocol.Command>, Long> resident = new HashMap<>();
  private final Map<ActorRef<MmProtocol.Command>, String> labels = new HashMap<>();
  private final Queue<Alloc> waiting = new ArrayDeque<>();
  private boolean reclaiming;

  public static Behavior<Command> create(String node, FenceServices services) {
    return Behaviors.setup(context -> new HostMemory(context, node, services));
  }

  private HostMemory(ActorContext<Command> context, String node, FenceServices services) {
    super(context);
    this.node = node;
    this.services = services;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SetLimit.class, l -> {
          limitPages = l.bytes() <= 0 ? Long.MAX_VALUE : (l.bytes() + PAGE - 1) / PAGE;
          return this;
        })
        .onMessage(Resident.class, r -> {
          if (!resident.containsKey(r.mm())) {
            getContext().watch(r.mm());
          }
          resident.put(r.mm(), r.pages());
          labels.put(r.mm(), r.label());
          return this;
        })
        .onMessage(Alloc.class, a -> {
          waiting.add(a);
          next();
          return this;
        })
        .onMessage(Reclaimed.class, this::onReclaimed)
        .onMessage(Free.class, f -> {
          kernelPages = Math.max(0, kernelPages - (f.bytes() + PAGE - 1) / PAGE);
          next();
          return this;
        })
        .onSignal(Terminated.class, t -> {
          resident.remove(t.getRef());
          labels.remove(t.getRef());
          return this;
        })
        .build();
  }

  private long free() {
    long used = kernelPages + resident.values().stream().mapToLong(Long::longValue).sum();
    return limitPages == Long.MAX_VALUE ? Long.MAX_VALUE : limitPages - used;
  }

  /** Serves the allocations in order; one direct reclaim at a time (the others queue behind it, as on a real node). */
  private void next() {
    while (!reclaiming && !waiting.isEmpty()) {
      Alloc a = waiting.peek();
      long pages = (a.bytes() + PAGE - 1) / PAGE;
      if (free() >= pages) {
        waiting.poll();
        kernelPages += pages;
        a.replyTo().tell(MmProtocol.Reply.of(0, "allocated " + a.bytes() + " bytes"));
        continue;
      }
      if (!a.mayReclaim()) {
        waiting.poll();
        a.replyTo().tell(MmProtocol.Reply.of(Errno.ENOMEM.negative(), "no free memory and the allocation may not reclaim"));
        continue;
      }
      ActorRef<MmProtocol.Command> victim = resident.entrySet().stream().filter(e -> e.getValue() > 0)
          .max(Comparator.<Map.Entry<ActorRef<MmProtocol.Command>, Long>>comparingLong(Map.Entry::getValue)
              .thenComparing(e -> labels.get(e.getKey()), Comparator.reverseOrder()))
          .map(Map.Entry::getKey).orElse(null);
      if (victim == null) {
        waiting.poll();
        a.replyTo().tell(MmProtocol.Reply.of(Errno.ENOMEM.negative(), "out of memory: nothing left to reclaim (the OOM killer's turn)"));
        continue;
      }
      reclaiming = true;
      long edge = services.nextWaitId();
      String target = labels.get(victim) + " reclaim";
      services.waits().tell(new WaitGraph.AddEdge(new WaitGraph.Edge(edge, a.waiter(), target, "", "direct reclaim on " + node,
          Clocks.wallNanos())));
      TraceRecorder.get(getContext().getSystem()).record(TraceRecorder.event(EventKind.MARK, node + " memory").setName("direct reclaim")
          .setSubject(labels.get(victim)).setDetail(a.waiter() + " allocates " + a.bytes() + " bytes; " + free() + " page(s) free"));
      getContext().ask(MmProtocol.Reply.class, victim, services.waitCap().plusSeconds(10), MmProtocol.Reclaim::new,
          (reply, failure) -> new Reclaimed(a, edge, reply != null ? reply : MmProtocol.Reply.of(Errno.ESRCH.negative(), "gone")));
    }
  }

  private Behavior<Command> onReclaimed(Reclaimed r) {
    services.waits().tell(new WaitGraph.RemoveEdge(r.edge()));
    reclaiming = false;
    if (r.reply().value() <= 0 && waiting.peek() == r.alloc()) { // reclaim freed nothing: give up rather than loop
      waiting.poll();
      r.alloc().replyTo().tell(MmProtocol.Reply.of(Errno.ENOMEM.negative(), "reclaim freed nothing (" + r.reply().detail() + ")"));
    }
    next();
    return this;
  }
}
