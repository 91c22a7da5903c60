package dev.fencelab.protocol.control;

import dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge;
import java.util.List;
import java.util.Objects;

/** Wait-for edges of {@code nodeName}'s member added and removed (by wait id) since its last batch. */
public record WaitsChanged(String nodeName, List<WaitEdge> added, List<Long> removed) implements ControlMessage {
  public WaitsChanged {
    Objects.requireNonNull(nodeName, "nodeName");
    added = List.copyOf(added);
    removed = List.copyOf(removed);
  }
}
