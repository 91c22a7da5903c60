package dev.fencelab.node.fence;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.check.Violations;
import dev.fencelab.node.check.WaitGraph;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What every fence-related actor of a member shares: where violations and wait edges go, how contexts are
 * allocated, and the settings ({@code fencelab.fence} in reference.conf).
 *
 * @param waitCap the longest any wait may last, including "forever" ones; a wait that hits it ends timed out
 *     and is reported as a violation (the kernel would hang; fencelab reports instead)
 * @param completionRecord how many completions a context owner remembers for late status queries
 */
public record FenceServices(
    ActorRef<Violations.Command> violations,
    ActorRef<WaitGraph.Command> waits,
    FenceContexts contexts,
    Duration waitCap,
    int completionRecord) {

  private static final AtomicLong WAIT_IDS = new AtomicLong();

  public FenceServices {
    Objects.requireNonNull(violations, "violations");
    Objects.requireNonNull(waits, "waits");
    Objects.requireNonNull(contexts, "contexts");
    Objects.requireNonNull(waitCap, "waitCap");
  }

  public void violation(Violation.Kind kind, Object subject, String detail) {
    violations.tell(new Violations.Report(new Violation(kind, subject.toString(), detail, false, Clocks.wallNanos())));
  }

  public void fatal(Violation.Kind kind, Object subject, String detail) {
    violations.tell(new Violations.Report(new Violation(kind, subject.toString(), detail, true, Clocks.wallNanos())));
  }

  public long nextWaitId() {
    return WAIT_IDS.incrementAndGet();
  }
}
