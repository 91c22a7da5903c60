package dev.fencelab.node.rdma;

import dev.fencelab.node.fence.LinkDelays;
import dev.fencelab.node.trace.TraceRecorder;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * A NIC's model time: its clock (caught up with its member's when work is posted, then advanced by causality only), its
 * egress link (bytes serialised at the link rate, plus
 * the one-way latency), and with realtime pacing the link's real time, so that a transfer takes as long on the wall as
 * in the model and chaos can land in the middle of it. Part of {@link RdmaNic}.
 */
final class NicClock {
  private final RdmaNic.Params p;
  private final TraceRecorder trace;
  private final ActorContext<Object> ctx;
  private final LinkDelays links;
  private long model;
  private long linkFree;
  /** When the NIC's PCIe link is free (model time). */
  private long pcieFree;
  /** Realtime pacing: when the egress link is free in wall time (System.nanoTime). */
  private long wallLinkFree;
  private long nextId = 1;

  NicClock(RdmaNic.Params p, TraceRecorder trace, ActorContext<Object> ctx) {
    this.links = LinkDelays.get(ctx.getSystem());
    this.p = p;
    this.trace = trace;
    this.ctx = ctx;
  }

  long model() {
    return model;
  }

  /** A fresh id (work requests, DMA tags, pollers). */
  long nextId() {
    return nextId++;
  }

  /** Advances the NIC's clock to {@code modelNanos} (a message's time, a fault's cost): causality only. */
  long observe(long modelNanos) {
    model = Math.max(model, modelNanos);
    trace.observeModel(model);
    return model;
  }

  /**
   * A work request is posted now: the NIC's clock catches up with its member's (the host's time when the application
   * posts). Not on every message: another device of the member (a GPU busy for 200 ms) does not delay the NIC's transfers.
   */
  long posted() {
    return observe(trace.modelNow());
  }

  /**
   * A DMA over the NIC's PCIe link taking {@code nanos}: the link is a resource of its own, busy until its model time, so
   * chunks in flight pipeline with the wire; the NIC's clock catches up with the chunk's end. Returns that end.
   */
  long pcie(long nanos) {
    pcieFree = Math.max(pcieFree, model) + nanos;
    return observe(pcieFree);
  }

  /**
   * Sends {@code bytes} on the egress link to {@code peer}: when they arrive there (model time) — the link's rate and
   * latency, plus the emulated link's delay between the two members ({@code link_delay}, {@link LinkDelays}).
   */
  long transmit(long bytes, ActorRef<?> peer) {
    linkFree = Math.max(linkFree, model) + (long) Math.ceil(bytes / p.bytesPerNano());
    return linkFree + p.latencyNanos() + links.latency(peer.path().address());
  }

  /** When a small message (an acknowledgement) sent now arrives at {@code peer} (model time). */
  long arrival(ActorRef<?> peer) {
    return model + p.latencyNanos() + links.latency(peer.path().address());
  }

  /** Sends {@code message} of {@code bytes} to {@code to}: at once, or (realtime pacing) once the link has carried it in real time. */
  void send(ActorRef<Object> to, Object message, long bytes) {
    Duration delay = p.pacing().realDelay((long) Math.ceil(bytes / p.bytesPerNano()));
    if (delay.isZero()) {
      to.tell(message);
      return;
    }
    long now = System.nanoTime();
    wallLinkFree = Math.max(now, wallLinkFree) + delay.toNanos();
    ctx.scheduleOnce(Duration.ofNanos(wallLinkFree - now), ctx.getSelf(), new RdmaNic.Continue(() -> to.tell(message)));
  }
}
