package dev.fencelab.node.wire;

import dev.fencelab.node.sync.SwSyncTimeline;
import dev.fencelab.protocol.fence.v1.FenceV1;

/**
 * The codecs of sw_sync timelines (create point, inc, close, deadline, value), registered into
 * {@link NodeSerializer}. Manifests: {@code S.*}.
 */
final class SwSyncCodecs {
  private final NodeSerializer s;

  SwSyncCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(SwSyncTimeline.CreatePoint.class, "S.CreatePoint",
        m -> FenceV1.CreatePoint.newBuilder().setValue(m.value()).setName(m.name()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.CreatePoint::parseFrom,
        p -> new SwSyncTimeline.CreatePoint(p.getValue(), p.getName(), s.req(p.getReplyTo(), "CreatePoint.reply_to")));
    s.codec(SwSyncTimeline.PointCreated.class, "S.PointCreated",
        m -> {
          FenceV1.PointCreated.Builder b = FenceV1.PointCreated.newBuilder().setError(m.error());
          if (m.fence() != null) {
            b.setFence(s.fenceRef(m.fence()));
          }
          return b.build();
        },
        FenceV1.PointCreated::parseFrom,
        p -> new SwSyncTimeline.PointCreated(p.hasFence() ? s.fenceRef(p.getFence()) : null, p.getError()));
    s.codec(SwSyncTimeline.Inc.class, "S.Inc",
        m -> FenceV1.Inc.newBuilder().setN(m.n()).build(),
        FenceV1.Inc::parseFrom,
        p -> new SwSyncTimeline.Inc(p.getN()));
    s.codec(SwSyncTimeline.Close.class, "S.Close",
        m -> FenceV1.Close.getDefaultInstance(),
        FenceV1.Close::parseFrom,
        p -> SwSyncTimeline.Close.INSTANCE);
    s.codec(SwSyncTimeline.GetDeadline.class, "S.GetDeadline",
        m -> FenceV1.GetDeadline.newBuilder().setFence(s.fenceRef(m.fence())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.GetDeadline::parseFrom,
        p -> new SwSyncTimeline.GetDeadline(s.fenceRef(p.getFence()), s.req(p.getReplyTo(), "GetDeadline.reply_to")));
    s.codec(SwSyncTimeline.DeadlineReply.class, "S.DeadlineReply",
        m -> FenceV1.DeadlineReply.newBuilder().setError(m.error()).setDeadlineNanos(m.deadlineNanos()).build(),
        FenceV1.DeadlineReply::parseFrom,
        p -> new SwSyncTimeline.DeadlineReply(p.getError(), p.getDeadlineNanos()));
    s.codec(SwSyncTimeline.GetValue.class, "S.GetValue",
        m -> FenceV1.GetValue.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.GetValue::parseFrom,
        p -> new SwSyncTimeline.GetValue(s.req(p.getReplyTo(), "GetValue.reply_to")));
    s.codec(SwSyncTimeline.Value.class, "S.Value",
        m -> FenceV1.Value.newBuilder().setValue(m.value()).setClosed(m.closed()).build(),
        FenceV1.Value::parseFrom,
        p -> new SwSyncTimeline.Value(p.getValue(), p.getClosed()));
  }
}
