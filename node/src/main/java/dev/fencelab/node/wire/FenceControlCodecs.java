package dev.fencelab.node.wire;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.protocol.fence.v1.FenceV1;
import java.io.NotSerializableException;

/**
 * The codecs of a member's fence control requests (spawn a timeline, wait on one or any fence),
 * registered into {@link NodeSerializer}. Manifests: {@code A.SpawnTimeline}, {@code A.TimelineSpawned},
 * {@code A.WaitFence}, {@code A.WaitAnyFence}.
 */
final class FenceControlCodecs {
  private final NodeSerializer s;

  FenceControlCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(FenceControl.SpawnTimeline.class, "A.SpawnTimeline",
        m -> FenceV1.SpawnTimeline.newBuilder()
            .setKind(switch (m.kind()) {
              case DRIVER -> FenceV1.TimelineKind.DRIVER;
              case SW_SYNC -> FenceV1.TimelineKind.SW_SYNC_TIMELINE;
              case CONTAINERS -> FenceV1.TimelineKind.CONTAINERS;
            })
            .setName(m.name()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.SpawnTimeline::parseFrom,
        p -> new FenceControl.SpawnTimeline(switch (p.getKind()) {
              case DRIVER -> FenceControl.TimelineKind.DRIVER;
              case SW_SYNC_TIMELINE -> FenceControl.TimelineKind.SW_SYNC;
              case CONTAINERS -> FenceControl.TimelineKind.CONTAINERS;
              default -> throw new NotSerializableException("SpawnTimeline: unknown kind " + p.getKind());
            }, p.getName(), s.req(p.getReplyTo(), "SpawnTimeline.reply_to")));
    s.codec(FenceControl.TimelineSpawned.class, "A.TimelineSpawned",
        m -> FenceV1.TimelineSpawned.newBuilder().setOwner(s.refOf(m.owner())).setError(m.error()).build(),
        FenceV1.TimelineSpawned::parseFrom,
        p -> new FenceControl.TimelineSpawned(s.opt(p.getOwner()), p.getError()));
    s.codec(FenceControl.WaitFence.class, "A.WaitFence",
        m -> FenceV1.WaitFence.newBuilder().setFence(s.fenceRef(m.fence())).setTimeoutNanos(m.timeoutNanos())
            .setWaiter(m.waiter()).setReason(m.reason()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.WaitFence::parseFrom,
        p -> new FenceControl.WaitFence(s.fenceRef(p.getFence()), p.getTimeoutNanos(), p.getWaiter(), p.getReason(),
            s.req(p.getReplyTo(), "WaitFence.reply_to")));
    s.codec(FenceControl.WaitAnyFence.class, "A.WaitAnyFence",
        m -> {
          FenceV1.WaitAnyFence.Builder b = FenceV1.WaitAnyFence.newBuilder().setTimeoutNanos(m.timeoutNanos())
              .setWaiter(m.waiter()).setReason(m.reason()).setReplyTo(s.refOf(m.replyTo()));
          m.fences().forEach(f -> b.addFences(s.fenceRef(f)));
          return b.build();
        },
        FenceV1.WaitAnyFence::parseFrom,
        p -> new FenceControl.WaitAnyFence(s.fenceRefs(p.getFencesList()), p.getTimeoutNanos(), p.getWaiter(), p.getReason(),
            s.req(p.getReplyTo(), "WaitAnyFence.reply_to")));
  }
}
