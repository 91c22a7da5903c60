package dev.fencelab.node.trace;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.trace.v1.TraceChunk;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/** Messages of the trace collection and of the remote crash fault, handled by a member's node agent. */
public final class TraceControl {
  private TraceControl() {}

  /** A page of the member's recorded events with {@code seq >= fromSeq}; answered with {@link TracePage}. */
  public record CollectTrace(long fromSeq, int max, ActorRef<TracePage> replyTo) implements NodeControl, NodeWireMessage {
    public CollectTrace {
      Objects.requireNonNull(replyTo, "replyTo");
      if (max < 1) {
        throw new IllegalArgumentException("max must be positive, was " + max);
      }
    }
  }

  public record TracePage(TraceChunk chunk) implements NodeWireMessage {
    public TracePage {
      Objects.requireNonNull(chunk, "chunk");
    }
  }

  /**
   * The "kill node" fault on a member the caller cannot SIGKILL (another machine): the member halts at once, with
   * no shutdown hooks, no cluster leave and no goodbye — the nearest a JVM gets to losing power. No reply.
   */
  public record Crash(String reason) implements NodeControl, NodeWireMessage {
    public Crash {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
