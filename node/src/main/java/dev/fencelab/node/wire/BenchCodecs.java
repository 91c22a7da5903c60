package dev.fencelab.node.wire;

import dev.fencelab.node.bench.BenchFigure;
import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.protocol.fence.v1.FenceV1;
import java.util.ArrayList;
import java.util.List;

/**
 * The codecs of the benchmarks' control messages ({@code fencelab bench fences} and {@code scale}: the runs, the
 * held fences, the report), registered into {@link NodeSerializer}. Manifests: {@code A.*}.
 */
final class BenchCodecs {
  private final NodeSerializer s;

  BenchCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(FenceControl.RunFenceBench.class, "A.RunFenceBench",
        m -> FenceV1.RunFenceBench.newBuilder().setIterations(m.iterations()).setFanout(m.fanout()).setFanoutRounds(m.fanoutRounds())
            .setCreateSignal(m.createSignal()).setCrossIterations(m.crossIterations()).setPendingFences(m.pendingFences())
            .setPeer(s.refOf(m.peer())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.RunFenceBench::parseFrom,
        p -> new FenceControl.RunFenceBench(p.getIterations(), p.getFanout(), p.getFanoutRounds(), p.getCreateSignal(),
            p.getCrossIterations(), p.getPendingFences(), s.opt(p.getPeer()), s.req(p.getReplyTo(), "RunFenceBench.reply_to")));
    s.codec(FenceControl.RunScaleBench.class, "A.RunScaleBench",
        m -> {
          FenceV1.RunScaleBench.Builder b = FenceV1.RunScaleBench.newBuilder().setPending(m.pending()).setChain(m.chain())
              .setReplyTo(s.refOf(m.replyTo()));
          m.members().forEach(member -> b.addMembers(s.refOf(member)));
          return b.build();
        },
        FenceV1.RunScaleBench::parseFrom,
        p -> {
          List<org.apache.pekko.actor.typed.ActorRef<dev.fencelab.protocol.control.NodeControl>> members = new ArrayList<>();
          for (String member : p.getMembersList()) {
            members.add(s.req(member, "RunScaleBench.members"));
          }
          return new FenceControl.RunScaleBench(p.getPending(), p.getChain(), members, s.req(p.getReplyTo(), "RunScaleBench.reply_to"));
        });
    s.codec(FenceControl.HoldFences.class, "A.HoldFences",
        m -> FenceV1.HoldFences.newBuilder().setCount(m.count()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.HoldFences::parseFrom,
        p -> new FenceControl.HoldFences(p.getCount(), s.req(p.getReplyTo(), "HoldFences.reply_to")));
    s.codec(FenceControl.BenchReport.class, "A.BenchReport",
        m -> {
          FenceV1.BenchReport.Builder b = FenceV1.BenchReport.newBuilder();
          m.figures().forEach(f -> b.addFigures(FenceV1.BenchFigure.newBuilder().setName(f.name()).setUnit(f.unit())
              .setValue(f.value()).setBaseline(f.baseline()).setRatio(f.ratio()).setHigherIsBetter(f.higherIsBetter())));
          return b.build();
        },
        FenceV1.BenchReport::parseFrom,
        p -> new FenceControl.BenchReport(p.getFiguresList().stream()
            .map(f -> new BenchFigure(f.getName(), f.getUnit(), f.getValue(), f.getBaseline(), f.getRatio(), f.getHigherIsBetter()))
            .toList()));
  }
}
