package dev.fencelab.node.driver;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.Engine;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import dev.fencelab.node.resv.AcquireCtx;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The kernel side of one device (see the package documentation for the contract and every error code).
 *
 * <p>Owns: the device (child), its buffer objects with their content and reservation objects (children), its
 * exports with their attachments, its imports. Talks to: emulated processes (their calls), other drivers
 * (exporter/importer protocol, DMA), its device and engines. Watches exporters it imports from and importers
 * attached to it: a dead exporter revokes the imports (hard unplug), a dead importer detaches.
 */
public final class DriverActor extends AbstractBehavior<DriverProtocol.Command> {
  /** DMA addresses: VRAM through the device's BAR, system memory in 2 MiB runs. */
  private static final long BAR_BASE = 0x0000_0080_0000_0000L;
  private static final long SYSTEM_BASE = 0x0000_0001_0000_0000L;
  private static final long RUN = 2L << 20;

  private interface Internal extends DriverProtocol.Command, NoSerializationVerificationNeeded {}

  private record Execute(Engine.Execute job) implements Internal {}

  private record ImportAttached(int handle, DriverProtocol.Attached attached, ActorRef<DriverProtocol.BoReply> replyTo) implements Internal {}

  private record ImportMapped(int handle, DriverProtocol.MapReply reply, ActorRef<DriverProtocol.MapReply> replyTo) implements Internal {}

  private record MapWaited(WaitResult result, DriverProtocol.MapReply reply, ActorRef<DriverProtocol.MapReply> replyTo) implements Internal {}

  private record CpuWaited(WaitResult result, ActorRef<DriverProtocol.Result> replyTo) implements Internal {}

  private record DeviceUnplugged(int cancelled, ActorRef<DriverProtocol.UnplugReport> replyTo, int revoked, int released) implements Internal {}

  private record Reply<T>(ActorRef<T> to, T message) implements Internal {}

  private static final class Bo {
    final int handle;
    final String name;
    final String owner;
    final long size;
    DriverProtocol.Placement placement;
    long address;
    Content content; // null for imports
    ActorRef<Resv.Command> resv;
    DmaBufRef exported;
    final Map<Integer, Attachment> attachments = new LinkedHashMap<>();
    DmaBufRef imported;
    int attachment;
    boolean dynamic;
    boolean staticExporter; // exported without pin/unpin ops: never moved while attached
    boolean revoked;
    boolean mapped;

    Bo(int handle, String name, String owner, long size) {
      this.handle = handle;
      this.name = name;
      this.owner = owner;
      this.size = size;
    }
  }

  private static final class Attachment {
    final int id;
    final ActorRef<DriverProtocol.Command> importer;
    final int importerHandle;
    final boolean dynamic;
    boolean pinned;
    boolean mapped;

    Attachment(int id, ActorRef<DriverProtocol.Command> importer, int importerHandle, boolean dynamic) {
      this.id = id;
      this.importer = importer;
      this.importerHandle = importerHandle;
      this.dynamic = dynamic;
    }
  }

  private final DeviceSpec spec;
  private final String label;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final DriverSettings settings;
  private final ActorRef<DeviceActor.Command> device;
  private final Map<Integer, Bo> bos = new HashMap<>();
  private int nextHandle = 1;
  private int nextAttachment = 1;
  private long nextJob = 1;
  private long vramUsed;
  private boolean unplugged;

  /** @param label how the device is named in traces and violations: {@code node/device} */
  public static Behavior<DriverProtocol.Command> create(DeviceSpec spec, String label, FenceServices services,
      ActorRef<ContextOwner.Command> containers, DriverSettings settings) {
    return Behaviors.setup(context -> new DriverActor(context, spec, label, services, containers, settings));
  }

  private DriverActor(ActorContext<DriverProtocol.Command> context, DeviceSpec spec, String label, FenceServices services,
      ActorRef<ContextOwner.Command> containers, DriverSettings settings) {
    super(context);
    this.spec = spec;
    this.label = label;
    this.services = services;
    this.containers = containers;
    this.settings = settings;
    ActorRef<Engine.Execute> execute = context.messageAdapter(Engine.Execute.class, Execute::new);
    this.device = context.spawn(DeviceActor.create(spec, label, execute, services, settings.pacing()), "device");
  }

  @Override
  public Receive<DriverProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(DriverProtocol.CreateBo.class, this::onCreateBo)
        .onMessage(DriverProtocol.Submit.class, this::onSubmit)
        .onMessage(Execute.class, this::onExecute)
        .onMessage(DriverProtocol.Export.class, this::onExport)
        .onMessage(DriverProtocol.Import.class, this::onImport)
        .onMessage(ImportAttached.class, this::onImportAttached)
        .onMessage(DriverProtocol.MapBo.class, this::onMap)
        .onMessage(ImportMapped.class, this::onImportMapped)
        .onMessage(DriverProtocol.Pin.class, this::onPin)
        .onMessage(DriverProtocol.CpuAccess.class, this::onCpuAccess)
        .onMessage(CpuWaited.class, w -> {
          w.replyTo().tell(new DriverProtocol.Result(w.result().signalled() ? 0
              : w.result().result() < 0 ? (int) w.result().result() : Errno.ETIMEDOUT.negative()));
          return this;
        })
        .onMessage(DriverProtocol.Evict.class, this::onEvict)
        .onMessage(DriverProtocol.GetResv.class, g -> {
          Bo bo = g.process().isEmpty() ? bos.get(g.handle()) : lookup(g.process(), g.handle()); // "": the exporter's own step
          g.replyTo().tell(bo == null || unplugged
              ? new DriverProtocol.ResvReply(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), null, null)
              : new DriverProtocol.ResvReply(0, bo.resv, settings.resvMode()));
          return this;
        })
        .onMessage(MapWaited.class, w -> {
          // dma_buf_map_attachment of a static importer returns once the resv's KERNEL fences (moves) completed.
          w.replyTo().tell(w.result().result() < 0 ? new DriverProtocol.MapReply((int) w.result().result(), List.of()) : w.reply());
          return this;
        })
        .onMessage(DriverProtocol.Checksum.class, this::onChecksum)
        .onMessage(DriverProtocol.Attach.class, this::onAttach)
        .onMessage(DriverProtocol.Detach.class, d -> {
          Bo bo = bos.get(d.handle());
          if (bo != null) {
            bo.attachments.remove(d.attachment());
          }
          return this;
        })
        .onMessage(DriverProtocol.MapAttachment.class, this::onMapAttachment)
        .onMessage(DriverProtocol.PinAttachment.class, this::onPinAttachment)
        .onMessage(DriverProtocol.MoveNotify.class, this::onMoveNotify)
        .onMessage(DriverProtocol.ReadRange.class, this::onReadRange)
        .onMessage(DriverProtocol.WriteRange.class, this::onWriteRange)
        .onMessage(DriverProtocol.Unplug.class, this::onUnplug)
        .onMessage(DeviceUnplugged.class, this::onDeviceUnplugged)
        .onMessage(DriverProtocol.InjectFault.class, f -> {
          getContext().ask(Integer.class, device, settings.callTimeout(), ref -> new DeviceActor.InjectFault(f.kind(), f.engine(), ref),
              (r, failure) -> new Reply<>(f.replyTo(), new DriverProtocol.Result(r != null ? r : Errno.ETIMEDOUT.negative())));
          return this;
        })
        .onMessage(DriverProtocol.GetState.class, g -> {
          getContext().ask(DeviceActor.State.class, device, settings.callTimeout(), DeviceActor.GetState::new,
              (s, failure) -> new Reply<>(g.replyTo(), state(s)));
          return this;
        })
        .onMessage(Reply.class, this::onReply)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  @SuppressWarnings("unchecked")
  private Behavior<DriverProtocol.Command> onReply(Reply<?> reply) {
    ((ActorRef<Object>) reply.to()).tell(reply.message());
    return this;
  }

  // --- buffers

  private Behavior<DriverProtocol.Command> onCreateBo(DriverProtocol.CreateBo create) {
    if (unplugged) {
      create.replyTo().tell(new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0));
      return this;
    }
    if (create.size() <= 0) {
      create.replyTo().tell(new DriverProtocol.BoReply(Errno.EINVAL.negative(), 0));
      return this;
    }
    long aligned = (create.size() + 4095) & ~4095L;
    if (create.placement() == DriverProtocol.Placement.VRAM && aligned > spec.vramBytes() - vramUsed) {
      create.replyTo().tell(new DriverProtocol.BoReply(Errno.ENOMEM.negative(), 0));
      return this;
    }
    Bo bo = new Bo(nextHandle++, create.name(), create.process(), create.size());
    bo.placement = create.placement();
    if (bo.placement == DriverProtocol.Placement.VRAM) {
      bo.address = BAR_BASE + vramUsed;
      vramUsed += aligned;
    } else {
      bo.address = systemAddress(bo.handle);
    }
    bo.content = new Content(create.size(), settings.bytesThreshold());
    bo.resv = getContext().spawn(Resv.create(label + "/" + create.name(), settings.resvMode(), containers, services), "resv-bo" + bo.handle);
    bos.put(bo.handle, bo);
    create.replyTo().tell(new DriverProtocol.BoReply(0, bo.handle));
    return this;
  }

  private long systemAddress(int handle) {
    return SYSTEM_BASE + ((long) (label.hashCode() & 0xFFFF) << 36) + ((long) handle << 30);
  }

  /** The process's buffer, or null: GEM handles are per process (-ENOENT for anyone else's). */
  private Bo lookup(String process, int handle) {
    Bo bo = bos.get(handle);
    return bo != null && bo.owner.equals(process) ? bo : null;
  }

  private List<DriverProtocol.Segment> segments(Bo bo) {
    if (bo.placement == DriverProtocol.Placement.VRAM) {
      return List.of(new DriverProtocol.Segment(bo.address, bo.size)); // contiguous VRAM: one segment, u64 length
    }
    List<DriverProtocol.Segment> out = new ArrayList<>();
    for (long off = 0; off < bo.size; off += RUN) {
      // scattered system memory: each 2 MiB run lands elsewhere
      out.add(new DriverProtocol.Segment(bo.address + (off / RUN) * 3 * RUN, Math.min(RUN, bo.size - off)));
    }
    return out;
  }

  // --- submission

  private Behavior<DriverProtocol.Command> onSubmit(DriverProtocol.Submit submit) {
    int error = validate(submit);
    if (error != 0) {
      submit.replyTo().tell(new DriverProtocol.SubmitReply(error, null));
      return this;
    }
    List<SubmitFlow.ResvTarget> targets = new ArrayList<>();
    List<Integer> writes = submit.job().allWrites();
    java.util.LinkedHashSet<Integer> all = new java.util.LinkedHashSet<>(submit.job().allReads());
    all.addAll(writes);
    for (int h : all) {
      targets.add(new SubmitFlow.ResvTarget(bos.get(h).resv, writes.contains(h)));
    }
    long jobId = nextJob++;
    getContext().spawn(SubmitFlow.create(device, jobId, submit.process(), submit.job(), submit.inFences(), targets,
        AcquireCtx.next(services.contexts().origin(), label + " submit " + jobId), settings.callTimeout(), submit.replyTo()),
        "submit-" + jobId);
    return this;
  }

  /**
   * The driver's validation of a submission — on a device without page tables the only thing that keeps a process
   * to its own buffers (every handle is looked up in the submitting process's table).
   */
  private int validate(DriverProtocol.Submit submit) {
    if (unplugged) {
      return Errno.ENODEV.negative();
    }
    var job = submit.job();
    List<Integer> handles = new ArrayList<>(job.allReads());
    handles.addAll(job.allWrites());
    for (int h : handles) {
      Bo bo = lookup(submit.process(), h);
      if (bo == null) {
        return Errno.ENOENT.negative();
      }
      if (bo.revoked) {
        return Errno.ENODEV.negative();
      }
    }
    if (job.copy() != null) {
      var c = job.copy();
      Bo src = bos.get(c.src());
      Bo dst = bos.get(c.dst());
      if (c.length() < 0 || c.srcOffset() < 0 || c.dstOffset() < 0
          || c.srcOffset() > src.size - c.length() || c.dstOffset() > dst.size - c.length()) {
        return Errno.EINVAL.negative();
      }
    }
    return 0;
  }

  private Behavior<DriverProtocol.Command> onExecute(Execute execute) {
    Engine.Execute job = execute.job();
    Map<Integer, JobExecution.Target> targets = new HashMap<>();
    List<Integer> handles = new ArrayList<>(job.spec().allReads());
    handles.addAll(job.spec().allWrites());
    for (int h : handles) {
      Bo bo = bos.get(h);
      if (bo == null) {
        targets.put(h, new JobExecution.Target(null, h, 0, label + " bo " + h + " (released)"));
      } else if (bo.imported != null) {
        targets.put(h, new JobExecution.Target(bo.revoked ? null : bo.imported.exporter(), bo.imported.exporterHandle(), bo.size,
            bo.imported.toString()));
      } else {
        targets.put(h, new JobExecution.Target(getContext().getSelf(), h, bo.size, label + "/" + bo.name));
      }
    }
    long seed = Content.seed(label.hashCode(), job.process().hashCode(), job.jobId(), job.spec().label().hashCode());
    getContext().spawnAnonymous(JobExecution.create(job, seed, targets, label, settings.copyChunk(), settings.copyWindow(), services));
    return this;
  }

  // --- dma-buf: exporter side

  private Behavior<DriverProtocol.Command> onExport(DriverProtocol.Export export) {
    Bo bo = lookup(export.process(), export.handle());
    if (unplugged) {
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.ENODEV.negative(), null));
    } else if (bo == null) {
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.ENOENT.negative(), null));
    } else if (export.omitOps() == DriverProtocol.NO_PIN || export.omitOps() == DriverProtocol.NO_UNPIN) {
      services.violation(Violation.Kind.DMA_BUF_EXPORT_OPS, label + "/" + bo.name, "dma_buf_export with "
          + (export.omitOps() == DriverProtocol.NO_PIN ? "unpin but no pin" : "pin but no unpin") + " (WARN_ON(!!ops->pin != !!ops->unpin))");
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.EINVAL.negative(), null));
    } else if (bo.imported != null) {
      export.replyTo().tell(new DriverProtocol.ExportReply(0, bo.imported)); // PRIME re-export: the same dma-buf
    } else {
      bo.staticExporter = export.omitOps() == (DriverProtocol.NO_PIN | DriverProtocol.NO_UNPIN);
      if (bo.exported == null) {
        bo.exported = new DmaBufRef(label + "/" + bo.name, bo.size, getContext().getSelf(), bo.handle, bo.resv);
      }
      export.replyTo().tell(new DriverProtocol.ExportReply(0, bo.exported));
    }
    return this;
  }

  private Behavior<DriverProtocol.Command> onAttach(DriverProtocol.Attach attach) {
    Bo bo = bos.get(attach.handle());
    if (unplugged || bo == null) {
      attach.replyTo().tell(new DriverProtocol.Attached(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), 0));
      return this;
    }
    Attachment a = new Attachment(nextAttachment++, attach.importer(), attach.importerHandle(), attach.dynamic());
    bo.attachments.put(a.id, a);
    getContext().watch(attach.importer());
    attach.replyTo().tell(new DriverProtocol.Attached(0, a.id));
    return this;
  }

  private Behavior<DriverProtocol.Command> onMapAttachment(DriverProtocol.MapAttachment map) {
    Bo bo = bos.get(map.handle());
    Attachment a = bo == null ? null : bo.attachments.get(map.attachment());
    if (unplugged || a == null) {
      map.replyTo().tell(new DriverProtocol.MapReply(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), List.of()));
      return this;
    }
    a.mapped = true;
    DriverProtocol.MapReply mapped = new DriverProtocol.MapReply(0, segments(bo));
    if (a.dynamic) {
      map.replyTo().tell(mapped); // a dynamic importer waits for (or pipelines on) the KERNEL fences itself
      return this;
    }
    a.pinned = true; // a static importer of a movable buffer: pinned on map (§1.12)
    getContext().ask(WaitResult.class, bo.resv, services.waitCap().plusSeconds(5),
        ref -> new Resv.Wait(ResvUsage.KERNEL, -1, label + " dma_buf_map_attachment", ref),
        (r, failure) -> new MapWaited(r != null ? r : new WaitResult(new dev.fencelab.node.fence.FenceId(dev.fencelab.node.fence.FenceContext.STUB, 0), Errno.ETIMEDOUT.negative(),
            dev.fencelab.node.fence.FenceStatus.PENDING, -1), mapped, map.replyTo()));
    return this;
  }

  private Behavior<DriverProtocol.Command> onPinAttachment(DriverProtocol.PinAttachment pin) {
    Bo bo = bos.get(pin.handle());
    Attachment a = bo == null ? null : bo.attachments.get(pin.attachment());
    if (unplugged || a == null) {
      pin.replyTo().tell(new DriverProtocol.Result(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative()));
      return this;
    }
    if (!a.dynamic) {
      services.violation(Violation.Kind.DMA_BUF_PIN_STATIC, bo.exported, "dma_buf_pin by a static importer (WARN_ON(!attach->importer_ops))");
    }
    a.pinned = pin.pin();
    pin.replyTo().tell(new DriverProtocol.Result(0));
    return this;
  }

  private Behavior<DriverProtocol.Command> onEvict(DriverProtocol.Evict evict) {
    Bo bo = bos.get(evict.handle());
    if (unplugged || bo == null || bo.imported != null) {
      evict.replyTo().tell(new DriverProtocol.EvictReply(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), 0));
      return this;
    }
    if (bo.attachments.values().stream().anyMatch(a -> a.pinned) || bo.staticExporter && !bo.attachments.isEmpty()) {
      // pinned, or exported by a static exporter (no pin op: its buffer never moves while attached)
      evict.replyTo().tell(new DriverProtocol.EvictReply(Errno.EBUSY.negative(), 0));
      return this;
    }
    if (bo.placement == DriverProtocol.Placement.VRAM) {
      vramUsed -= (bo.size + 4095) & ~4095L;
    }
    bo.placement = DriverProtocol.Placement.SYSTEM;
    bo.address = systemAddress(bo.handle);
    int notified = 0;
    for (Attachment a : bo.attachments.values()) {
      a.mapped = false;
      if (a.dynamic) {
        a.importer.tell(new DriverProtocol.MoveNotify(a.importerHandle, false));
        notified++;
      }
    }
    evict.replyTo().tell(new DriverProtocol.EvictReply(0, notified));
    return this;
  }

  // --- dma-buf: importer side

  private Behavior<DriverProtocol.Command> onImport(DriverProtocol.Import imp) {
    if (unplugged) {
      imp.replyTo().tell(new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0));
      return this;
    }
    DmaBufRef buf = imp.buf();
    if (imp.dynamic() && imp.noMoveNotify()) {
      services.violation(Violation.Kind.DMA_BUF_NO_MOVE_NOTIFY, buf.id(),
          "dma_buf_dynamic_attach with importer ops but no move_notify (WARN_ON(importer_ops && !importer_ops->move_notify))");
      imp.replyTo().tell(new DriverProtocol.BoReply(Errno.EINVAL.negative(), 0));
      return this;
    }
    if (buf.exporter().equals(getContext().getSelf())) {
      // drm_gem_prime_fd_to_handle on our own export: the original object (shared with the importing process).
      Bo own = bos.get(buf.exporterHandle());
      imp.replyTo().tell(own == null ? new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0) : new DriverProtocol.BoReply(0, own.handle));
      return this;
    }
    Bo bo = new Bo(nextHandle++, buf.id(), imp.process(), buf.size());
    bo.imported = buf;
    bo.resv = buf.resv();
    bo.dynamic = imp.dynamic();
    bo.placement = DriverProtocol.Placement.VRAM;
    bos.put(bo.handle, bo);
    getContext().watch(buf.exporter());
    int handle = bo.handle;
    getContext().ask(DriverProtocol.Attached.class, buf.exporter(), settings.callTimeout(),
        ref -> new DriverProtocol.Attach(buf.exporterHandle(), imp.dynamic(), getContext().getSelf(), handle, ref),
        (a, failure) -> new ImportAttached(handle, a != null ? a : new DriverProtocol.Attached(Errno.ENODEV.negative(), 0), imp.replyTo()));
    return this;
  }

  private Behavior<DriverProtocol.Command> onImportAttached(ImportAttached attached) {
    Bo bo = bos.get(attached.handle());
    if (bo == null || attached.attached().result() < 0 || bo.revoked) {
      bos.remove(attached.handle());
      int error = attached.attached().result() < 0 ? attached.attached().result() : Errno.ENODEV.negative();
      attached.replyTo().tell(new DriverProtocol.BoReply(error, 0));
      return this;
    }
    bo.attachment = attached.attached().attachment();
    attached.replyTo().tell(new DriverProtocol.BoReply(0, bo.handle));
    return this;
  }

  private Behavior<DriverProtocol.Command> onMap(DriverProtocol.MapBo map) {
    Bo bo = lookup(map.process(), map.handle());
    if (unplugged || bo == null) {
      map.replyTo().tell(new DriverProtocol.MapReply(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), List.of()));
      return this;
    }
    if (bo.imported == null) {
      bo.mapped = true;
      map.replyTo().tell(new DriverProtocol.MapReply(0, segments(bo)));
      return this;
    }
    if (bo.revoked) {
      map.replyTo().tell(new DriverProtocol.MapReply(Errno.ENODEV.negative(), List.of()));
      return this;
    }
    getContext().ask(DriverProtocol.MapReply.class, bo.imported.exporter(), settings.callTimeout(),
        ref -> new DriverProtocol.MapAttachment(bo.imported.exporterHandle(), bo.attachment, ref),
        (r, failure) -> new ImportMapped(bo.handle, r != null ? r : new DriverProtocol.MapReply(Errno.ENODEV.negative(), List.of()),
            map.replyTo()));
    return this;
  }

  private Behavior<DriverProtocol.Command> onImportMapped(ImportMapped mapped) {
    Bo bo = bos.get(mapped.handle());
    if (bo != null && mapped.reply().result() == 0 && !bo.revoked) {
      bo.mapped = true;
      mapped.replyTo().tell(mapped.reply());
    } else {
      mapped.replyTo().tell(new DriverProtocol.MapReply(
          mapped.reply().result() < 0 ? mapped.reply().result() : Errno.ENODEV.negative(), List.of()));
    }
    return this;
  }

  private Behavior<DriverProtocol.Command> onPin(DriverProtocol.Pin pin) {
    Bo bo = lookup(pin.process(), pin.handle());
    if (unplugged || bo == null || bo.imported == null) {
      pin.replyTo().tell(new DriverProtocol.Result(unplugged ? Errno.ENODEV.negative()
          : bo == null ? Errno.ENOENT.negative() : Errno.EINVAL.negative()));
    } else if (bo.revoked) {
      pin.replyTo().tell(new DriverProtocol.Result(Errno.ENODEV.negative()));
    } else {
      bo.imported.exporter().tell(new DriverProtocol.PinAttachment(bo.imported.exporterHandle(), bo.attachment, pin.pin(), pin.replyTo()));
    }
    return this;
  }

  private Behavior<DriverProtocol.Command> onMoveNotify(DriverProtocol.MoveNotify notify) {
    Bo bo = bos.get(notify.importerHandle());
    if (bo != null && bo.imported != null) {
      bo.mapped = false; // drop the mapping; a new map points to the new location
      if (notify.revoked()) {
        bo.revoked = true;
        getContext().getLog().info("{}: {} revoked by its exporter", label, bo.imported);
      }
    }
    return this;
  }

  // --- CPU access and content

  private Behavior<DriverProtocol.Command> onCpuAccess(DriverProtocol.CpuAccess access) {
    int flags = access.flags();
    Bo bo = lookup(access.process(), access.handle());
    if ((flags & ~(1 | 2 | 4)) != 0 || (flags & 3) == 0) {
      access.replyTo().tell(new DriverProtocol.Result(Errno.EINVAL.negative()));
    } else if (bo == null) {
      access.replyTo().tell(new DriverProtocol.Result(Errno.ENOENT.negative()));
    } else if (unplugged || bo.revoked) {
      access.replyTo().tell(new DriverProtocol.Result(Errno.ENODEV.negative()));
    } else if ((flags & 4) != 0) {
      access.replyTo().tell(new DriverProtocol.Result(0)); // END: nothing to wait for
    } else {
      ResvUsage usage = (flags & 2) != 0 ? ResvUsage.READ : ResvUsage.WRITE; // dma_resv_usage_rw(write)
      getContext().ask(WaitResult.class, bo.resv, services.waitCap().plusSeconds(5),
          ref -> new Resv.Wait(usage, -1, access.process() + " cpu access", ref),
          (w, failure) -> w != null ? new CpuWaited(w, access.replyTo())
              : new Reply<>(access.replyTo(), new DriverProtocol.Result(Errno.ENODEV.negative())));
    }
    return this;
  }

  private Behavior<DriverProtocol.Command> onChecksum(DriverProtocol.Checksum sum) {
    Bo bo = bos.get(sum.handle());
    if (unplugged || bo == null) {
      sum.replyTo().tell(new DriverProtocol.ChecksumReply(unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), "", 0));
    } else if (bo.imported != null) {
      if (bo.revoked) {
        sum.replyTo().tell(new DriverProtocol.ChecksumReply(Errno.ENODEV.negative(), "", 0));
      } else {
        bo.imported.exporter().tell(new DriverProtocol.Checksum(bo.imported.exporterHandle(), sum.replyTo()));
      }
    } else {
      sum.replyTo().tell(new DriverProtocol.ChecksumReply(0, Content.format(bo.content.checksum()), bo.size));
    }
    return this;
  }

  private Behavior<DriverProtocol.Command> onReadRange(DriverProtocol.ReadRange read) {
    Bo bo = bos.get(read.handle());
    if (unplugged || bo == null || bo.content == null) {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), Errno.ENODEV.negative(), List.of()));
    } else if (read.offset() < 0 || read.length() < 0 || read.offset() > bo.size - read.length()) {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), Errno.EINVAL.negative(), List.of()));
    } else {
      read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), 0, bo.content.read(read.offset(), read.length(), settings.copyChunk())));
    }
    return this;
  }

  private Behavior<DriverProtocol.Command> onWriteRange(DriverProtocol.WriteRange write) {
    Bo bo = bos.get(write.handle());
    int result = 0;
    if (unplugged || bo == null || bo.content == null) {
      result = Errno.ENODEV.negative();
    } else {
      for (Chunk c : write.chunks()) {
        if (c.offset() < 0 || c.length() < 0 || c.offset() > bo.size - c.length()) {
          result = Errno.EINVAL.negative();
          break;
        }
      }
      if (result == 0) {
        write.chunks().forEach(bo.content::write);
      }
    }
    write.replyTo().tell(new DriverProtocol.WriteAck(write.tag(), result));
    return this;
  }

  // --- unplug

  private Behavior<DriverProtocol.Command> onUnplug(DriverProtocol.Unplug unplug) {
    if (unplugged) {
      unplug.replyTo().tell(new DriverProtocol.UnplugReport(spec.name(), 0, 0, 0));
      return this;
    }
    unplugged = true; // 1. no new submissions
    dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).record(dev.fencelab.node.trace.TraceRecorder
        .event(dev.fencelab.protocol.trace.v1.EventKind.UNPLUG_BEGIN, label).setSubject(spec.name()));
    int revoked = 0;
    int released = 0;
    for (Bo bo : bos.values()) {
      if (bo.imported != null) {
        if (!bo.revoked) {
          bo.imported.exporter().tell(new DriverProtocol.Detach(bo.imported.exporterHandle(), bo.attachment));
        }
        continue;
      }
      for (Attachment a : bo.attachments.values()) { // 3. revoke every importer
        a.importer.tell(new DriverProtocol.MoveNotify(a.importerHandle, true));
        revoked++;
      }
      released++;
    }
    int revokedCount = revoked;
    int releasedCount = released;
    // 2. signal every pending fence with -ENODEV and cancel queued jobs; then 4. release everything.
    getContext().ask(Integer.class, device, settings.callTimeout(), DeviceActor.Unplug::new,
        (n, failure) -> new DeviceUnplugged(n == null ? 0 : n, unplug.replyTo(), revokedCount, releasedCount));
    return this;
  }

  private Behavior<DriverProtocol.Command> onDeviceUnplugged(DeviceUnplugged done) {
    for (Bo bo : bos.values()) {
      if (bo.imported == null) {
        getContext().stop(bo.resv);
      }
    }
    bos.clear();
    vramUsed = 0;
    getContext().getLog().info("{}: unplugged: {} jobs cancelled, {} importers revoked, {} buffers released", label,
        done.cancelled(), done.revoked(), done.released());
    dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).record(dev.fencelab.node.trace.TraceRecorder
        .event(dev.fencelab.protocol.trace.v1.EventKind.UNPLUG_END, label).setSubject(spec.name())
        .setDetail(done.cancelled() + " jobs cancelled, " + done.revoked() + " importers revoked, " + done.released() + " buffers released"));
    done.replyTo().tell(new DriverProtocol.UnplugReport(spec.name(), done.cancelled(), done.revoked(), done.released()));
    return this;
  }

  private Behavior<DriverProtocol.Command> onTerminated(Terminated terminated) {
    ActorRef<Void> gone = terminated.getRef();
    for (Bo bo : bos.values()) {
      if (bo.imported != null && bo.imported.exporter().equals(gone) && !bo.revoked) {
        bo.revoked = true; // hard unplug of the exporter: the mapping is invalid, DMA to it is reported
        bo.mapped = false;
        getContext().getLog().info("{}: exporter of {} is gone: import revoked", label, bo.imported);
      }
      bo.attachments.values().removeIf(a -> a.importer.equals(gone));
    }
    return this;
  }

  private DriverProtocol.State state(DeviceActor.State device) {
    List<DriverProtocol.BoInfo> infos = bos.values().stream()
        .sorted((a, b) -> Integer.compare(a.handle, b.handle))
        .map(b -> new DriverProtocol.BoInfo(b.handle, b.name, b.owner, b.size, b.placement, b.imported != null, b.revoked, b.mapped,
            b.attachments.size()))
        .toList();
    return device == null
        ? new DriverProtocol.State(spec.name(), unplugged, false, 0, List.of(), infos)
        : new DriverProtocol.State(spec.name(), unplugged, device.wedged(), device.resets(), device.guilty(), infos);
  }
}
