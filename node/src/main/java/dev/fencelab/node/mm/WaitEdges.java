package dev.fencelab.node.mm;

import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.fence.Clocks;
import dev.fencelab.node.fence.FenceServices;

/**
 * The waits of one mm as edges of its member's wait-for graph, so that the run's deadlock detector sees cycles that pass
 * through an invalidation: a caller queued on mmap_lock → the lock → its holder ({@link MmapLock}), a call → the
 * callback its round waits for, a parked read_begin → the round ({@link InvalidationRounds}). A call of the process is a
 * vertex named after it ({@code n3/P munmap}). Part of {@link MmActor}, touched on its thread only.
 */
final class WaitEdges implements MmapLock.Edges {
  private final FenceServices services;
  private final String label;

  WaitEdges(FenceServices services, String label) {
    this.services = services;
    this.label = label;
  }

  /** A call of the process as a vertex: {@code n3/P munmap}. */
  String op(String who) {
    return label + " " + who;
  }

  /** A wait-for edge on this member's graph (the run's deadlock detector sees it); its id removes it. */
  @Override
  public long add(String from, String to, String reason) {
    long id = services.nextWaitId();
    services.waits().tell(new WaitGraph.AddEdge(new WaitGraph.Edge(id, from, to, "", reason, Clocks.wallNanos())));
    return id;
  }

  @Override
  public void remove(long id) {
    services.waits().tell(new WaitGraph.RemoveEdge(id));
  }
}
