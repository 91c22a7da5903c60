package dev.fencelab.node.driver;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.Engine;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.memory.Content;
import dev.fencelab.node.p2p.PcieRoutes;
import dev.fencelab.node.resv.AcquireCtx;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashMap;
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
 * exports with their attachments, its imports (state shared with its parts in {@link DriverContext}). Its dma-buf
 * roles are {@link DmaBufExporter}'s and {@link DmaBufImporter}'s; it keeps buffer creation, submission, CPU access
 * and content, unplug, and the watches. Talks to: emulated processes (their calls), other drivers
 * (exporter/importer protocol, DMA), its device and engines. Watches exporters it imports from and importers
 * attached to it: a dead exporter revokes the imports (hard unplug), a dead importer detaches.
 */
public final class DriverActor extends AbstractBehavior<DriverProtocol.Command> {
  /** DMA addresses: VRAM through the device's BAR, system memory in 2 MiB runs. */
  private static final long BAR_BASE = 0x0000_0080_0000_0000L;

  private interface Internal extends DriverProtocol.Command, NoSerializationVerificationNeeded {}

  private record Execute(Engine.Execute job) implements Internal {}

  /** A part's continuation, run on this actor's thread (an answer it asked for arrived). */
  record Continue(Runnable then) implements Internal {}

  private record CpuWaited(WaitResult result, ActorRef<DriverProtocol.Result> replyTo) implements Internal {}


  private record Reply<T>(ActorRef<T> to, T message) implements Internal {}

  private final DeviceSpec spec;
  private final String label;
  private final FenceServices services;
  private final ActorRef<ContextOwner.Command> containers;
  private final DriverSettings settings;
  private final ActorRef<DeviceActor.Command> device;
  private final DriverContext d;
  private final Map<Integer, Bo> bos;
  private final DmaBufExporter exporter;
  private final DmaBufImporter importer;
  private final BufferRelease release;
  private final BufferContent content;
  private final DeviceUnplug unplug;
  private long nextJob = 1;

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
    this.d = new DriverContext(context, label, services, containers, settings);
    this.bos = d.bos;
    this.exporter = new DmaBufExporter(d);
    this.release = new BufferRelease(d);
    this.content = new BufferContent(d, release);
    this.importer = new DmaBufImporter(d);
    ActorRef<Engine.Execute> execute = context.messageAdapter(Engine.Execute.class, Execute::new);
    this.device = context.spawn(DeviceActor.create(spec, label, execute, services, settings.pacing()), "device");
    this.unplug = new DeviceUnplug(d, release, device, spec.name());
  }

  @Override
  public Receive<DriverProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(DriverProtocol.CreateBo.class, this::onCreateBo)
        .onMessage(DriverProtocol.CreateUserptr.class, this::onCreateUserptr)
        .onMessage(DriverProtocol.Submit.class, this::onSubmit)
        .onMessage(DriverProtocol.Move.class, this::onMove)
        .onMessage(DriverProtocol.HoldsDevicePrivate.class, h -> run(() -> unplug.holdsDevicePrivate(h.mm())))
        .onMessage(Execute.class, this::onExecute)
        .onMessage(DriverProtocol.Export.class, e -> run(() -> exporter.export(e)))
        .onMessage(DriverProtocol.Import.class, i -> run(() -> importer.importDmaBuf(i)))
        .onMessage(DriverProtocol.UsePcie.class, u -> run(() -> {
          try {
            d.routes = new PcieRoutes(new dev.fencelab.node.p2p.P2pDma(dev.fencelab.node.p2p.PciTopology.of(u.pcie(), u.devices())), u.pcie());
            d.endpoint = u.endpoint();
            d.fabric = u.fabric();
          } catch (IllegalArgumentException e) { // the scenario's checks refuse such a section before any run
            getContext().getLog().warn("{}: not placed in the PCIe fabric: {}", label, e.getMessage());
          }
        }))
        .onMessage(DriverProtocol.MapBo.class, m -> run(() -> importer.map(m)))
        .onMessage(DriverProtocol.Pin.class, p -> run(() -> importer.pin(p)))
        .onMessage(DriverProtocol.CpuAccess.class, this::onCpuAccess)
        .onMessage(CpuWaited.class, w -> {
          w.replyTo().tell(new DriverProtocol.Result(w.result().signalled() ? 0
              : w.result().result() < 0 ? (int) w.result().result() : Errno.ETIMEDOUT.negative()));
          return this;
        })
        .onMessage(DriverProtocol.Evict.class, e -> run(() -> exporter.evict(e)))
        .onMessage(DriverProtocol.GetResv.class, g -> {
          Bo bo = g.process().isEmpty() ? bos.get(g.handle()) : d.lookup(g.process(), g.handle()); // "": the exporter's own step
          g.replyTo().tell(bo == null || d.unplugged
              ? new DriverProtocol.ResvReply(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), null, null)
              : new DriverProtocol.ResvReply(0, bo.resv, settings.resvMode()));
          return this;
        })
        .onMessage(DriverProtocol.Checksum.class, c -> run(() -> content.checksum(c)))
        .onMessage(DriverProtocol.Attach.class, a -> run(() -> exporter.attach(a)))
        .onMessage(DriverProtocol.Detach.class, x -> run(() -> {
          exporter.detach(x);
          release.detached(x.handle(), x.attachment());
        }))
        .onMessage(DriverProtocol.MoveNotified.class, m -> run(() -> release.answered(m)))
        .onMessage(DriverProtocol.MapAttachment.class, m -> run(() -> exporter.mapAttachment(m)))
        .onMessage(DriverProtocol.PinAttachment.class, p -> run(() -> exporter.pinAttachment(p)))
        .onMessage(DriverProtocol.MoveNotify.class, n -> run(() -> importer.moveNotify(n)))
        .onMessage(Continue.class, c -> run(c.then()))
        .onMessage(DriverProtocol.ReadRange.class, r -> run(() -> content.read(r)))
        .onMessage(DriverProtocol.Layout.class, l -> run(() -> content.layout(l)))
        .onMessage(DriverProtocol.WriteRange.class, w -> run(() -> content.write(w)))
        .onMessage(DriverProtocol.Unplug.class, u -> run(() -> unplug.unplug(u)))
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

  private Behavior<DriverProtocol.Command> run(Runnable call) {
    call.run();
    return this;
  }

  @SuppressWarnings("unchecked")
  private Behavior<DriverProtocol.Command> onReply(Reply<?> reply) {
    ((ActorRef<Object>) reply.to()).tell(reply.message());
    return this;
  }

  // --- buffers

  private Behavior<DriverProtocol.Command> onCreateBo(DriverProtocol.CreateBo create) {
    if (d.unplugged) {
      create.replyTo().tell(new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0));
      return this;
    }
    if (create.size() <= 0) {
      create.replyTo().tell(new DriverProtocol.BoReply(Errno.EINVAL.negative(), 0));
      return this;
    }
    long aligned = (create.size() + 4095) & ~4095L;
    if (create.placement() == DriverProtocol.Placement.VRAM && aligned > spec.vramBytes() - d.vramUsed) {
      create.replyTo().tell(new DriverProtocol.BoReply(Errno.ENOMEM.negative(), 0));
      return this;
    }
    Bo bo = new Bo(d.nextHandle(), create.name(), create.process(), create.size());
    bo.placement = create.placement();
    if (bo.placement == DriverProtocol.Placement.VRAM) {
      bo.address = BAR_BASE + d.vramUsed;
      d.vramUsed += aligned;
    } else {
      bo.address = d.systemAddress(bo.handle);
    }
    bo.content = new Content(create.size(), settings.bytesThreshold());
    bo.resv = getContext().spawn(Resv.create(label + "/" + create.name(), settings.resvMode(), containers, services), "resv-bo" + bo.handle);
    bos.put(bo.handle, bo);
    create.replyTo().tell(new DriverProtocol.BoReply(0, bo.handle));
    return this;
  }

  private Behavior<DriverProtocol.Command> onCreateUserptr(DriverProtocol.CreateUserptr create) {
    if (d.unplugged || create.length() <= 0 || (create.start() & 4095) != 0 || (create.length() & 4095) != 0) {
      create.replyTo().tell(new DriverProtocol.BoReply(d.unplugged ? Errno.ENODEV.negative() : Errno.EINVAL.negative(), 0));
      return this;
    }
    Bo bo = new Bo(d.nextHandle(), create.name(), create.process(), create.length());
    bo.placement = DriverProtocol.Placement.SYSTEM;
    bo.address = create.start();
    bo.resv = getContext().spawn(Resv.create(label + "/" + create.name(), settings.resvMode(), containers, services), "resv-bo" + bo.handle);
    bo.userptr = getContext().spawn(UserptrBo.create(label + "/" + create.name(), create.mm(), create.start(), create.length(),
        spec, bo.resv, services, settings.callTimeout(), bo.handle,
        getContext().messageAdapter(DriverProtocol.BoReply.class, r -> new Continue(() -> userptrCreated(bo, r, create.replyTo())))),
        "userptr-bo" + bo.handle);
    return this;
  }

  private void userptrCreated(Bo bo, DriverProtocol.BoReply reply, ActorRef<DriverProtocol.BoReply> replyTo) {
    if (reply.result() == 0 && !d.unplugged) {
      bos.put(bo.handle, bo);
    } else {
      getContext().stop(bo.resv);
    }
    replyTo.tell(d.unplugged && reply.result() == 0 ? new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0) : reply);
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
    List<ActorRef<Object>> userptrs = all.stream().map(h -> bos.get(h).userptr).filter(java.util.Objects::nonNull).toList();
    long jobId = nextJob++;
    getContext().spawn(SubmitFlow.create(device, jobId, submit.process(), submit.job(), submit.inFences(), targets, userptrs,
        AcquireCtx.next(services.contexts().origin(), label + " submit " + jobId), settings.callTimeout(), submit.replyTo()),
        "submit-" + jobId);
    return this;
  }

  /** A buffer move (TTM) as a job: no content effect, its model time the move's, its fence KERNEL in the buffer's resv. */
  private Behavior<DriverProtocol.Command> onMove(DriverProtocol.Move move) {
    Bo bo = bos.get(move.handle());
    if (d.unplugged || bo == null || bo.resv == null) {
      move.replyTo().tell(new DriverProtocol.SubmitReply(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), null));
      return this;
    }
    long jobId = nextJob++;
    JobSpec spec = JobSpec.compute("ttm move " + bo.name + ": " + move.why(), move.nanos(), List.of(), List.of());
    getContext().spawn(SubmitFlow.create(device, jobId, bo.owner, spec, List.of(), List.of(new SubmitFlow.ResvTarget(bo.resv, true, true)),
        List.of(), AcquireCtx.next(services.contexts().origin(), label + " move " + jobId), settings.callTimeout(), move.replyTo()),
        "submit-" + jobId);
    return this;
  }

  /**
   * The driver's validation of a submission — on a device without page tables the only thing that keeps a process
   * to its own buffers (every handle is looked up in the submitting process's table).
   */
  private int validate(DriverProtocol.Submit submit) {
    if (d.unplugged) {
      return Errno.ENODEV.negative();
    }
    var job = submit.job();
    List<Integer> handles = new ArrayList<>(job.allReads());
    handles.addAll(job.allWrites());
    for (int h : handles) {
      Bo bo = d.lookup(submit.process(), h);
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
    annotateRunJob(job);
    var gfp = spec.signalling().runJobGfp();
    if (gfp != null && settings.memory() != null) { // the D1 mistake for real: the allocation may reclaim (§3.2)
      String waiter = Engine.jobVertex(label, job.spec().engine(), job.spec().label());
      getContext().ask(dev.fencelab.node.mm.MmProtocol.Reply.class, settings.memory(), services.waitCap().plusSeconds(5),
          r -> new dev.fencelab.node.mm.HostMemory.Alloc(RUN_JOB_ALLOC, gfp.directReclaim(), waiter, r),
          (reply, failure) -> new Continue(() -> {
            int ret = reply == null ? Errno.ENOMEM.negative() : (int) reply.ret();
            if (ret < 0) {
              job.replyTo().tell(new Engine.Executed(job.jobId(), job.attempt(), ret)); // run_job fails: the fence gets the error
              return;
            }
            settings.memory().tell(new dev.fencelab.node.mm.HostMemory.Free(RUN_JOB_ALLOC)); // scratch, freed when run_job returns
            runJob(job);
          }));
      return this;
    }
    runJob(job);
    return this;
  }

  /** What run_job allocates under {@code run_job_allocates} (a scheduler job's scratch: 64 KiB). */
  static final long RUN_JOB_ALLOC = 64 << 10;

  private void runJob(Engine.Execute job) {
    if (spec.faultInRunJob()) {
      List<ActorRef<Object>> userptrs = new ArrayList<>();
      for (int h : job.spec().allWrites()) {
        Bo bo = bos.get(h);
        if (bo != null && bo.userptr != null) {
          userptrs.add(bo.userptr);
        }
      }
      for (int h : job.spec().allReads()) {
        Bo bo = bos.get(h);
        if (bo != null && bo.userptr != null && !userptrs.contains(bo.userptr)) {
          userptrs.add(bo.userptr);
        }
      }
      if (!userptrs.isEmpty()) {
        faultInRunJob(job, userptrs, 0);
        return;
      }
    }
    execute(job);
  }

  /**
   * What lockdep sees of run_job (kernel-semantics §1.18): a signalling section — the job's fence is already published —
   * and in it whatever the driver's knobs make it do: fault userptr pages (mmap_lock, D4/V3), allocate (D1/V1), take the
   * job's resv (D2/V2), take the notifier lock its userptr callback holds across a wait (D3/V4).
   */
  private void annotateRunJob(Engine.Execute job) {
    var lockdep = dev.fencelab.node.lockdep.Lockdep.get(getContext().getSystem());
    var path = spec.signalling();
    boolean faults = spec.faultInRunJob() && java.util.stream.Stream.concat(job.spec().allReads().stream(), job.spec().allWrites().stream())
        .map(bos::get).anyMatch(b -> b != null && b.userptr != null);
    if (!lockdep.enabled() || (path.equals(dev.fencelab.node.device.DeviceSpec.SignallingPath.CLEAN) && !faults)) {
      return;
    }
    var task = lockdep.task(spec.name() + ".ring" + job.spec().engine() + " run_job");
    String what = "run_job of " + job.spec().label();
    boolean cookie = task.beginSignalling(false, what);
    if (faults) {
      task.acquire(dev.fencelab.protocol.lockdep.LockClass.MMAP_LOCK, true, false, what + ": hmm_range_fault of its userptr pages");
      task.release(dev.fencelab.protocol.lockdep.LockClass.MMAP_LOCK);
    }
    if (path.runJobGfp() != null) {
      task.mightAlloc(path.runJobGfp(), what + ": kmalloc(" + path.runJobGfp().kernelName() + ")");
    }
    if (path.runJobTakesResv()) {
      task.acquire(dev.fencelab.protocol.lockdep.LockClass.RESV, false, false, what + ": dma_resv_lock of its buffer");
      task.release(dev.fencelab.protocol.lockdep.LockClass.RESV);
    }
    if (path.runJobTakesNotifierLock()) {
      task.acquire(dev.fencelab.protocol.lockdep.LockClass.NOTIFIER_LOCK, false, false, what + ": mutex_lock(notifier_lock)");
      task.release(dev.fencelab.protocol.lockdep.LockClass.NOTIFIER_LOCK);
    }
    task.endSignalling(cookie);
  }

  /** The D4 bug: run_job faults each userptr's pages (taking mmap_lock) before it runs the job, fence already public. */
  private void faultInRunJob(Engine.Execute job, List<ActorRef<Object>> userptrs, int i) {
    if (i == userptrs.size()) {
      execute(job);
      return;
    }
    String waiter = Engine.jobVertex(label, job.spec().engine(), job.spec().label());
    getContext().ask(UserptrBo.Validated.class, userptrs.get(i), services.waitCap().plusSeconds(5),
        r -> new UserptrBo.RunJobFault(waiter, r), (v, failure) -> new Continue(() -> faultInRunJob(job, userptrs, i + 1)));
  }

  private Behavior<DriverProtocol.Command> execute(Engine.Execute job) {
    Map<Integer, JobExecution.Target> targets = new HashMap<>();
    List<Integer> handles = new ArrayList<>(job.spec().allReads());
    handles.addAll(job.spec().allWrites());
    if (handles.isEmpty() && job.spec().copy() == null) {
      // Nothing to read, write or copy: what a JobExecution would answer at once, without one per job.
      job.replyTo().tell(new Engine.Executed(job.jobId(), job.attempt(), 0, 0));
      return this;
    }
    for (int h : handles) {
      Bo bo = bos.get(h);
      if (bo == null) {
        targets.put(h, new JobExecution.Target(null, h, 0, label + " bo " + h + " (released)", PcieRoutes.Location.HOST));
      } else if (bo.userptr != null) { // process memory: host DRAM
        targets.put(h, new JobExecution.Target(bo.userptr.narrow(), h, bo.size, label + "/" + bo.name + " (userptr)", PcieRoutes.Location.HOST));
      } else if (bo.imported != null) {
        PcieRoutes.Location at = bo.remoteSystem || bo.exporterEndpoint.isEmpty() ? PcieRoutes.Location.HOST
            : new PcieRoutes.Location(bo.exporterEndpoint, !bo.peer2peer);
        targets.put(h, new JobExecution.Target(bo.revoked ? null : bo.imported.exporter(), bo.imported.exporterHandle(), bo.size,
            bo.imported.toString(), at));
      } else {
        targets.put(h, new JobExecution.Target(getContext().getSelf(), h, bo.size, label + "/" + bo.name,
            bo.placement == DriverProtocol.Placement.SYSTEM ? PcieRoutes.Location.HOST : new PcieRoutes.Location(d.endpoint)));
      }
    }
    long seed = Content.seed(label.hashCode(), job.process().hashCode(), job.jobId(), job.spec().label().hashCode());
    JobExecution.Pcie pcie = d.endpoint.isEmpty() || d.routes == null ? null : new JobExecution.Pcie(d.endpoint, d.routes, d.fabric);
    getContext().spawnAnonymous(JobExecution.create(job, seed, targets, label, settings.copyChunk(), settings.copyWindow(), services, pcie));
    return this;
  }

  // --- CPU access (content: BufferContent)

  private Behavior<DriverProtocol.Command> onCpuAccess(DriverProtocol.CpuAccess access) {
    int flags = access.flags();
    Bo bo = d.lookup(access.process(), access.handle());
    if ((flags & ~(1 | 2 | 4)) != 0 || (flags & 3) == 0) {
      access.replyTo().tell(new DriverProtocol.Result(Errno.EINVAL.negative()));
    } else if (bo == null) {
      access.replyTo().tell(new DriverProtocol.Result(Errno.ENOENT.negative()));
    } else if (d.unplugged || bo.revoked) {
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
    release.importerGone(gone);
    return this;
  }

  private DriverProtocol.State state(DeviceActor.State device) {
    List<DriverProtocol.BoInfo> infos = bos.values().stream()
        .sorted((a, b) -> Integer.compare(a.handle, b.handle))
        .map(b -> new DriverProtocol.BoInfo(b.handle, b.name, b.owner, b.size, b.placement, b.imported != null, b.revoked, b.mapped,
            b.attachments.size()))
        .toList();
    return device == null
        ? new DriverProtocol.State(spec.name(), d.unplugged, false, 0, List.of(), infos)
        : new DriverProtocol.State(spec.name(), d.unplugged, device.wedged(), device.resets(), device.guilty(), infos);
  }
}
