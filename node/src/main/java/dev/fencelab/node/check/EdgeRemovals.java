package dev.fencelab.node.check;

import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The wait-for edges an actor ends, sent to its member's {@link WaitGraph} together: one {@link WaitGraph.RemoveEdges}
 * per flush instead of a {@link WaitGraph.RemoveEdge} per edge. The owner flushes when its turn ends: the first removal
 * after a flush calls {@code flushLater} (typically a message to the owner itself, behind what its mailbox holds now),
 * and the owner calls {@link #flush()} when that comes, and when it stops. Under load one message then carries the
 * edges of every job or wait the owner ended meanwhile; at low load it is one message per edge, one turn later.
 *
 * <p>Why: each removal was a message to an idle graph actor, and waking it cost a thread wake-up per ended job.
 * Removals from one owner stay in order after its additions (same sender, same receiver). Not thread-safe: the owning
 * actor keeps it.
 */
public final class EdgeRemovals {
  private final ActorRef<WaitGraph.Command> graph;
  private final Runnable flushLater;
  private long[] ids = new long[16];
  private int count;

  public EdgeRemovals(ActorRef<WaitGraph.Command> graph, Runnable flushLater) {
    this.graph = graph;
    this.flushLater = flushLater;
  }

  /** Edge {@code waitId} ends: it leaves the graph at the next {@link #flush()}. */
  public void remove(long waitId) {
    if (count == 0) {
      flushLater.run();
    }
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, count * 2);
    }
    ids[count++] = waitId;
  }

  /** Sends the removals since the last flush, if any, in one message. */
  public void flush() {
    if (count == 0) {
      return;
    }
    graph.tell(count == 1 ? new WaitGraph.RemoveEdge(ids[0]) : new WaitGraph.RemoveEdges(Arrays.copyOf(ids, count)));
    count = 0;
    if (ids.length > 1024) {
      ids = new long[16]; // a burst's buffer is not kept for good
    }
  }

  /** Whether its removals go to {@code graph}. */
  public boolean isFor(ActorRef<WaitGraph.Command> graph) {
    return this.graph.equals(graph);
  }

  /** Removals waiting for the next flush. */
  public int pending() {
    return count;
  }
}
