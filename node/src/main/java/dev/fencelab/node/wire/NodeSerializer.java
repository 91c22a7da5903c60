package dev.fencelab.node.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fencelab.node.NodeWireMessage;
import com.google.protobuf.MessageLite;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceLinks;
import dev.fencelab.node.fence.FenceContext;
import dev.fencelab.node.fence.FenceId;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceStatus;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.fence.v1.FenceV1;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.ExtendedActorSystem;
import dev.fencelab.protocol.wire.RefResolvingSerializer;

/**
 * Maps every {@link NodeWireMessage} to its protobuf form ({@code fencelab/fence/v1/fence.proto}) and back:
 * the one place where node protobuf classes meet domain records. One codec per message type, registered in
 * the constructor: a manifest (stable short name), an encoder and a decoder. Malformed bytes, an unknown
 * manifest or a missing field raise {@link NotSerializableException} naming the message.
 */
public final class NodeSerializer extends RefResolvingSerializer implements dev.fencelab.node.fence.FenceCodec {
  public static final int IDENTIFIER = 740102;

  interface Parser<P> {
    P parse(byte[] bytes) throws InvalidProtocolBufferException;
  }

  interface Decoder<P, T> {
    T decode(P proto) throws NotSerializableException;
  }

  private record Codec<T, P extends MessageLite>(String manifest, Function<T, P> encoder, Parser<P> parser, Decoder<P, T> decoder) {}

  private final Map<Class<?>, Codec<?, ?>> byClass = new HashMap<>();
  private final Map<String, Codec<?, ?>> byManifest = new HashMap<>();

  public NodeSerializer(ExtendedActorSystem system) {
    super(system);
    registerFenceCommands();
    registerFenceReplies();
    registerFenceLinks();
    registerOwners();
    new SwSyncCodecs(this).register();
    new FenceControlCodecs(this).register();
    new ContainerCodecs(this).register();
    new ProcessCodecs(this).register();
    new ResvCodecs(this).register();
    new DeviceCodecs(this).register();
    new MmCodecs(this).register();
    new RdmaCodecs(this).register();
    new BenchCodecs(this).register();
  }

  java.util.List<FenceRef> fenceRefs(java.util.List<FenceV1.FenceRef> protos) throws NotSerializableException {
    java.util.List<FenceRef> out = new java.util.ArrayList<>(protos.size());
    for (FenceV1.FenceRef f : protos) {
      out.add(fenceRef(f));
    }
    return out;
  }

  static FenceV1.FenceKind kind(FenceRef.Kind kind) {
    return FenceV1.FenceKind.valueOf(kind.name());
  }

  static FenceRef.Kind kind(FenceV1.FenceKind kind) throws NotSerializableException {
    return switch (kind) {
      case HARDWARE -> FenceRef.Kind.HARDWARE;
      case SW_SYNC -> FenceRef.Kind.SW_SYNC;
      case ARRAY -> FenceRef.Kind.ARRAY;
      case CHAIN -> FenceRef.Kind.CHAIN;
      case STUB -> FenceRef.Kind.STUB;
      default -> throw new NotSerializableException("unknown fence kind " + kind);
    };
  }

  /** Package-private access for {@link DeviceCodecs}. */
  String refOf(org.apache.pekko.actor.typed.ActorRef<?> r) {
    return ref(r);
  }

  <T> org.apache.pekko.actor.typed.ActorRef<T> opt(String serialized) {
    return optional(serialized);
  }

  <T> org.apache.pekko.actor.typed.ActorRef<T> req(String serialized, String field) throws NotSerializableException {
    return required(serialized, field);
  }

  <T, P extends MessageLite> void codec(
      Class<T> type, String manifest, Function<T, P> encoder, Parser<P> parser, Decoder<P, T> decoder) {
    Codec<T, P> c = new Codec<>(manifest, encoder, parser, decoder);
    if (byClass.put(type, c) != null || byManifest.put(manifest, c) != null) {
      throw new IllegalStateException("duplicate codec for " + type + " / " + manifest);
    }
  }

  private void registerFenceCommands() {
    codec(FenceProtocol.AddCallback.class, "F.AddCallback",
        m -> FenceV1.AddCallback.newBuilder().setCallback(ref(m.callback())).setAck(m.ack()).build(),
        FenceV1.AddCallback::parseFrom,
        p -> new FenceProtocol.AddCallback(required(p.getCallback(), "AddCallback.callback"), p.getAck()));
    codec(FenceProtocol.RemoveCallback.class, "F.RemoveCallback",
        m -> FenceV1.RemoveCallback.newBuilder().setCallback(ref(m.callback())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.RemoveCallback::parseFrom,
        p -> new FenceProtocol.RemoveCallback(required(p.getCallback(), "RemoveCallback.callback"), optional(p.getReplyTo())));
    codec(FenceProtocol.Signal.class, "F.Signal",
        m -> FenceV1.Signal.newBuilder().setError(m.error()).setModelNanos(m.modelNanos()).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.Signal::parseFrom,
        p -> new FenceProtocol.Signal(p.getError(), p.getModelNanos(), optional(p.getReplyTo())));
    codec(FenceProtocol.SetError.class, "F.SetError",
        m -> FenceV1.SetError.newBuilder().setError(m.error()).build(),
        FenceV1.SetError::parseFrom,
        p -> new FenceProtocol.SetError(p.getError()));
    codec(FenceProtocol.EnableSignaling.class, "F.EnableSignaling",
        m -> FenceV1.EnableSignaling.getDefaultInstance(),
        FenceV1.EnableSignaling::parseFrom,
        p -> FenceProtocol.EnableSignaling.INSTANCE);
    codec(FenceProtocol.SetDeadline.class, "F.SetDeadline",
        m -> FenceV1.SetDeadline.newBuilder().setDeadlineNanos(m.deadlineNanos()).build(),
        FenceV1.SetDeadline::parseFrom,
        p -> new FenceProtocol.SetDeadline(p.getDeadlineNanos()));
    codec(FenceProtocol.GetStatus.class, "F.GetStatus",
        m -> FenceV1.GetStatus.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.GetStatus::parseFrom,
        p -> new FenceProtocol.GetStatus(required(p.getReplyTo(), "GetStatus.reply_to")));
    codec(FenceProtocol.Release.class, "F.Release",
        m -> FenceV1.Release.getDefaultInstance(),
        FenceV1.Release::parseFrom,
        p -> FenceProtocol.Release.INSTANCE);
  }

  private void registerFenceLinks() {
    codec(FenceLinks.Batch.class, "F.LinkBatch",
        m -> {
          FenceV1.LinkBatch.Builder b = FenceV1.LinkBatch.newBuilder().setFrom(ref(m.from()));
          m.subscribe().forEach(f -> b.addSubscribe(fenceRef(f)));
          m.signals().forEach(x -> b.addSignals(FenceV1.Signalled.newBuilder().setId(id(x.id())).setStatus(status(x.status()))
              .setAlreadySignalled(x.alreadySignalled())));
          Map<org.apache.pekko.actor.typed.ActorRef<?>, Integer> recipients = new HashMap<>(); // most results of a batch go to a few waiters
          for (FenceLinks.Delivery d : m.results()) {
            Integer to = recipients.get(d.to());
            if (to == null) {
              to = recipients.size();
              recipients.put(d.to(), to);
              b.addRecipients(ref(d.to()));
            }
            b.addResults(FenceV1.LinkDelivery.newBuilder().setTo(to).setResult(waitResult(d.result())));
          }
          return b.build();
        },
        FenceV1.LinkBatch::parseFrom,
        p -> {
          List<FenceProtocol.Signalled> signals = new ArrayList<>(p.getSignalsCount());
          for (FenceV1.Signalled x : p.getSignalsList()) {
            signals.add(new FenceProtocol.Signalled(id(x.getId()), status(x.getStatus()), x.getAlreadySignalled()));
          }
          List<FenceLinks.Delivery> results = new ArrayList<>(p.getResultsCount());
          List<org.apache.pekko.actor.typed.ActorRef<WaitResult>> recipients = new ArrayList<>(p.getRecipientsCount());
          for (String r : p.getRecipientsList()) {
            recipients.add(required(r, "LinkBatch.recipients"));
          }
          for (FenceV1.LinkDelivery d : p.getResultsList()) {
            if (d.getTo() >= recipients.size()) {
              throw new NotSerializableException("LinkDelivery.to " + d.getTo() + " names no recipient (" + recipients.size() + ")");
            }
            results.add(new FenceLinks.Delivery(recipients.get(d.getTo()), waitResult(d.getResult())));
          }
          return new FenceLinks.Batch(required(p.getFrom(), "LinkBatch.from"), fenceRefs(p.getSubscribeList()), signals, results);
        });
  }

  private void registerFenceReplies() {
    codec(FenceProtocol.Signalled.class, "F.Signalled",
        m -> FenceV1.Signalled.newBuilder().setId(id(m.id())).setStatus(status(m.status())).setAlreadySignalled(m.alreadySignalled()).build(),
        FenceV1.Signalled::parseFrom,
        p -> new FenceProtocol.Signalled(id(p.getId()), status(p.getStatus()), p.getAlreadySignalled()));
    codec(FenceProtocol.CallbackAdded.class, "F.CallbackAdded",
        m -> FenceV1.CallbackAdded.newBuilder().setId(id(m.id())).build(),
        FenceV1.CallbackAdded::parseFrom,
        p -> new FenceProtocol.CallbackAdded(id(p.getId())));
    codec(FenceProtocol.CallbackRemoved.class, "F.CallbackRemoved",
        m -> FenceV1.CallbackRemoved.newBuilder().setId(id(m.id())).setWasPending(m.wasPending()).build(),
        FenceV1.CallbackRemoved::parseFrom,
        p -> new FenceProtocol.CallbackRemoved(id(p.getId()), p.getWasPending()));
    codec(FenceProtocol.SignalResult.class, "F.SignalResult",
        m -> FenceV1.SignalResult.newBuilder().setId(id(m.id())).setResult(m.result()).build(),
        FenceV1.SignalResult::parseFrom,
        p -> new FenceProtocol.SignalResult(id(p.getId()), p.getResult()));
    codec(FenceProtocol.StatusReply.class, "F.StatusReply",
        m -> FenceV1.StatusReply.newBuilder().setId(id(m.id())).setStatus(status(m.status()))
            .setSignalingEnabled(m.signalingEnabled()).setDeadlineNanos(m.deadlineNanos()).setEnableOpsCalls(m.enableOpsCalls()).build(),
        FenceV1.StatusReply::parseFrom,
        p -> new FenceProtocol.StatusReply(id(p.getId()), status(p.getStatus()), p.getSignalingEnabled(), p.getDeadlineNanos(),
            p.getEnableOpsCalls()));
    codec(WaitResult.class, "F.WaitResult", NodeSerializer::waitResult, FenceV1.WaitResult::parseFrom, NodeSerializer::waitResult);
  }

  private static FenceV1.WaitResult waitResult(WaitResult m) {
    return FenceV1.WaitResult.newBuilder().setId(id(m.id())).setResult(m.result()).setStatus(status(m.status())).setIndex(m.index()).build();
  }

  private static WaitResult waitResult(FenceV1.WaitResult p) throws NotSerializableException {
    return new WaitResult(id(p.getId()), p.getResult(), status(p.getStatus()), p.getIndex());
  }

  private void registerOwners() {
    codec(ContextOwner.FenceCompleted.class, "O.FenceCompleted",
        m -> FenceV1.FenceCompleted.newBuilder().setId(id(m.id())).setStatus(status(m.status())).build(),
        FenceV1.FenceCompleted::parseFrom,
        p -> new ContextOwner.FenceCompleted(id(p.getId()), status(p.getStatus())));
    codec(ContextOwner.DeadlineHint.class, "O.DeadlineHint",
        m -> FenceV1.DeadlineHint.newBuilder().setSeqno(m.seqno()).setDeadlineNanos(m.deadlineNanos()).build(),
        FenceV1.DeadlineHint::parseFrom,
        p -> new ContextOwner.DeadlineHint(p.getSeqno(), p.getDeadlineNanos()));
    codec(ContextOwner.QueryCompletion.class, "O.QueryCompletion",
        m -> FenceV1.QueryCompletion.newBuilder().setId(id(m.id())).setReplyTo(ref(m.replyTo())).build(),
        FenceV1.QueryCompletion::parseFrom,
        p -> new ContextOwner.QueryCompletion(id(p.getId()), required(p.getReplyTo(), "QueryCompletion.reply_to")));
    codec(ContextOwner.Completion.class, "O.Completion",
        m -> FenceV1.Completion.newBuilder().setId(id(m.id())).setKnown(m.known()).setStatus(status(m.status())).build(),
        FenceV1.Completion::parseFrom,
        p -> new ContextOwner.Completion(id(p.getId()), p.getKnown(), status(p.getStatus())));
    codec(FenceTimeline.CreateFence.class, "T.CreateFence",
        m -> FenceV1.CreateFence.newBuilder().setReplyTo(ref(m.replyTo())).build(),
        FenceV1.CreateFence::parseFrom,
        p -> new FenceTimeline.CreateFence(required(p.getReplyTo(), "CreateFence.reply_to")));
    codec(FenceTimeline.SignalFence.class, "T.SignalFence",
        m -> FenceV1.SignalFence.newBuilder().setSeqno(m.seqno()).setError(m.error()).setModelNanos(m.modelNanos())
            .setReplyTo(ref(m.replyTo())).build(),
        FenceV1.SignalFence::parseFrom,
        p -> new FenceTimeline.SignalFence(p.getSeqno(), p.getError(), p.getModelNanos(), optional(p.getReplyTo())));
    codec(FenceTimeline.SetFenceError.class, "T.SetFenceError",
        m -> FenceV1.SetFenceError.newBuilder().setSeqno(m.seqno()).setError(m.error()).build(),
        FenceV1.SetFenceError::parseFrom,
        p -> new FenceTimeline.SetFenceError(p.getSeqno(), p.getError()));
    codec(FenceTimeline.ReleaseFence.class, "T.ReleaseFence",
        m -> FenceV1.ReleaseFence.newBuilder().setSeqno(m.seqno()).build(),
        FenceV1.ReleaseFence::parseFrom,
        p -> new FenceTimeline.ReleaseFence(p.getSeqno()));
    codec(FenceRef.class, "F.FenceRef",
        this::fenceRef,
        FenceV1.FenceRef::parseFrom,
        this::fenceRef);
  }

  // --- shared sub-messages

  static FenceV1.FenceId id(FenceId id) {
    return FenceV1.FenceId.newBuilder()
        .setContext(FenceV1.FenceContext.newBuilder().setOrigin(id.context().origin()).setId(id.context().id()))
        .setSeqno(id.seqno())
        .build();
  }

  static FenceId id(FenceV1.FenceId p) throws NotSerializableException {
    if (!p.hasContext()) {
      throw new NotSerializableException("FenceId without context");
    }
    return new FenceId(new FenceContext(p.getContext().getOrigin(), p.getContext().getId()), p.getSeqno());
  }

  static FenceV1.FenceStatus status(FenceStatus s) {
    return FenceV1.FenceStatus.newBuilder().setValue(s.value()).setWallNanos(s.wallNanos()).setModelNanos(s.modelNanos()).build();
  }

  static FenceStatus status(FenceV1.FenceStatus p) throws NotSerializableException {
    try {
      return new FenceStatus(p.getValue(), p.getWallNanos(), p.getModelNanos());
    } catch (IllegalArgumentException e) {
      throw new NotSerializableException("FenceStatus: " + e.getMessage());
    }
  }

  /** This system's node serializer (the one bound to every {@link NodeWireMessage}). */
  public static NodeSerializer of(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    try {
      return (NodeSerializer) org.apache.pekko.serialization.SerializationExtension.get(
          org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system)).serializerFor(FenceRef.class);
    } catch (NotSerializableException e) {
      throw new IllegalStateException("no node serializer bound: " + e.getMessage(), e);
    }
  }

  /** The wire form of a fence reference (the step protocol carries fence names as these). */
  @Override
  public FenceV1.FenceRef fenceRef(FenceRef f) {
    return FenceV1.FenceRef.newBuilder()
        .setId(id(f.id()))
        .setKind(kind(f.kind()))
        .setSeqno64(f.seqno64())
        .setActor(ref(f.actor()))
        .setOwner(ref(f.owner()))
        .setStubTimestampNanos(f.stubTimestampNanos())
        .build();
  }

  /** A fence reference from its wire form. */
  @Override
  public FenceRef fenceRef(FenceV1.FenceRef p) throws NotSerializableException {
    FenceRef.Kind kind = kind(p.getKind());
    try {
      return new FenceRef(id(p.getId()), kind, p.getSeqno64(), optional(p.getActor()), optional(p.getOwner()), p.getStubTimestampNanos());
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new NotSerializableException("FenceRef: " + e.getMessage());
    }
  }

  // --- serializer plumbing

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return codecFor(o).manifest();
  }

  @Override
  @SuppressWarnings("unchecked")
  public byte[] toBinary(Object o) {
    Codec<Object, ?> c = (Codec<Object, ?>) codecFor(o);
    return c.encoder().apply(o).toByteArray();
  }

  @Override
  @SuppressWarnings("unchecked")
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    Codec<Object, MessageLite> c = (Codec<Object, MessageLite>) byManifest.get(manifest);
    if (c == null) {
      throw new NotSerializableException("unknown node message manifest '" + manifest + "' (a peer running a newer fencelab?)");
    }
    MessageLite proto;
    try {
      proto = c.parser().parse(bytes);
    } catch (InvalidProtocolBufferException e) {
      NotSerializableException nse = new NotSerializableException("malformed protobuf for node message " + manifest + ": " + e.getMessage());
      nse.initCause(e);
      throw nse;
    }
    return c.decoder().decode(proto);
  }

  private Codec<?, ?> codecFor(Object o) {
    Class<?> type = o.getClass();
    Codec<?, ?> c = byClass.get(type);
    if (c == null && type.isEnum() == false && type.getSuperclass() != null && type.getSuperclass().isEnum()) {
      c = byClass.get(type.getSuperclass()); // enum constants with bodies
    }
    if (c == null) {
      throw new IllegalArgumentException("NodeSerializer has no codec for " + type.getName());
    }
    return c;
  }

  /** Every message type this serializer knows, for the round-trip test. */
  public java.util.Set<Class<?>> knownTypes() {
    return java.util.Set.copyOf(byClass.keySet());
  }
}
