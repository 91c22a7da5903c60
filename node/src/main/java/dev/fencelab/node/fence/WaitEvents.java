package dev.fencelab.node.fence;

import dev.fencelab.node.check.WaitGraph;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * What every wait leaves behind, the same whether an actor ({@link FenceWait}) or the member's link ({@link FenceLinks})
 * holds it: a {@code WAIT_BEGIN} and a {@code WAIT_END} trace event, and an edge in the member's {@link WaitGraph} while
 * it runs.
 */
final class WaitEvents {
  private WaitEvents() {}

  static void begin(TraceRecorder trace, FenceServices services, long waitId, String waiter, FenceRef fence, String reason) {
    if (trace.enabled()) { // nothing built per wait when tracing is off
      trace.record(TraceRecorder.event(EventKind.WAIT_BEGIN, waiter).setId(waitId).setFence(fence.id().toString()).setName(reason)
          .setSubject(fence.actor().path().address().toString()));
    }
    services.waits().tell(new WaitGraph.AddEdge(new WaitGraph.Edge(
        waitId, waiter, fence.id().toString(), fence.actor().path().address().toString(), reason, Clocks.wallNanos())));
  }

  static void end(TraceRecorder trace, long waitId, String waiter, FenceRef fence, long result, FenceStatus status, String how) {
    long model = trace.observeModel(status.modelNanos()); // the member's model clock moves whether traced or not
    if (trace.enabled()) {
      trace.record(TraceRecorder.event(EventKind.WAIT_END, waiter).setId(waitId).setFence(fence.id().toString())
          .setResult(result).setStatus(status.value()).setDetail(how).setModelNanos(model));
    }
  }

  /** How a wait with this result ended, as its {@code WAIT_END} event says. */
  static String how(long result) {
    return result > 0 ? "signalled" : result == 0 ? "timeout" : "error";
  }

  /** A signal that crossed a delayed link ({@link LinkDelays}) arrives that much later in model time. */
  static FenceStatus arrived(ActorSystem<?> system, FenceRef fence, FenceStatus status) {
    return arrived(LinkDelays.get(system), fence, status);
  }

  /** As {@link #arrived(ActorSystem, FenceRef, FenceStatus)}, with the member's delays at hand. */
  static FenceStatus arrived(LinkDelays delays, FenceRef fence, FenceStatus status) {
    if (delays.none()) {
      return status; // no delayed link: not even the fence's address is looked up (a walk up its path)
    }
    long link = delays.latency(fence.actor().path().address());
    return link == 0 || status.value() == Errno.ENODEV.negative() ? status
        : FenceStatus.signalled(status.value(), status.wallNanos(), status.modelNanos() + link);
  }

  /** How a fence whose member is gone ends for its waiters. */
  static FenceStatus memberGone() {
    return FenceStatus.signalled(Errno.ENODEV.negative(), Clocks.wallNanos(), 0);
  }
}
