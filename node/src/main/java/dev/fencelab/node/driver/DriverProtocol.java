package dev.fencelab.node.driver;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.NodeWireMessage;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a driver accepts: the ioctl-like calls of emulated processes (named by the process on whose behalf they
 * are made), the exporter/importer protocol between drivers, content access, and chaos. Every call answers with
 * a result that is 0 or a negative errno, as the kernel's ioctls do; the errors are listed on each call and in the
 * package documentation.
 */
public final class DriverProtocol {
  private DriverProtocol() {}

  public interface Command {}

  /** Where a buffer object lives. */
  public enum Placement {
    VRAM,
    SYSTEM
  }

  /** 0 or a negative errno. */
  public record Result(int result) implements NodeWireMessage {}

  // --- process calls

  /** Create a buffer object: -EINVAL for size 0, -ENOMEM when VRAM is exhausted (or the device has none), -ENODEV after unplug. */
  public record CreateBo(String process, String name, long size, Placement placement, ActorRef<BoReply> replyTo)
      implements Command, NodeWireMessage {
    public CreateBo {
      Objects.requireNonNull(process, "process");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(placement, "placement");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * A userptr buffer object over {@code [start, start + length)} of the process's address space {@code mm} (any
   * member), kept valid as the device's userptr policy says (§1.15): -EINVAL for length 0 or an unaligned range,
   * -ENODEV after unplug, -ESRCH when the mm is gone, -EFAULT (pin) when the range is not mapped.
   */
  public record CreateUserptr(String process, String name, ActorRef<dev.fencelab.node.mm.MmProtocol.Command> mm, long start, long length,
      ActorRef<BoReply> replyTo) implements Command, NodeWireMessage {
    public CreateUserptr {
      Objects.requireNonNull(process, "process");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(mm, "mm");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** A buffer handle (≥ 1) of the process on this driver, or a negative errno. */
  public record BoReply(int result, int handle) implements NodeWireMessage {}

  /**
   * Submit a job. Errors: -ENODEV (unplugged), -ENOENT (a buffer handle the process does not have), -EINVAL (bad
   * engine or copy range), -ECANCELED (the process caused a reset), -EIO (the device is wedged). On success the
   * out-fence is published in every buffer's reservation object before the reply.
   */
  /**
   * Local, from the driver's own parts: move buffer {@code handle} (TTM) as a job of {@code nanos} model time on engine 0,
   * its fence added to the buffer's reservation object as KERNEL; answered once the fence is there.
   */
  public record Move(int handle, long nanos, String why, ActorRef<SubmitReply> replyTo)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /** HMM: {@code mm} holds device-private pages of this device; a soft unplug evicts them back to RAM first. */
  public record HoldsDevicePrivate(ActorRef<dev.fencelab.node.mm.MmProtocol.Command> mm) implements Command, NodeWireMessage {
    public HoldsDevicePrivate {
      Objects.requireNonNull(mm, "mm");
    }
  }

  public record Submit(String process, JobSpec job, List<FenceRef> inFences, ActorRef<SubmitReply> replyTo)
      implements Command, NodeWireMessage {
    public Submit {
      Objects.requireNonNull(process, "process");
      Objects.requireNonNull(job, "job");
      inFences = List.copyOf(inFences);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  public record SubmitReply(int result, FenceRef outFence) implements NodeWireMessage {}

  /** {@code dma_buf_export}: -ENOENT for an unknown handle, -EINVAL for an imported one (re-export is not modelled). */
  public record Export(String process, int handle, int omitOps, ActorRef<ExportReply> replyTo) implements Command, NodeWireMessage {
    /** Exporter ops left out ({@code dma_buf_ops}): none, so the exporter is dynamic (it has pin and unpin). */
    public Export(String process, int handle, ActorRef<ExportReply> replyTo) {
      this(process, handle, 0, replyTo);
    }
  }

  /** {@link Export#omitOps} bits: the exporter has no {@code pin} op, no {@code unpin} op (§1.12: both or neither). */
  public static final int NO_PIN = 1;
  public static final int NO_UNPIN = 2;

  public record ExportReply(int result, DmaBufRef buf) implements NodeWireMessage {}

  /**
   * PRIME import: attach to the exporter as a static or dynamic importer and give the process a handle.
   * -ENODEV when the exporter is gone or unplugged.
   */
  public record Import(String process, DmaBufRef buf, boolean dynamic, boolean noMoveNotify, boolean peer2peer, ActorRef<BoReply> replyTo)
      implements Command, NodeWireMessage {
    public Import(String process, DmaBufRef buf, boolean dynamic, ActorRef<BoReply> replyTo) {
      this(process, buf, dynamic, false, false, replyTo);
    }
  }

  /**
   * At placement: the device's PCI function {@code endpoint} in the host's fabric {@code pcie} (with {@code devices}, the
   * scenario's devices, placed by default where the section does not place them), and the run's
   * {@link dev.fencelab.node.p2p.PcieFabric} (null: transfers are costed alone, by the driver).
   */
  public record UsePcie(String endpoint, dev.fencelab.protocol.scenario.v1.Pcie pcie, List<String> devices,
      ActorRef<dev.fencelab.node.p2p.FabricProtocol.Command> fabric) implements Command, NodeWireMessage {
    public UsePcie {
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(pcie, "pcie");
      devices = List.copyOf(devices);
    }
  }

  /**
   * Map: the buffer's DMA segments as this device sees them ({@code dma_buf_map_attachment} for an imported
   * buffer). -ENODEV once the exporter revoked it (unplug) — also for a mapping made before.
   */
  public record MapBo(String process, int handle, ActorRef<MapReply> replyTo) implements Command, NodeWireMessage {}

  public record Segment(long address, long length) {}

  /**
   * {@code system}: the segments are host memory; {@code migrated}: bytes the exporter moved out of VRAM for this map
   * (an importer that cannot use the BAR), taking {@code migrateNanos} of model time; {@code route}: how this device
   * reaches the memory (local, bus_addr, thru_host_bridge, host_memory), "" when unknown.
   */
  public record MapReply(int result, List<Segment> segments, boolean system, long migrated, long migrateNanos, String route)
      implements NodeWireMessage {
    public MapReply {
      segments = List.copyOf(segments);
      java.util.Objects.requireNonNull(route, "route");
    }

    public MapReply(int result, List<Segment> segments) {
      this(result, segments, false, 0, 0, "");
    }
  }

  /** {@code dma_buf_pin}/{@code unpin} on an imported buffer; pinning as a static importer is a WARN (violation). */
  public record Pin(String process, int handle, boolean pin, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  /**
   * {@code DMA_BUF_IOCTL_SYNC}: START waits for the implicit fences of {@code dma_resv_usage_rw(write)}; END
   * returns at once. Flags: READ 1, WRITE 2, END 4 — anything else, or no direction, is -EINVAL.
   */
  public record CpuAccess(String process, int handle, int flags, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  /** The exporter moves (evicts) the buffer to system memory: -EBUSY while pinned; dynamic importers get move_notify. */
  public record Evict(int handle, ActorRef<EvictReply> replyTo) implements Command, NodeWireMessage {}

  /** The reservation object of {@code process}'s buffer {@code handle} (its exporter's, for an import); -ENOENT. */
  public record GetResv(String process, int handle, ActorRef<ResvReply> replyTo) implements Command, NodeWireMessage {}

  /** Answer to {@link GetResv}: the buffer's {@code dma_resv} and its rules, or {@code result < 0} and no resv. */
  public record ResvReply(int result, ActorRef<dev.fencelab.node.resv.Resv.Command> resv, dev.fencelab.node.resv.Resv.Mode mode)
      implements NodeWireMessage {}

  /** Answer to {@link Evict}: 0 or -errno, and how many importers got move_notify (the dynamic ones, once each). */
  public record EvictReply(int result, int notified) implements NodeWireMessage {}

  /** The checksum of a buffer's content (an imported one is asked of its exporter). */
  public record Checksum(int handle, ActorRef<ChecksumReply> replyTo) implements Command, NodeWireMessage {}

  /** {@code checksum} formatted {@code crc32c:…/size}. */
  public record ChecksumReply(int result, String checksum, long size) implements NodeWireMessage {}

  // --- chaos and lifecycle

  /** Soft unplug (see the package documentation). */
  public record Unplug(ActorRef<UnplugReport> replyTo) implements Command, NodeWireMessage {}

  public record UnplugReport(String device, int jobsCancelled, int importersRevoked, int buffersReleased) implements NodeWireMessage {}

  public record InjectFault(DeviceActor.FaultKind kind, int engine, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  public record GetState(ActorRef<State> replyTo) implements Command, NodeWireMessage {}

  /** One buffer as the driver sees it. */
  public record BoInfo(int handle, String name, String owner, long size, Placement placement, boolean imported, boolean revoked,
      boolean mapped, int attachments) {}

  public record State(String device, boolean unplugged, boolean wedged, int resets, List<String> guilty, List<BoInfo> buffers)
      implements NodeWireMessage {
    public State {
      guilty = List.copyOf(guilty);
      buffers = List.copyOf(buffers);
    }
  }

  // --- exporter <-> importer

  /** To the exporter: attach {@code importer}'s buffer {@code importerHandle}. */
  /** {@code peer2peer}: the importer's ops allow peer2peer; {@code endpoint}: its PCI function ("" unknown). */
  public record Attach(int handle, boolean dynamic, ActorRef<Command> importer, int importerHandle, ActorRef<Attached> replyTo,
      boolean peer2peer, String endpoint) implements Command, NodeWireMessage {
    public Attach {
      java.util.Objects.requireNonNull(endpoint, "endpoint");
    }

    public Attach(int handle, boolean dynamic, ActorRef<Command> importer, int importerHandle, ActorRef<Attached> replyTo) {
      this(handle, dynamic, importer, importerHandle, replyTo, false, "");
    }
  }

  /**
   * An attachment id (≥ 1), or -ENODEV / -ENOENT; {@code peer2peer} as the exporter left it ({@code attach->peer2peer});
   * {@code endpoint}: the exporter's PCI function; {@code detail}: the distance it checked.
   */
  public record Attached(int result, int attachment, boolean peer2peer, String endpoint, String detail) implements NodeWireMessage {
    public Attached {
      java.util.Objects.requireNonNull(endpoint, "endpoint");
      java.util.Objects.requireNonNull(detail, "detail");
    }

    public Attached(int result, int attachment) {
      this(result, attachment, false, "", "");
    }
  }

  public record Detach(int handle, int attachment) implements Command, NodeWireMessage {}

  /** To the exporter: map (static importers of a movable buffer are pinned by it) or pin/unpin an attachment. */
  public record MapAttachment(int handle, int attachment, ActorRef<MapReply> replyTo) implements Command, NodeWireMessage {}

  public record PinAttachment(int handle, int attachment, boolean pin, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  /** To an importer: {@code move_notify} — the mapping is stale; {@code revoked}: the buffer is gone for good (unplug). */
  public record MoveNotify(int importerHandle, boolean revoked) implements Command, NodeWireMessage {}

  /**
   * The importer's {@code move_notify} callback returned: its mapping of attachment {@code attachment} of the exporter's
   * buffer {@code handle} is gone. Sent to the exporter's driver itself, so it arrives after every DMA the importer sent
   * it before (per sender-receiver ordering); the exporter frees revoked memory only after every importer's answer.
   */
  public record MoveNotified(int handle, int attachment) implements Command, NodeWireMessage {}

  // --- content (DMA), between drivers and from a driver to itself

  public record ReadRange(int handle, long offset, int length, long tag, ActorRef<RangeData> replyTo) implements Command, NodeWireMessage {}

  /** How a range of a buffer is held ({@link dev.fencelab.node.memory.Content#layout}), so that a copy plans its reads. */
  public record Layout(int handle, long offset, long length, ActorRef<LayoutReply> replyTo) implements Command, NodeWireMessage {}

  public record LayoutReply(int result, List<dev.fencelab.node.memory.Content.Extent> extents) implements NodeWireMessage {
    public LayoutReply {
      extents = List.copyOf(extents);
    }
  }

  public record RangeData(long tag, int result, List<Chunk> chunks) implements NodeWireMessage {
    public RangeData {
      chunks = List.copyOf(chunks);
    }
  }

  public record WriteRange(int handle, List<Chunk> chunks, long tag, ActorRef<WriteAck> replyTo) implements Command, NodeWireMessage {
    public WriteRange {
      chunks = List.copyOf(chunks);
    }
  }

  public record WriteAck(long tag, int result) implements NodeWireMessage {}
}
