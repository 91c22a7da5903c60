package dev.fencelab.node.cluster;

import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.protocol.control.NodeControl;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/** Device placement commands a node agent accepts from the control plane (the coordinator, tests, the bench). */
public final class DeviceControl {
  private DeviceControl() {}

  /** Place a device (and its driver) on this member. */
  public record PlaceDevice(DeviceSpec spec, ActorRef<DevicePlaced> replyTo) implements NodeControl, NodeWireMessage {
    public PlaceDevice {
      Objects.requireNonNull(spec, "spec");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The device's driver — every call goes to it — or {@code error < 0} (-EEXIST: the name is taken on this member). */
  public record DevicePlaced(ActorRef<DriverProtocol.Command> driver, int error, String detail) implements NodeWireMessage {
    public DevicePlaced {
      Objects.requireNonNull(detail, "detail");
    }
  }

  /** Run {@code fencelab bench devices} on this member with {@code peer} (another node's agent). */
  public record RunDeviceBench(int jobs, int copyBytes, int copies, ActorRef<NodeControl> peer,
      ActorRef<FenceControl.BenchReport> replyTo) implements NodeControl, NodeWireMessage {
    public RunDeviceBench {
      Objects.requireNonNull(peer, "peer");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Bench support: start a raw byte source on this member (the baseline of the copy figure). */
  public record SpawnRawSource(ActorRef<RawSourceSpawned> replyTo) implements NodeControl, NodeWireMessage {}

  public record RawSourceSpawned(ActorRef<DriverProtocol.Command> source) implements NodeWireMessage {}

  /** Bench: spawn a notifier subscriber that answers every invalidate callback at once (true). */
  public record SpawnAckSubscriber(ActorRef<AckSubscriberSpawned> replyTo) implements NodeControl, NodeWireMessage {}

  public record AckSubscriberSpawned(ActorRef<dev.fencelab.node.mm.MmProtocol.Invalidate> subscriber) implements NodeWireMessage {}

  /** Run {@code fencelab bench rdma} on this member with {@code peer}: {@code writes} RDMA WRITEs of {@code bytes}, {@code small} of 64 B. */
  public record RunRdmaBench(long bytes, int writes, int small, ActorRef<NodeControl> peer, ActorRef<FenceControl.BenchReport> replyTo)
      implements NodeControl, NodeWireMessage {
    public RunRdmaBench {
      Objects.requireNonNull(peer, "peer");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * Bench: set up the responder side on this member — a process's {@code bytes} of memory registered (pinned) with a
   * NIC, a PD, a CQ and a QP — for as long as {@code owner} lives.
   */
  public record SpawnRdmaPeer(long bytes, ActorRef<?> owner, ActorRef<RdmaPeerReady> replyTo) implements NodeControl, NodeWireMessage {}

  /** The responder side: its NIC, QP and MR names, or {@code error < 0}. */
  public record RdmaPeerReady(ActorRef<Object> nic, String qp, String mr, int error, String detail) implements NodeWireMessage {
    public RdmaPeerReady {
      Objects.requireNonNull(detail, "detail");
    }
  }
}
