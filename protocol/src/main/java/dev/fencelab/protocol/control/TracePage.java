package dev.fencelab.protocol.control;

import dev.fencelab.protocol.trace.v1.TraceChunk;
import java.util.Objects;

/** One page of a member's trace (the answer to {@link CollectTrace}); {@code chunk.done} says it was the last. */
public record TracePage(TraceChunk chunk) implements ControlMessage {
  public TracePage {
    Objects.requireNonNull(chunk, "chunk");
  }
}
