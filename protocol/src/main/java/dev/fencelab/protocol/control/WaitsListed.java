package dev.fencelab.protocol.control;

import dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge;
import java.util.List;
import java.util.Objects;

/** The waits open on {@code nodeName}'s member: one edge per waiter, from the waiter to the fence it waits on. */
public record WaitsListed(String nodeName, List<WaitEdge> edges) implements ControlMessage {
  public WaitsListed {
    Objects.requireNonNull(nodeName, "nodeName");
    edges = List.copyOf(edges);
  }

  /** One edge as people read it: {@code n2/p waits on ctx1#1 (poll)}. */
  public static String describe(WaitEdge e) {
    return e.getWaiter() + " waits on " + e.getFence() + (e.getReason().isEmpty() ? "" : " (" + e.getReason() + ")");
  }
}
