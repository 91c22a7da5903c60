package dev.fencelab.node.wire;

import static dev.fencelab.node.wire.NodeSerializer.id;
import static dev.fencelab.node.wire.NodeSerializer.kind;

import dev.fencelab.node.fence.ChainFindSeqno;
import dev.fencelab.node.fence.Containers;
import dev.fencelab.node.fence.FenceChain;
import dev.fencelab.node.fence.FenceContext;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.protocol.fence.v1.FenceV1;

/**
 * The codecs of container fences (dma_fence_array, dma_fence_chain, merges, seqno lookups, member queries),
 * registered into {@link NodeSerializer}. Manifests: {@code C.*}, {@code F.GetMembers}, {@code F.Members}.
 */
final class ContainerCodecs {
  private final NodeSerializer s;

  ContainerCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(FenceProtocol.GetMembers.class, "F.GetMembers",
        m -> FenceV1.GetMembers.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.GetMembers::parseFrom,
        p -> new FenceProtocol.GetMembers(s.req(p.getReplyTo(), "GetMembers.reply_to")));
    s.codec(FenceProtocol.Members.class, "F.Members",
        m -> {
          FenceV1.Members.Builder b = FenceV1.Members.newBuilder().setId(id(m.id())).setKind(kind(m.kind()));
          m.members().forEach(f -> b.addMembers(s.fenceRef(f)));
          if (m.prev() != null) {
            b.setPrev(s.fenceRef(m.prev()));
          }
          return b.build();
        },
        FenceV1.Members::parseFrom,
        p -> new FenceProtocol.Members(id(p.getId()), kind(p.getKind()), s.fenceRefs(p.getMembersList()),
            p.hasPrev() ? s.fenceRef(p.getPrev()) : null));
    s.codec(FenceChain.ChainStep.class, "C.ChainStep",
        m -> FenceV1.ChainStep.newBuilder().setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.ChainStep::parseFrom,
        p -> new FenceChain.ChainStep(s.req(p.getReplyTo(), "ChainStep.reply_to")));
    s.codec(FenceChain.ChainStepReply.class, "C.ChainStepReply",
        m -> {
          FenceV1.ChainStepReply.Builder b = FenceV1.ChainStepReply.newBuilder().setId(id(m.id()))
              .setContainedSignalled(m.containedSignalled()).setPrevSeqno(m.prevSeqno());
          if (m.prev() != null) {
            b.setPrev(s.fenceRef(m.prev()));
          }
          return b.build();
        },
        FenceV1.ChainStepReply::parseFrom,
        p -> new FenceChain.ChainStepReply(id(p.getId()), p.getContainedSignalled(), p.getPrevSeqno(),
            p.hasPrev() ? s.fenceRef(p.getPrev()) : null));
    s.codec(Containers.CreateArray.class, "C.CreateArray",
        m -> {
          FenceV1.CreateArray.Builder b = FenceV1.CreateArray.newBuilder().setSignalOnAny(m.signalOnAny())
              .setSeqno(m.seqno()).setReplyTo(s.refOf(m.replyTo()));
          m.members().forEach(f -> b.addMembers(s.fenceRef(f)));
          if (m.context() != null) {
            b.setContext(FenceV1.FenceContext.newBuilder().setOrigin(m.context().origin()).setId(m.context().id()));
          }
          return b.build();
        },
        FenceV1.CreateArray::parseFrom,
        p -> new Containers.CreateArray(s.fenceRefs(p.getMembersList()), p.getSignalOnAny(),
            p.hasContext() ? new FenceContext(p.getContext().getOrigin(), p.getContext().getId()) : null,
            p.getSeqno(), s.req(p.getReplyTo(), "CreateArray.reply_to")));
    s.codec(Containers.CreateChain.class, "C.CreateChain",
        m -> {
          FenceV1.CreateChain.Builder b = FenceV1.CreateChain.newBuilder().setFence(s.fenceRef(m.fence()))
              .setSeqno(m.seqno()).setReplyTo(s.refOf(m.replyTo()));
          if (m.prev() != null) {
            b.setPrev(s.fenceRef(m.prev()));
          }
          return b.build();
        },
        FenceV1.CreateChain::parseFrom,
        p -> new Containers.CreateChain(p.hasPrev() ? s.fenceRef(p.getPrev()) : null, s.fenceRef(p.getFence()), p.getSeqno(),
            s.req(p.getReplyTo(), "CreateChain.reply_to")));
    s.codec(Containers.Merge.class, "C.Merge",
        m -> {
          FenceV1.Merge.Builder b = FenceV1.Merge.newBuilder().setReplyTo(s.refOf(m.replyTo()));
          m.fences().forEach(f -> b.addFences(s.fenceRef(f)));
          return b.build();
        },
        FenceV1.Merge::parseFrom,
        p -> new Containers.Merge(s.fenceRefs(p.getFencesList()), s.req(p.getReplyTo(), "Merge.reply_to")));
    s.codec(Containers.FindSeqno.class, "C.FindSeqno",
        m -> FenceV1.FindSeqno.newBuilder().setHead(s.fenceRef(m.head())).setSeqno(m.seqno()).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.FindSeqno::parseFrom,
        p -> new Containers.FindSeqno(s.fenceRef(p.getHead()), p.getSeqno(), s.req(p.getReplyTo(), "FindSeqno.reply_to")));
    s.codec(ChainFindSeqno.SeqnoFound.class, "C.SeqnoFound",
        m -> {
          FenceV1.SeqnoFound.Builder b = FenceV1.SeqnoFound.newBuilder().setResult(m.result());
          if (m.point() != null) {
            b.setPoint(s.fenceRef(m.point()));
          }
          return b.build();
        },
        FenceV1.SeqnoFound::parseFrom,
        p -> new ChainFindSeqno.SeqnoFound(p.getResult(), p.hasPoint() ? s.fenceRef(p.getPoint()) : null));
    s.codec(Containers.QueryMembers.class, "C.QueryMembers",
        m -> FenceV1.QueryMembers.newBuilder().setId(id(m.id())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.QueryMembers::parseFrom,
        p -> new Containers.QueryMembers(id(p.getId()), s.req(p.getReplyTo(), "QueryMembers.reply_to")));
    s.codec(Containers.QueryChainStep.class, "C.QueryChainStep",
        m -> FenceV1.QueryChainStep.newBuilder().setId(id(m.id())).setReplyTo(s.refOf(m.replyTo())).build(),
        FenceV1.QueryChainStep::parseFrom,
        p -> new Containers.QueryChainStep(id(p.getId()), s.req(p.getReplyTo(), "QueryChainStep.reply_to")));
  }
}
