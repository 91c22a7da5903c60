package dev.fencelab.node.driver;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.device.Engine;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import dev.fencelab.node.p2p.FabricProtocol;
import dev.fencelab.node.p2p.PcieRoutes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The memory effects of one job attempt (DMA), as a short-lived child of the driver: first the copy, if any —
 * pulled from the source's owner in chunks with at most {@code window} chunks in flight, each written to the
 * destination's owner and acknowledged — then the compute part: read the checksum of every input, write every
 * output with a pattern seeded from the job and those checksums. The owner of a buffer is a driver (this one for
 * its own buffers, the exporter for imported ones), possibly on another member.
 *
 * <p>DMA into memory that is gone follows DESIGN.md "Data": a read of a revoked buffer returns all-ones, a write
 * to it is dropped — reported as {@link Violation.Kind#DMA_REVOKED}, once per buffer and job. Once the driver knows a
 * buffer's owner is gone (its member died: the import is revoked), the job stops sending it DMA — what is left of a
 * copy from it reads all-ones at once — and completes with -ENODEV: the importer's in-flight work ends with an error,
 * and no timeout fires, so no innocent device is reset. Answers {@link Engine.Executed} once every write is
 * acknowledged.
 */
final class JobExecution extends AbstractBehavior<JobExecution.Msg> {
  /**
   * Where a buffer's content is: its owner and the owner's handle ({@code owner} null: revoked), and where that memory
   * sits in the PCIe fabric.
   */
  record Target(ActorRef<DriverProtocol.Command> owner, int handle, long size, String name, PcieRoutes.Location location) {
    Target {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(location, "location");
    }
  }

  /** This device's PCI function, the fabric's routes, and the run's fabric (null: a transfer is costed alone, here). */
  record Pcie(String endpoint, PcieRoutes routes, ActorRef<FabricProtocol.Command> fabric) {}

  private record Transferred(FabricProtocol.Done done) implements Msg {}

  private record Planned(List<dev.fencelab.node.memory.Content.Extent> extents) implements Msg {}

  interface Msg extends NoSerializationVerificationNeeded {}

  private record Read(DriverProtocol.RangeData data) implements Msg {}

  private record Wrote(DriverProtocol.WriteAck ack) implements Msg {}

  private record Summed(int index, DriverProtocol.ChecksumReply reply) implements Msg {}

  private final Engine.Execute job;
  private final long jobSeed;
  private final Map<Integer, Target> targets;
  private final FenceServices services;
  private final String label;
  private final int chunkBytes;
  private final int window;
  private final ActorRef<DriverProtocol.RangeData> readAdapter;
  private final ActorRef<DriverProtocol.WriteAck> writeAdapter;
  // copy state
  private final java.util.ArrayDeque<Span> plan = new java.util.ArrayDeque<>();
  private boolean planned;
  private long nextRead;
  /** Chunks read and being written (acknowledged by the destination's owner); reads and writes each have a window. */
  private int copyWrites;
  private int inFlight;
  private final Map<Long, Target> pendingByTag = new HashMap<>();
  private final java.util.Set<Long> readTags = new java.util.HashSet<>();
  private long nextTag = 1;
  // compute state
  private final List<Target> reads = new ArrayList<>();
  private long[] sums;
  private boolean[] summed;
  private int sumsLeft;
  private int writesLeft;
  private boolean computing;
  private boolean done;
  private final long startWall;
  /** The buffers this job touched after they were revoked (each reported once); the job then fails with -ENODEV. */
  private final java.util.Set<String> revokedTargets = new java.util.HashSet<>();

  private final Pcie pcie;
  /** The copy's transfer in the fabric; null: none (no copy, no fabric, or a route it cannot take). */
  private String transferId;
  private PcieRoutes.Route route;
  private boolean awaitingFabric;

  static Behavior<Msg> create(Engine.Execute job, long jobSeed, Map<Integer, Target> targets, String label, int chunkBytes, int window,
      FenceServices services, Pcie pcie) {
    return Behaviors.setup(context -> {
      JobExecution execution = new JobExecution(context, job, jobSeed, targets, label, chunkBytes, window, services, pcie);
      return execution.done ? Behaviors.stopped() : execution; // a job with nothing to wait for is done at once
    });
  }

  private JobExecution(ActorContext<Msg> context, Engine.Execute job, long jobSeed, Map<Integer, Target> targets, String label,
      int chunkBytes, int window, FenceServices services, Pcie pcie) {
    super(context);
    this.pcie = pcie;
    this.job = job;
    this.jobSeed = jobSeed;
    this.targets = targets;
    this.label = label;
    this.services = services;
    this.chunkBytes = chunkBytes;
    this.window = window;
    this.startWall = System.nanoTime();
    this.readAdapter = context.messageAdapter(DriverProtocol.RangeData.class, Read::new);
    this.writeAdapter = context.messageAdapter(DriverProtocol.WriteAck.class, Wrote::new);
    targets.values().stream().map(Target::owner).filter(Objects::nonNull).distinct().forEach(context::watch);
    if (job.spec().copy() != null) {
      beginTransfer();
      planCopy();
    } else {
      startCompute();
    }
  }

  @Override
  public Receive<Msg> createReceive() {
    return newReceiveBuilder()
        .onMessage(Read.class, this::onRead)
        .onMessage(Wrote.class, this::onWrote)
        .onMessage(Summed.class, this::onSummed)
        .onMessage(Transferred.class, this::onTransferred)
        .onMessage(Planned.class, this::onPlanned)
        .onSignal(Terminated.class, this::onOwnerDied)
        .build();
  }

  // --- copy

  /** A run of the source still to read, in pieces of at most {@code piece} bytes (absolute source offsets). */
  private record Span(long start, long end, int piece) {}

  /** A pattern read covers at most this many bytes, and this many pattern runs of the source. */
  private static final int PATTERN_PIECE = 1 << 30;
  private static final int PATTERN_RUNS = 64;

  /**
   * Plans the copy's reads from the source's layout: bytes in chunks of {@code chunkBytes} (flow control), pattern runs
   * grouped into reads of up to {@value #PATTERN_RUNS} runs — so a copy of pattern content costs in proportion to its
   * runs, not its bytes. A revoked source, or one that does not answer, is read in chunks.
   */
  private void planCopy() {
    JobSpec.Copy copy = job.spec().copy();
    Target src = targets.get(copy.src());
    if (src.owner() == null || copy.length() == 0) {
      planned(List.of(new dev.fencelab.node.memory.Content.Extent(copy.srcOffset(), copy.length(), true)));
      return;
    }
    getContext().ask(DriverProtocol.LayoutReply.class, src.owner(), java.time.Duration.ofSeconds(10),
        r -> new DriverProtocol.Layout(src.handle(), copy.srcOffset(), copy.length(), r),
        (reply, failure) -> new Planned(reply != null && reply.result() == 0 ? reply.extents()
            : List.of(new dev.fencelab.node.memory.Content.Extent(copy.srcOffset(), copy.length(), true))));
  }

  private Behavior<Msg> onPlanned(Planned p) {
    planned(p.extents());
    return this;
  }

  private void planned(List<dev.fencelab.node.memory.Content.Extent> extents) {
    Span group = null;
    int runs = 0;
    for (var e : extents) {
      if (e.bytes()) {
        if (group != null) {
          plan.add(group);
          group = null;
        }
        plan.add(new Span(e.offset(), e.offset() + e.length(), chunkBytes));
      } else if (group == null || runs == PATTERN_RUNS) {
        if (group != null) {
          plan.add(group);
        }
        group = new Span(e.offset(), e.offset() + e.length(), PATTERN_PIECE);
        runs = 1;
      } else {
        group = new Span(group.start(), e.offset() + e.length(), PATTERN_PIECE);
        runs++;
      }
    }
    if (group != null) {
      plan.add(group);
    }
    nextRead = plan.isEmpty() ? 0 : plan.peekFirst().start();
    planned = true;
    pumpCopy();
  }

  private void pumpCopy() {
    if (!planned) {
      return;
    }
    Target src = targets.get(job.spec().copy().src());
    while (inFlight < window && copyWrites < 2 * window && !plan.isEmpty()) {
      Span s = plan.peekFirst();
      // a source revoked meanwhile reads all-ones, in chunks
      int n = (int) Math.min(src.owner() == null ? chunkBytes : s.piece(), s.end() - nextRead);
      long tag = nextTag++;
      inFlight++;
      if (src.owner() == null) {
        revoked(src, "read");
        getContext().getSelf().tell(new Read(new DriverProtocol.RangeData(tag, 0, List.of(allOnes(nextRead, n)))));
      } else {
        pendingByTag.put(tag, src);
        readTags.add(tag);
        src.owner().tell(new DriverProtocol.ReadRange(src.handle(), nextRead, n, tag, readAdapter));
      }
      nextRead += n;
      if (nextRead >= s.end()) {
        plan.pollFirst();
        nextRead = plan.isEmpty() ? nextRead : plan.peekFirst().start();
      }
    }
    if (inFlight == 0 && copyWrites == 0 && plan.isEmpty() && !computing) {
      startCompute();
    }
  }

  private Behavior<Msg> onRead(Read read) {
    JobSpec.Copy copy = job.spec().copy();
    Target src = pendingByTag.remove(read.data().tag());
    readTags.remove(read.data().tag());
    List<Chunk> chunks = read.data().chunks();
    if (read.data().result() < 0) {
      failed(src != null ? src : targets.get(copy.src()), "read", read.data().result());
      chunks = List.of(); // nothing readable: the destination range is left as it was
    }
    Target dst = targets.get(copy.dst());
    long shift = copy.dstOffset() - copy.srcOffset();
    List<Chunk> moved = chunks.stream().map(c -> c.at(c.offset() + shift)).toList();
    if (dst.owner() == null || moved.isEmpty()) {
      if (dst.owner() == null) {
        revoked(dst, "write");
      }
      inFlight--;
      pumpCopy();
      return this;
    }
    long tag = nextTag++;
    pendingByTag.put(tag, dst);
    dst.owner().tell(new DriverProtocol.WriteRange(dst.handle(), moved, tag, writeAdapter));
    inFlight--; // the read is done: the next one goes out while this chunk is written
    copyWrites++;
    pumpCopy();
    return this;
  }

  private static Chunk allOnes(long offset, int n) {
    byte[] ones = new byte[n];
    java.util.Arrays.fill(ones, (byte) 0xFF);
    return new Chunk.Bytes(offset, ones);
  }

  // --- compute

  private void startCompute() {
    computing = true;
    for (int h : job.spec().reads()) {
      reads.add(targets.get(h));
    }
    sums = new long[reads.size()];
    summed = new boolean[reads.size()];
    sumsLeft = reads.size();
    for (int i = 0; i < reads.size(); i++) {
      Target t = reads.get(i);
      if (t.owner() == null) {
        revoked(t, "read");
        sums[i] = Content.seed(0xFFFFFFFFL, t.size()); // all-ones
        summed[i] = true;
        sumsLeft--;
      } else {
        int index = i;
        getContext().ask(DriverProtocol.ChecksumReply.class, t.owner(), services.waitCap(),
            ref -> new DriverProtocol.Checksum(t.handle(), ref),
            (r, failure) -> new Summed(index, r != null ? r : new DriverProtocol.ChecksumReply(
                dev.fencelab.protocol.Errno.ETIMEDOUT.negative(), "", 0)));
      }
    }
    if (sumsLeft == 0) {
      writeOutputs();
    }
  }

  private Behavior<Msg> onSummed(Summed summed) {
    if (this.summed[summed.index()]) {
      return this;
    }
    this.summed[summed.index()] = true;
    if (summed.reply().result() < 0) {
      revoked(reads.get(summed.index()), "read");
      sums[summed.index()] = Content.seed(0xFFFFFFFFL, reads.get(summed.index()).size());
    } else {
      sums[summed.index()] = summed.reply().checksum().hashCode();
    }
    if (--sumsLeft == 0) {
      return writeOutputs();
    }
    return this;
  }

  private Behavior<Msg> writeOutputs() {
    long[] parts = new long[sums.length + 1];
    parts[0] = jobSeed;
    System.arraycopy(sums, 0, parts, 1, sums.length);
    long seed = Content.seed(parts);
    for (int h : job.spec().writes()) {
      Target t = targets.get(h);
      if (t.owner() == null) {
        revoked(t, "write");
        continue;
      }
      long tag = nextTag++;
      pendingByTag.put(tag, t);
      writesLeft++;
      t.owner().tell(new DriverProtocol.WriteRange(t.handle(), List.of(new Chunk.Pattern(0, t.size(), seed, 0)), tag, writeAdapter));
    }
    return maybeDone();
  }

  private Behavior<Msg> onWrote(Wrote wrote) {
    Target t = pendingByTag.remove(wrote.ack().tag());
    if (wrote.ack().result() < 0 && t != null) {
      failed(t, "write", wrote.ack().result());
    }
    if (!computing) {
      copyWrites--;
      pumpCopy();
      return computing ? maybeDone() : this;
    }
    writesLeft--;
    return maybeDone();
  }

  private Behavior<Msg> maybeDone() {
    if (done) {
      return awaitingFabric ? this : Behaviors.stopped();
    }
    if (computing && sumsLeft == 0 && writesLeft == 0) {
      done = true; // reached from both the last copy ack and the compute step: answer once
      if (transferId == null) {
        return executed(null);
      }
      if (!revokedTargets.isEmpty()) {
        pcie.fabric().tell(new FabricProtocol.Cancel(transferId));
        return executed(null);
      }
      awaitingFabric = true;
      // the data has moved: the fabric says when the transfer ends in model time, sharing links with the others
      getContext().ask(FabricProtocol.Done.class, pcie.fabric(), java.time.Duration.ofSeconds(10), r -> new FabricProtocol.End(transferId, r),
          (d, failure) -> new Transferred(d != null ? d : new FabricProtocol.Done(transferId, -1, "", 0, "the fabric did not answer")));
      return this;
    }
    return this;
  }

  private Behavior<Msg> onTransferred(Transferred t) {
    return executed(t.done());
  }

  /** The emulated link's delay to the member holding {@code t} (0: here, revoked, or no delay). */
  private long linkDelay(Target t) {
    return t == null || t.owner() == null ? 0
        : dev.fencelab.node.fence.LinkDelays.get(getContext().getSystem()).latency(t.owner().path().address());
  }

  /** Traces the copy and answers the engine; {@code fabric}: the fabric's answer for the transfer, if there was one. */
  private Behavior<Msg> executed(FabricProtocol.Done fabric) {
    JobSpec.Copy copy = job.spec().copy();
    long transferNanos = 0;
    String how = "";
    if (route != null && revokedTargets.isEmpty()) {
      long alone = pcie.routes().aloneNanos(route, copy.length());
      boolean shared = fabric != null && fabric.modelEnd() >= 0;
      transferNanos = shared ? fabric.modelEnd() - job.startModel() : alone;
      how = route.kind() + ": " + route.path() + "; " + transferNanos + " ns model time (" + alone + " ns alone"
          + (shared ? "" : fabric == null ? "" : ", the fabric could not share it: " + fabric.path()) + ")";
    }
    if (copy != null) {
      Target src = targets.get(copy.src());
      Target dst = targets.get(copy.dst());
      long link = Math.max(linkDelay(src), linkDelay(dst)); // link_delay: the first request and its answer cross the link
      if (link > 0) {
        transferNanos += 2 * link;
        how = (how.isEmpty() ? "" : how + "; ") + "link_delay: +" + 2 * link + " ns";
      }
      dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).record(dev.fencelab.node.trace.TraceRecorder
          .event(dev.fencelab.protocol.trace.v1.EventKind.COPY, label).setId(job.jobId()).setName(job.spec().label())
          .setBytes(copy.length()).setWallNanos(startWall).setWallEndNanos(System.nanoTime()).setDetail(how)
          .setSubject((src == null ? "?" : src.name()) + " -> " + (dst == null ? "?" : dst.name())));
    }
    job.replyTo().tell(new Engine.Executed(job.jobId(), job.attempt(),
        revokedTargets.isEmpty() ? 0 : dev.fencelab.protocol.Errno.ENODEV.negative(), transferNanos));
    return Behaviors.stopped();
  }

  /** The copy's route through the fabric, and its start there (with the fabric, it shares links with other transfers). */
  private void beginTransfer() {
    JobSpec.Copy copy = job.spec().copy();
    if (pcie == null) {
      return;
    }
    PcieRoutes.Location src = targets.get(copy.src()).location();
    PcieRoutes.Location dst = targets.get(copy.dst()).location();
    try {
      route = pcie.routes().route(src, pcie.endpoint(), dst);
    } catch (IllegalArgumentException e) {
      return; // a device outside the fabric: no transfer cost
    }
    if (pcie.fabric() != null) {
      transferId = label + "/" + job.spec().label() + "#" + job.jobId() + "." + job.attempt();
      pcie.fabric().tell(new FabricProtocol.Begin(transferId, src.host() ? "" : src.device(), src.bounce(), pcie.endpoint(),
          dst.host() ? "" : dst.device(), dst.bounce(), copy.length(), job.startModel()));
    }
  }

  private Behavior<Msg> onOwnerDied(Terminated t) {
    // The import is revoked: later DMA of this job does not go to the dead owner at all.
    targets.replaceAll((h, target) -> target.owner() != null && target.owner().equals(t.getRef())
        ? new Target(null, target.handle(), target.size(), target.name(), target.location()) : target);
    // Every operation still waiting on the dead owner ends as DMA into revoked memory.
    List<Long> tags = pendingByTag.entrySet().stream()
        .filter(e -> e.getValue().owner() != null && e.getValue().owner().equals(t.getRef())).map(Map.Entry::getKey).toList();
    for (long tag : tags) {
      int gone = dev.fencelab.protocol.Errno.ENODEV.negative();
      if (readTags.contains(tag)) {
        getContext().getSelf().tell(new Read(new DriverProtocol.RangeData(tag, gone, List.of())));
      } else {
        getContext().getSelf().tell(new Wrote(new DriverProtocol.WriteAck(tag, gone)));
      }
    }
    for (int i = 0; summed != null && i < reads.size(); i++) {
      if (!summed[i] && reads.get(i).owner() != null && reads.get(i).owner().equals(t.getRef())) {
        getContext().getSelf().tell(new Summed(i, new DriverProtocol.ChecksumReply(dev.fencelab.protocol.Errno.ENODEV.negative(), "", 0)));
      }
    }
    return this;
  }

  /**
   * A DMA that failed: -EFAULT is a device page fault on an address its process no longer maps (a userptr range it
   * unmapped — the process's bug, not the kernel's: the GPU logs a VM fault, the access is dropped); anything else is
   * memory that was revoked.
   */
  private void failed(Target t, String access, int errno) {
    if (errno == dev.fencelab.protocol.Errno.EFAULT.negative()) {
      dev.fencelab.node.trace.TraceRecorder.get(getContext().getSystem()).record(dev.fencelab.node.trace.TraceRecorder
          .event(dev.fencelab.protocol.trace.v1.EventKind.MARK, label).setName("device page fault").setSubject(t.name())
          .setDetail("job " + job.spec().label() + ": DMA " + access + " of an address its process no longer maps: dropped"));
      return;
    }
    revoked(t, access);
  }

  private void revoked(Target t, String access) {
    if (!revokedTargets.add(t.name() + " " + access)) {
      return; // reported once per buffer and direction
    }
    services.violation(Violation.Kind.DMA_REVOKED, t.name(), label + " job " + job.spec().label() + ": DMA " + access
        + (access.equals("read") ? " of revoked memory returned all-ones" : " to revoked memory was dropped"));
  }
}
