package dev.fencelab.protocol.control;

import dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge;
import java.util.List;
import java.util.Objects;

/**
 * A page of the waits open on {@code nodeName}'s member: one edge per waiter, from the waiter to the fence it waits on;
 * the page starts at {@code offset} of {@code total}.
 */
public record WaitsListed(String nodeName, List<WaitEdge> edges, int total, int offset) implements ControlMessage {
  public WaitsListed {
    Objects.requireNonNull(nodeName, "nodeName");
    edges = List.copyOf(edges);
  }

  /** A whole list in one page. */
  public WaitsListed(String nodeName, List<WaitEdge> edges) {
    this(nodeName, edges, edges.size(), 0);
  }

  /** True when more waits follow this page. */
  public boolean more() {
    return offset + edges.size() < total;
  }

  /** One edge as people read it: {@code n2/p waits on ctx1#1 (poll)}. */
  public static String describe(WaitEdge e) {
    return e.getWaiter() + " waits on " + e.getFence() + (e.getReason().isEmpty() ? "" : " (" + e.getReason() + ")");
  }
}
