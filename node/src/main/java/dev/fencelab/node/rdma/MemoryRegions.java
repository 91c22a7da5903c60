package dev.fencelab.node.rdma;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The memory regions of one NIC and the DMA through them (kernel-semantics §1.16): registration (pinned through the
 * mm's long-term pin and its RLIMIT_MEMLOCK accounting, ODP through an interval notifier), the ODP invalidate callback
 * (zap, never wait), ODP faults ({@code ib_umem_odp_map_dma_and_lock}), and reads and writes of process memory through
 * each region's translation. Part of {@link RdmaNic}, on its thread: the actor that answers the invalidate callback is
 * the one that issues the DMA.
 */
final class MemoryRegions {
  private final ActorContext<Object> ctx;
  private final RdmaNic.Params p;
  private final NicClock clock;
  private final TraceRecorder trace;
  private final ActorRef<Object> self;
  private final Set<String> pds;
  private final Map<String, MemoryRegion> mrs = new HashMap<>();
  private final Map<Long, MemoryRegion> byInterval = new HashMap<>();
  /** dma-buf MRs by their importer id (what move_notify names). */
  private final Map<Integer, MemoryRegion> byImporter = new HashMap<>();
  private final DmaBufRegions dmabufs;
  /** DMA in flight, by tag: the mm it went to and what to do with the answer (null: the mm is gone). */
  private final Map<Long, Pending> pending = new HashMap<>();
  private final java.util.Set<ActorRef<?>> watchedMms = new java.util.HashSet<>();
  private ActorRef<?> lastWatched;
  private final ActorRef<MmProtocol.DmaData> dataReplies;
  private final ActorRef<MmProtocol.DmaAck> ackReplies;

  private record Pending(ActorRef<?> mm, java.util.function.Consumer<Object> then) {}

  /** DMA sent together at most (the work requests a queue pair keeps in flight). */
  static final int DMA_BATCH = RdmaNic.MAX_OUTSTANDING;
  /** DMA issued and not sent yet, all to {@link #batchMm}, in issue order; whether their flush is queued. */
  private final List<MmProtocol.Command> batch = new java.util.ArrayList<>();
  private ActorRef<MmProtocol.Command> batchMm;
  private boolean flushQueued;

  MemoryRegions(ActorContext<Object> ctx, RdmaNic.Params p, NicClock clock, TraceRecorder trace, Set<String> pds) {
    this.ctx = ctx;
    this.p = p;
    this.clock = clock;
    this.trace = trace;
    this.self = ctx.getSelf();
    this.pds = pds;
    this.dmabufs = new DmaBufRegions(ctx, p, clock, trace);
    // One adapter per answer type and a tag per DMA: no temporary actor per chunk (the transfer's hot path).
    this.dataReplies = ctx.messageAdapter(MmProtocol.DmaData.class, d -> new RdmaNic.Continue(() -> answered(d.tag(), d)));
    this.ackReplies = ctx.messageAdapter(MmProtocol.DmaAck.class, a -> new RdmaNic.Continue(() -> answered(a.tag(), a)));
  }

  private void answered(long tag, Object reply) {
    Pending w = pending.remove(tag);
    if (w != null) {
      w.then().accept(reply);
    }
  }

  /**
   * Sends a DMA to {@code mm} (watched: if it dies, the DMA ends with null instead of an answer). DMA issued while the NIC
   * works through its mailbox goes as one {@link MmProtocol.DmaBatch} (a doorbell's worth: the reads of the work requests
   * started together, the writes of the requests served together), in issue order, once the messages already in the
   * mailbox are handled or {@link #DMA_BATCH} are waiting — and before anything else this NIC sends to an mm.
   */
  private void dma(ActorRef<MmProtocol.Command> mm, long tag, MmProtocol.Command message, java.util.function.Consumer<Object> then) {
    if (mm != lastWatched && watchedMms.add(mm)) { // (an ActorRef's hash walks its path: not per chunk)
      ctx.watch(mm);
    }
    lastWatched = mm;
    pending.put(tag, new Pending(mm, then));
    if (batchMm != mm) {
      flushDma();
      batchMm = mm;
    }
    batch.add(message);
    if (batch.size() >= DMA_BATCH) {
      flushDma();
    } else if (!flushQueued) {
      flushQueued = true;
      self.tell(new RdmaNic.Continue(() -> {
        flushQueued = false;
        flushDma();
      }));
    }
  }

  /**
   * Sends the DMA not sent yet: one as itself, several as one batch. Called before any other message to an mm (a
   * registration, a fault, an unpin, an invalidate callback's answer), so the mm sees this NIC's messages in the order
   * they were issued, exactly as if each DMA had gone at once.
   */
  private void flushDma() {
    if (batch.isEmpty()) {
      return;
    }
    batchMm.tell(batch.size() == 1 ? batch.get(0) : new MmProtocol.DmaBatch(batch));
    batch.clear();
  }

  /** A process's mm is gone (its member died): the DMA waiting on it fails. */
  void mmGone(ActorRef<?> mm) {
    if (!watchedMms.remove(mm)) {
      return;
    }
    lastWatched = null;
    List<Long> tags = pending.entrySet().stream().filter(e -> e.getValue().mm().equals(mm)).map(Map.Entry::getKey).toList();
    tags.forEach(t -> pending.remove(t).then().accept(null));
  }

  /** ibv_reg_dmabuf_mr: the access flags and PD as for any MR, then {@link DmaBufRegions#register}. */
  void usePcie(RdmaProtocol.UsePcie u) {
    dmabufs.usePcie(u.endpoint(), u.routes());
  }

  void registerDmabuf(RdmaProtocol.RegDmabufMr r) {
    int check = Verbs.checkAccess(r.access() & ~Verbs.ON_DEMAND, p.odp());
    if (check != 0 || !pds.contains(r.pd()) || mrs.containsKey(r.name())) {
      r.replyTo().tell(RdmaProtocol.Reply.of(check != 0 ? check : Errno.EINVAL.negative(), check != 0 ? "ib_check_mr_access refused the flags"
          : "no pd " + r.pd() + " on " + p.name() + ", or mr " + r.name() + " exists"));
      return;
    }
    dmabufs.register(r, mr -> {
      mrs.put(mr.name, mr);
      byImporter.put(mr.dmabuf.importer, mr);
    });
  }

  /** The exporter's move_notify to one of our dma-buf MRs. */
  void moveNotify(dev.fencelab.node.driver.DriverProtocol.MoveNotify n) {
    MemoryRegion mr = byImporter.get(n.importerHandle());
    if (mr != null) {
      dmabufs.moveNotify(mr, n.revoked(), true);
    }
  }

  /** An exporter's driver is gone (its member died): its dma-buf MRs are revoked. */
  void exporterGone(ActorRef<?> exporter) {
    byImporter.values().stream().filter(mr -> mr.dmabuf.exporter.equals(exporter)).forEach(mr -> dmabufs.moveNotify(mr, true, false));
  }

  void register(RdmaProtocol.RegMr r) {
    flushDma();
    int check = Verbs.checkAccess(r.access(), p.odp());
    if (check != 0 || !pds.contains(r.pd()) || mrs.containsKey(r.name())) {
      r.replyTo().tell(RdmaProtocol.Reply.of(check != 0 ? check : Errno.EINVAL.negative(), check != 0 ? "ib_check_mr_access refused the flags"
          : "no pd " + r.pd() + " on " + p.name() + ", or mr " + r.name() + " exists"));
      return;
    }
    boolean odp = (r.access() & Verbs.ON_DEMAND) != 0;
    MemoryRegion mr = new MemoryRegion(r.name(), r.pd(), r.owner(), r.mm(), r.start(), r.length(), r.access(), odp);
    if (odp) { // ib_umem_odp_get: an interval notifier over the range, nothing faulted yet
      ActorRef<MmProtocol.Invalidate> subscriber = self.narrow();
      ctx.ask(MmProtocol.Inserted.class, r.mm(), p.callTimeout(),
          to -> new MmProtocol.NotifierInsert(subscriber, p.label() + "/" + r.name(), r.start(), r.length(), to),
          (in, failure) -> new RdmaNic.Continue(() -> {
            int result = in == null || in.result() == Errno.ESRCH.negative() ? Errno.EINVAL.negative() : in.result();
            if (result == 0) {
              mr.interval = in.interval();
              mr.seq = in.seq();
              mrs.put(mr.name, mr);
              byInterval.put(mr.interval, mr);
            }
            r.replyTo().tell(new RdmaProtocol.Reply(result, result == 0 ? Map.of("lkey", Long.toString(lkey(mr))) : Map.of(),
                result == 0 ? String.format("odp mr %s over %s 0x%x+%d (interval notifier %d)", r.name(), r.owner(), r.start(), r.length(),
                    in.interval()) : "ib_umem_odp_get: " + Errno.describe(result)));
          }));
      return;
    }
    int range = Verbs.checkPinnedRange(r.access(), r.start(), r.length());
    if (range != 0) {
      r.replyTo().tell(RdmaProtocol.Reply.of(range, "ib_umem_get: the range overflows"));
      return;
    }
    ctx.ask(MmProtocol.Pinned.class, r.mm(), p.callTimeout(),
        to -> new MmProtocol.LongTermPin(p.label(), r.start(), r.length(), mr.writable(), to),
        (pinned, failure) -> new RdmaNic.Continue(() -> {
          int result = pinned == null ? Errno.EINVAL.negative() : pinned.result() == Errno.ESRCH.negative() ? Errno.EINVAL.negative()
              : pinned.result();
          if (result == 0) {
            mr.pin = pinned.pin();
            mr.map(pinned.frames());
            mrs.put(mr.name, mr);
          }
          long pages = pinned == null ? 0 : pinned.frames().stream().mapToLong(f -> f.pages()).sum();
          r.replyTo().tell(new RdmaProtocol.Reply(result, pinned == null ? Map.of() : result == 0
              ? Map.of("pages", Long.toString(pages), "pinned_vm", Long.toString(pinned.pinnedVm()), "lkey", Long.toString(lkey(mr)))
              : Map.of("pinned_vm", Long.toString(pinned.pinnedVm())),
              result == 0 ? String.format("pinned mr %s over %s 0x%x+%d: %d pages pinned (pinned_vm %d)", r.name(), r.owner(), r.start(),
                  r.length(), pages, pinned.pinnedVm()) : "ib_umem_get: " + Errno.describe(result)));
        }));
  }

  private long lkey(MemoryRegion mr) {
    return (Integer.toUnsignedLong(mr.name.hashCode()) << 8 | (mrs.size() & 0xff)) & 0xffff_ffffL;
  }

  void deregister(RdmaProtocol.DeregMr d) {
    flushDma();
    MemoryRegion mr = mrs.remove(d.name());
    if (mr == null) {
      d.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), "no mr " + d.name() + " on " + p.name()));
      return;
    }
    if (mr.dmabuf != null) {
      byImporter.remove(mr.dmabuf.importer);
      dmabufs.deregister(mr);
      d.replyTo().tell(RdmaProtocol.Reply.of(0, "dma-buf mr " + d.name() + " deregistered, detached"));
    } else if (mr.odp) { // ib_umem_odp_release: mmu_interval_notifier_remove waits for a running invalidation
      byInterval.remove(mr.interval);
      ctx.ask(MmProtocol.Result.class, mr.mm, p.callTimeout(), to -> new MmProtocol.NotifierRemove(mr.interval, to),
          (res, failure) -> new RdmaNic.Continue(() -> d.replyTo().tell(RdmaProtocol.Reply.of(0, "odp mr " + d.name() + " deregistered"))));
    } else {
      ctx.ask(MmProtocol.Result.class, mr.mm, p.callTimeout(), to -> new MmProtocol.Unpin(mr.pin, to),
          (res, failure) -> new RdmaNic.Continue(() -> d.replyTo().tell(new RdmaProtocol.Reply(0, res == null ? Map.of()
              : Map.of("pinned_vm", Long.toString(res.value())), "pinned mr " + d.name() + " deregistered, pages unpinned"))));
    }
  }

  /** The invalidate op of an ODP MR (mlx5_ib_invalidate_range): false when not blockable; else set_seq, zap, true. */
  void invalidate(MmProtocol.Invalidate inv) {
    flushDma();
    MemoryRegion mr = byInterval.get(inv.interval());
    if (mr == null) {
      inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true));
      return;
    }
    if (!inv.blockable()) {
      inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), false));
      return;
    }
    mr.seq = inv.seq();
    long zapped = mr.zap(inv.start(), inv.end());
    if (trace.enabled()) { // nothing built per work request when tracing is off
      trace.record(TraceRecorder.event(EventKind.MARK, p.label() + "/" + mr.name).setName("odp zap").setSubject(inv.mm())
          .setDetail(String.format("%s 0x%x-0x%x: %d pages zapped, no fence waited for", inv.event(), inv.start(), inv.end(), zapped)));
    }
    inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true, clock.model()));
  }

  /** ib_umem_odp_map_dma_and_lock over the pages of {@code [addr, addr + len)}: pages mapped, or a negative errno. */
  private void ensureMapped(MemoryRegion mr, long addr, long len, IntConsumer done) {
    if (!mr.odp || mr.covers(addr, len)) {
      done.accept(0);
      return;
    }
    if (addr < mr.start || addr + len > mr.start + mr.length) {
      done.accept(Errno.EFAULT.negative());
      return;
    }
    fault(mr, addr, len, System.nanoTime(), done);
  }

  private void fault(MemoryRegion mr, long addr, long len, long began, IntConsumer done) {
    flushDma();
    long first = addr & ~4095L;
    long last = (addr + len + 4095) & ~4095L;
    ctx.ask(MmProtocol.Result.class, mr.mm, p.callTimeout(), to -> new MmProtocol.ReadBegin(mr.interval, to),
        (begun, failure) -> new RdmaNic.Continue(() -> {
          if (begun == null || begun.result() < 0) {
            faulted(mr, done, Errno.EINVAL.negative(), 0, "read_begin: the owning mm is gone");
            return;
          }
          long seq = begun.value();
          flushDma();
          ctx.ask(MmProtocol.Faulted.class, mr.mm, p.callTimeout(),
              to -> new MmProtocol.RangeFault(mr.interval, seq, first, last - first, mr.writable(), false, to),
              (f, failure2) -> new RdmaNic.Continue(() -> {
                int result = f == null || f.result() == Errno.ESRCH.negative() ? Errno.EINVAL.negative() : f.result();
                if (result == Errno.EBUSY.negative()) {
                  if (System.nanoTime() - began > RdmaNic.HMM_RANGE_DEFAULT_TIMEOUT_NANOS) {
                    faulted(mr, done, result, 0, "hmm_range_fault kept returning -EBUSY for 1000 ms");
                  } else {
                    fault(mr, addr, len, began, done);
                  }
                } else if (result < 0) {
                  faulted(mr, done, result, 0, "hmm_range_fault");
                } else if (mr.seq != seq || !mrs.containsKey(mr.name)) { // umem_mutex; mmu_interval_read_retry
                  fault(mr, addr, len, began, done);
                } else {
                  mr.map(f.frames());
                  clock.observe(clock.model() + (f.populated() > 0 ? p.majorFaultNanos() : p.minorFaultNanos()));
                  faulted(mr, done, (int) ((last - first) / 4096), f.populated(), f.populated() > 0 ? "major" : "minor");
                }
              }));
        }));
  }

  private void faulted(MemoryRegion mr, IntConsumer done, int result, long populated, String detail) {
    if (trace.enabled()) { // nothing built per work request when tracing is off
      trace.record(TraceRecorder.event(EventKind.ODP_FAULT, p.label() + "/" + mr.name).setStatus(result).setModelNanos(clock.model())
          .setDetail(detail + (populated > 0 ? " (" + populated + " pages allocated)" : "")).setSubject(mr.owner));
    }
    done.accept(result);
  }

  /** A DMA read of {@code len} bytes at {@code offset} of MR {@code name}: status 0 and the chunks (offsets from 0), or -errno. */
  void read(String name, long offset, int len, BiConsumer<Integer, List<Chunk>> done) {
    MemoryRegion mr = mrs.get(name);
    if (mr == null) {
      done.accept(Errno.EINVAL.negative(), List.of());
      return;
    }
    if (mr.dmabuf != null) {
      dmabufs.read(mr, offset, len, done);
      return;
    }
    long addr = mr.start + offset;
    ensureMapped(mr, addr, len, st -> {
      if (st < 0) {
        done.accept(st, List.of());
        return;
      }
      long tag = clock.nextId();
      dma(mr.mm, tag, new MmProtocol.DmaRead(p.label(), addr, len, mr.translation(), tag, dataReplies), reply -> {
        MmProtocol.DmaData d = (MmProtocol.DmaData) reply;
        done.accept(d == null ? Errno.EIO.negative() : d.result(), d == null ? List.of() : d.chunks());
      });
    });
  }

  /** A DMA write of {@code chunks} (offsets from 0) at {@code offset} of MR {@code name}: 0 or -errno. */
  void write(String name, long offset, List<Chunk> chunks, IntConsumer done) {
    MemoryRegion mr = mrs.get(name);
    if (mr == null) {
      done.accept(Errno.EINVAL.negative());
      return;
    }
    if (mr.dmabuf != null) {
      dmabufs.write(mr, offset, chunks, done);
      return;
    }
    long addr = mr.start + offset;
    long lo = Long.MAX_VALUE;
    long hi = 0;
    for (Chunk c : chunks) {
      lo = Math.min(lo, c.offset());
      hi = Math.max(hi, c.offset() + c.length());
    }
    lo = chunks.isEmpty() ? 0 : lo;
    ensureMapped(mr, addr + lo, hi - lo, st -> {
      if (st < 0) {
        done.accept(st);
        return;
      }
      long tag = clock.nextId();
      dma(mr.mm, tag, new MmProtocol.DmaWrite(p.label(), addr, chunks, mr.translation(), tag, ackReplies), reply -> {
        MmProtocol.DmaAck a = (MmProtocol.DmaAck) reply;
        done.accept(a == null ? Errno.EIO.negative() : a.result());
      });
    });
  }

  /** Whether MR {@code name} may be used by a QP of {@code pd} over {@code [offset, offset + len)} with {@code needed} access. */
  boolean usable(String name, String pd, long offset, long len, int needed) {
    MemoryRegion mr = mrs.get(name);
    return mr != null && mr.pd.equals(pd) && mr.contains(offset, len) && (mr.access & needed) == needed;
  }
}
