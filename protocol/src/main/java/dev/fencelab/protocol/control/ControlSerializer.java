package dev.fencelab.protocol.control;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fencelab.protocol.control.v1.ControlV1;
import dev.fencelab.protocol.fence.v1.FenceV1;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import dev.fencelab.protocol.wire.RefResolvingSerializer;

/**
 * Maps every {@link ControlMessage} to its protobuf form in {@code fencelab/control/v1/control.proto}
 * and back. The only place where control-plane protobuf classes meet domain records.
 *
 * <p>Manifests are short stable names; the identifier is stable. A payload that does not parse, or an
 * unknown manifest (a peer running a newer version), raises {@link NotSerializableException} naming the
 * manifest and the cause, which Artery logs and drops — the receiving actor never sees a half message.
 */
public final class ControlSerializer extends RefResolvingSerializer {
  /** Stable serializer id; fencelab serializers use 7401xx. */
  public static final int IDENTIFIER = 740101;

  static final String REGISTER = "Register";
  static final String NODE_INFO = "NodeInfo";
  static final String DESCRIBE = "Describe";
  static final String PING = "Ping";
  static final String PONG = "Pong";
  static final String GET_STATUS = "GetStatus";
  static final String CLUSTER_STATUS = "ClusterStatus";
  static final String COLLECT_TRACE = "CollectTrace";
  static final String TRACE_PAGE = "TracePage";
  static final String CRASH = "Crash";
  static final String LIST_WAITS = "ListWaits";
  static final String WAITS_LISTED = "WaitsListed";
  static final String RELEASE_RUN = "ReleaseRun";
  static final String WATCH_WAITS = "WatchWaits";
  static final String WAITS_CHANGED = "WaitsChanged";
  static final String PAUSE_MEMBER = "PauseMember";
  static final String BLACKHOLE = "Blackhole";
  static final String SET_LINK_DELAY = "SetLinkDelay";
  static final String ACK = "Ack";

  public ControlSerializer(ExtendedActorSystem system) {
    super(system);
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof Register) return REGISTER;
    if (o instanceof NodeInfo) return NODE_INFO;
    if (o instanceof Describe) return DESCRIBE;
    if (o instanceof Ping) return PING;
    if (o instanceof Pong) return PONG;
    if (o instanceof GetStatus) return GET_STATUS;
    if (o instanceof ClusterStatus) return CLUSTER_STATUS;
    if (o instanceof CollectTrace) return COLLECT_TRACE;
    if (o instanceof TracePage) return TRACE_PAGE;
    if (o instanceof Crash) return CRASH;
    if (o instanceof ListWaits) return LIST_WAITS;
    if (o instanceof WaitsListed) return WAITS_LISTED;
    if (o instanceof ReleaseRun) return RELEASE_RUN;
    if (o instanceof WatchWaits) return WATCH_WAITS;
    if (o instanceof WaitsChanged) return WAITS_CHANGED;
    if (o instanceof PauseMember) return PAUSE_MEMBER;
    if (o instanceof Blackhole) return BLACKHOLE;
    if (o instanceof SetLinkDelay) return SET_LINK_DELAY;
    if (o instanceof Ack) return ACK;
    throw new IllegalArgumentException("ControlSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof Register m) {
      return ControlV1.Register.newBuilder()
          .setCoordinator(ref(m.coordinator()))
          .setReplyTo(ref(m.replyTo()))
          .build()
          .toByteArray();
    }
    if (o instanceof NodeInfo m) {
      return ControlV1.NodeInfo.newBuilder()
          .setNodeName(m.nodeName())
          .setAddress(m.address())
          .addAllRoles(m.roles())
          .setPid(m.pid())
          .setStartedEpochMillis(m.startedEpochMillis())
          .setVersion(m.version())
          .setAgent(m.agent())
          .build()
          .toByteArray();
    }
    if (o instanceof Describe m) {
      return ControlV1.Describe.newBuilder().setReplyTo(ref(m.replyTo())).build().toByteArray();
    }
    if (o instanceof Ping m) {
      return ControlV1.Ping.newBuilder()
          .setSeq(m.seq())
          .setSentMonoNanos(m.sentMonoNanos())
          .setReplyTo(ref(m.replyTo()))
          .build()
          .toByteArray();
    }
    if (o instanceof Pong m) {
      return ControlV1.Pong.newBuilder()
          .setNodeName(m.nodeName())
          .setSeq(m.seq())
          .setSentMonoNanos(m.sentMonoNanos())
          .setNodeWallEpochMicros(m.nodeWallEpochMicros())
          .setNodeMonoNanos(m.nodeMonoNanos())
          .build()
          .toByteArray();
    }
    if (o instanceof GetStatus m) {
      return ControlV1.GetStatus.newBuilder()
          .setPingTimeoutMillis(m.pingTimeout().toMillis())
          .setReplyTo(ref(m.replyTo()))
          .build()
          .toByteArray();
    }
    if (o instanceof ClusterStatus m) {
      return toProto(m).toByteArray();
    }
    if (o instanceof CollectTrace m) {
      return dev.fencelab.protocol.trace.v1.CollectTrace.newBuilder().setFromSeq(m.fromSeq()).setMax(m.max()).setReplyTo(ref(m.replyTo())).build()
          .toByteArray();
    }
    if (o instanceof TracePage m) {
      return m.chunk().toByteArray();
    }
    if (o instanceof Crash m) {
      return dev.fencelab.protocol.trace.v1.Crash.newBuilder().setReason(m.reason()).build().toByteArray();
    }
    if (o instanceof PauseMember m) {
      return ControlV1.PauseMember.newBuilder().setNanos(m.nanos()).setReason(m.reason()).build().toByteArray();
    }
    if (o instanceof Blackhole m) {
      return ControlV1.Blackhole.newBuilder().addAllAddresses(m.addresses()).setOn(m.on()).setReason(m.reason())
          .setReplyTo(ref(m.replyTo())).build().toByteArray();
    }
    if (o instanceof SetLinkDelay m) {
      return ControlV1.SetLinkDelay.newBuilder().setPeer(m.peer()).setLatencyNanos(m.latencyNanos()).setReplyTo(ref(m.replyTo()))
          .build().toByteArray();
    }
    if (o instanceof Ack m) {
      return ControlV1.Ack.newBuilder().setNodeName(m.nodeName()).setDetail(m.detail()).build().toByteArray();
    }
    if (o instanceof ListWaits m) {
      return FenceV1.ListWaits.newBuilder().setReplyTo(ref(m.replyTo())).setOffset(m.offset()).setMax(m.max()).build().toByteArray();
    }
    if (o instanceof ReleaseRun m) {
      return ControlV1.ReleaseRun.newBuilder().setRun(m.run()).setTag(m.tag()).setReplyTo(m.replyTo() == null ? "" : ref(m.replyTo()))
          .build().toByteArray();
    }
    if (o instanceof WatchWaits m) {
      return FenceV1.WatchWaits.newBuilder().setRun(m.run()).setWatcher(ref(m.watcher())).build().toByteArray();
    }
    if (o instanceof WaitsChanged m) {
      return FenceV1.WaitsChanged.newBuilder().setNodeName(m.nodeName()).addAllAdded(m.added()).addAllRemoved(m.removed()).build()
          .toByteArray();
    }
    if (o instanceof WaitsListed m) {
      return FenceV1.WaitsListed.newBuilder().setNodeName(m.nodeName()).addAllEdges(m.edges()).setTotal(m.total())
          .setOffset(m.offset()).build().toByteArray();
    }
    throw new IllegalArgumentException("ControlSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    try {
      switch (manifest) {
        case REGISTER: {
          ControlV1.Register p = ControlV1.Register.parseFrom(bytes);
          return new Register(required(p.getCoordinator(), manifest), required(p.getReplyTo(), manifest));
        }
        case NODE_INFO: {
          ControlV1.NodeInfo p = ControlV1.NodeInfo.parseFrom(bytes);
          return new NodeInfo(
              p.getNodeName(),
              p.getAddress(),
              p.getRolesList(),
              p.getPid(),
              p.getStartedEpochMillis(),
              p.getVersion(),
              p.getAgent());
        }
        case DESCRIBE:
          return new Describe(required(ControlV1.Describe.parseFrom(bytes).getReplyTo(), manifest));
        case PING: {
          ControlV1.Ping p = ControlV1.Ping.parseFrom(bytes);
          return new Ping(p.getSeq(), p.getSentMonoNanos(), required(p.getReplyTo(), manifest));
        }
        case PONG: {
          ControlV1.Pong p = ControlV1.Pong.parseFrom(bytes);
          return new Pong(
              p.getNodeName(), p.getSeq(), p.getSentMonoNanos(), p.getNodeWallEpochMicros(), p.getNodeMonoNanos());
        }
        case GET_STATUS: {
          ControlV1.GetStatus p = ControlV1.GetStatus.parseFrom(bytes);
          if (p.getPingTimeoutMillis() <= 0) {
            throw new NotSerializableException(
                "GetStatus: ping_timeout_millis must be positive, was " + p.getPingTimeoutMillis());
          }
          return new GetStatus(Duration.ofMillis(p.getPingTimeoutMillis()), required(p.getReplyTo(), manifest));
        }
        case CLUSTER_STATUS:
          return fromProto(ControlV1.ClusterStatus.parseFrom(bytes));
        case COLLECT_TRACE: {
          dev.fencelab.protocol.trace.v1.CollectTrace p = dev.fencelab.protocol.trace.v1.CollectTrace.parseFrom(bytes);
          if (p.getMax() < 1) {
            throw new NotSerializableException("CollectTrace: max must be positive, was " + p.getMax());
          }
          return new CollectTrace(p.getFromSeq(), p.getMax(), required(p.getReplyTo(), manifest));
        }
        case TRACE_PAGE:
          return new TracePage(dev.fencelab.protocol.trace.v1.TraceChunk.parseFrom(bytes));
        case CRASH:
          return new Crash(dev.fencelab.protocol.trace.v1.Crash.parseFrom(bytes).getReason());
        case PAUSE_MEMBER: {
          ControlV1.PauseMember p = ControlV1.PauseMember.parseFrom(bytes);
          if (p.getNanos() <= 0) {
            throw new NotSerializableException("PauseMember: nanos must be positive, was " + p.getNanos());
          }
          return new PauseMember(p.getNanos(), p.getReason());
        }
        case BLACKHOLE: {
          ControlV1.Blackhole p = ControlV1.Blackhole.parseFrom(bytes);
          return new Blackhole(p.getAddressesList(), p.getOn(), p.getReason(), required(p.getReplyTo(), manifest));
        }
        case SET_LINK_DELAY: {
          ControlV1.SetLinkDelay p = ControlV1.SetLinkDelay.parseFrom(bytes);
          if (p.getLatencyNanos() < 0) {
            throw new NotSerializableException("SetLinkDelay: latency_nanos must be 0 or more, was " + p.getLatencyNanos());
          }
          return new SetLinkDelay(p.getPeer(), p.getLatencyNanos(), required(p.getReplyTo(), manifest));
        }
        case ACK: {
          ControlV1.Ack p = ControlV1.Ack.parseFrom(bytes);
          return new Ack(p.getNodeName(), p.getDetail());
        }
        case LIST_WAITS: {
          FenceV1.ListWaits p = FenceV1.ListWaits.parseFrom(bytes);
          if (p.getMax() < 1 || p.getMax() > ListWaits.PAGE || p.getOffset() > Integer.MAX_VALUE) {
            throw new NotSerializableException("ListWaits: a page is 1.." + ListWaits.PAGE + " waits, was " + p.getMax());
          }
          return new ListWaits(required(p.getReplyTo(), manifest), p.getOffset(), p.getMax());
        }
        case RELEASE_RUN: {
          ControlV1.ReleaseRun p = ControlV1.ReleaseRun.parseFrom(bytes);
          return new ReleaseRun(p.getRun(), p.getTag(), p.getReplyTo().isEmpty() ? null : required(p.getReplyTo(), manifest));
        }
        case WATCH_WAITS: {
          FenceV1.WatchWaits p = FenceV1.WatchWaits.parseFrom(bytes);
          return new WatchWaits(p.getRun(), required(p.getWatcher(), manifest));
        }
        case WAITS_CHANGED: {
          FenceV1.WaitsChanged p = FenceV1.WaitsChanged.parseFrom(bytes);
          return new WaitsChanged(p.getNodeName(), p.getAddedList(), p.getRemovedList());
        }
        case WAITS_LISTED: {
          FenceV1.WaitsListed p = FenceV1.WaitsListed.parseFrom(bytes);
          return new WaitsListed(p.getNodeName(), p.getEdgesList(), p.getTotal(), p.getOffset());
        }
        default:
          throw new NotSerializableException(
              "unknown control-plane manifest '" + manifest + "' (a peer running a newer fencelab?)");
      }
    } catch (InvalidProtocolBufferException e) {
      NotSerializableException nse =
          new NotSerializableException("malformed protobuf for control message " + manifest + ": " + e.getMessage());
      nse.initCause(e);
      throw nse;
    }
  }

  private static ControlV1.ClusterStatus toProto(ClusterStatus m) {
    ControlV1.ClusterStatus.Builder b = ControlV1.ClusterStatus.newBuilder()
        .setCoordinatorAddress(m.coordinatorAddress())
        .setAsOfEpochMillis(m.asOfEpochMillis());
    for (ClusterStatus.Member x : m.members()) {
      b.addMembers(ControlV1.MemberState.newBuilder()
          .setAddress(x.address())
          .addAllRoles(x.roles())
          .setStatus(x.status())
          .setReachable(x.reachable())
          .setNodeName(x.nodeName()));
    }
    for (ClusterStatus.Node x : m.nodes()) {
      b.addNodes(ControlV1.NodeState.newBuilder()
          .setNodeName(x.nodeName())
          .setAddress(x.address())
          .setResponded(x.responded())
          .setRttNanos(x.rttNanos())
          .setPid(x.pid()));
    }
    for (ClusterStatus.MemberEvent x : m.events()) {
      b.addEvents(ControlV1.MemberEvent.newBuilder()
          .setEpochMillis(x.epochMillis())
          .setKind(kindToProto(x.kind()))
          .setAddress(x.address())
          .addAllRoles(x.roles()));
    }
    return b.build();
  }

  private static ClusterStatus fromProto(ControlV1.ClusterStatus p) throws NotSerializableException {
    List<ClusterStatus.Member> members = new ArrayList<>(p.getMembersCount());
    for (ControlV1.MemberState x : p.getMembersList()) {
      members.add(new ClusterStatus.Member(x.getAddress(), x.getRolesList(), x.getStatus(), x.getReachable(), x.getNodeName()));
    }
    List<ClusterStatus.Node> nodes = new ArrayList<>(p.getNodesCount());
    for (ControlV1.NodeState x : p.getNodesList()) {
      nodes.add(new ClusterStatus.Node(x.getNodeName(), x.getAddress(), x.getResponded(), x.getRttNanos(), x.getPid()));
    }
    List<ClusterStatus.MemberEvent> events = new ArrayList<>(p.getEventsCount());
    for (ControlV1.MemberEvent x : p.getEventsList()) {
      events.add(new ClusterStatus.MemberEvent(x.getEpochMillis(), kindFromProto(x.getKind()), x.getAddress(), x.getRolesList()));
    }
    return new ClusterStatus(p.getCoordinatorAddress(), p.getAsOfEpochMillis(), members, nodes, events);
  }

  static ControlV1.MemberEventKind kindToProto(ClusterStatus.Kind kind) {
    return switch (kind) {
      case JOINED -> ControlV1.MemberEventKind.MEMBER_JOINED;
      case UP -> ControlV1.MemberEventKind.MEMBER_UP;
      case UNREACHABLE -> ControlV1.MemberEventKind.MEMBER_UNREACHABLE;
      case REACHABLE -> ControlV1.MemberEventKind.MEMBER_REACHABLE;
      case LEFT -> ControlV1.MemberEventKind.MEMBER_LEFT;
      case EXITED -> ControlV1.MemberEventKind.MEMBER_EXITED;
      case DOWNED -> ControlV1.MemberEventKind.MEMBER_DOWNED;
      case REMOVED -> ControlV1.MemberEventKind.MEMBER_REMOVED;
    };
  }

  static ClusterStatus.Kind kindFromProto(ControlV1.MemberEventKind kind) throws NotSerializableException {
    return switch (kind) {
      case MEMBER_JOINED -> ClusterStatus.Kind.JOINED;
      case MEMBER_UP -> ClusterStatus.Kind.UP;
      case MEMBER_UNREACHABLE -> ClusterStatus.Kind.UNREACHABLE;
      case MEMBER_REACHABLE -> ClusterStatus.Kind.REACHABLE;
      case MEMBER_LEFT -> ClusterStatus.Kind.LEFT;
      case MEMBER_EXITED -> ClusterStatus.Kind.EXITED;
      case MEMBER_DOWNED -> ClusterStatus.Kind.DOWNED;
      case MEMBER_REMOVED -> ClusterStatus.Kind.REMOVED;
      case MEMBER_EVENT_KIND_UNSPECIFIED, UNRECOGNIZED ->
          throw new NotSerializableException("ClusterStatus: unknown member event kind " + kind);
    };
  }
}
