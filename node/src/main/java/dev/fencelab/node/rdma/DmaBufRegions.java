package dev.fencelab.node.rdma;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * dma-buf memory regions (kernel-semantics §1.16, §1.12; drivers/infiniband/core/umem_dmabuf.c): the NIC as a dynamic
 * importer of another device's buffer. {@code ib_umem_dmabuf_get} checks the range against the buffer (page aligned,
 * -EINVAL past it) and attaches with a {@code move_notify}; the mapping is made on first access
 * ({@code ib_umem_dmabuf_map_pages}: -EINVAL once revoked, map the attachment, wait for the resv's KERNEL fences — a
 * timeout is -ETIMEDOUT). {@code move_notify} zaps and unmaps (the next access maps again, after the move's fences);
 * the pinned variant ({@code ib_umem_dmabuf_get_pinned}, for NICs without ODP) pins and maps at registration, and a
 * {@code move_notify} only warns. When the exporter goes (its device unplugged, its member dead) the MR is revoked: no
 * access reaches the buffer again. Part of {@link RdmaNic}.
 *
 * <p>The NIC attaches with {@code allow_peer2peer} (as ib_umem_dmabuf's importer ops do): where the p2pdma distance to
 * the GPU allows it, its DMA goes to the GPU's BAR — GPUDirect — over the host's PCIe fabric, each chunk costing its
 * route's time on the NIC's clock and traced as a {@code pcie transfer}; where it does not, the exporter serves the
 * mapping from system memory.
 */
final class DmaBufRegions {
  private final ActorContext<Object> ctx;
  private final RdmaNic.Params p;
  private final NicClock clock;
  private final TraceRecorder trace;
  private final Duration waitCap;
  private int nextImporter = 1;
  /** The NIC's PCI function and its host's routes; null routes: not placed in a fabric (no PCIe leg). */
  private String endpoint = "";
  private dev.fencelab.node.p2p.PcieRoutes routes;

  DmaBufRegions(ActorContext<Object> ctx, RdmaNic.Params p, NicClock clock, TraceRecorder trace) {
    this.ctx = ctx;
    this.p = p;
    this.clock = clock;
    this.trace = trace;
    this.waitCap = p.callTimeout();
  }

  void usePcie(String endpoint, dev.fencelab.node.p2p.PcieRoutes routes) {
    this.endpoint = endpoint;
    this.routes = routes;
  }

  /**
   * The PCIe leg of a DMA of {@code bytes} between the region's memory and this NIC: its time on the NIC's clock (chunks
   * pipeline with the wire, which the clock's link keeps on its own), traced for the report's drawing of the fabric.
   */
  private void pcieLeg(MemoryRegion mr, long bytes, boolean toNic) {
    MemoryRegion.DmaBuf buf = mr.dmabuf;
    if (routes == null || endpoint.isEmpty() || buf.exporterEndpoint.isEmpty() || bytes == 0) {
      return;
    }
    dev.fencelab.node.p2p.PcieRoutes.Route route;
    try {
      route = routes.reach(buf.system ? dev.fencelab.node.p2p.PcieRoutes.Location.HOST
          : new dev.fencelab.node.p2p.PcieRoutes.Location(buf.exporterEndpoint), endpoint, toNic);
    } catch (IllegalArgumentException e) {
      return; // the GPU is not in this host's fabric
    }
    long cost = routes.serialNanos(route, bytes);
    long start = clock.pcie(cost) - cost;
    if (trace.enabled()) { // nothing built per work request when tracing is off
      trace.record(TraceRecorder.event(EventKind.MARK, p.label() + "/" + mr.name).setName("pcie transfer").setSubject(mr.owner)
          .setBytes(bytes).setModelNanos(start).setResult(cost).setDetail(route.kind() + " " + String.join(",",
              new java.util.TreeSet<>(route.crossings().keySet())) + " | " + route.path()));
    }
  }

  private void mark(MemoryRegion mr, String name, String detail) {
    if (trace.enabled()) { // nothing built per work request when tracing is off
      trace.record(TraceRecorder.event(EventKind.MARK, p.label() + "/" + mr.name).setName(name).setDetail(detail)
          .setSubject(mr.owner).setModelNanos(clock.model()));
    }
  }

  /** ib_umem_dmabuf_get[_pinned]: 0 and {@code add} called with the region, or a negative errno. */
  void register(RdmaProtocol.RegDmabufMr r, Consumer<MemoryRegion> add) {
    long end = r.offset() + r.length();
    if (r.offset() < 0 || r.length() < 0 || end < r.offset() || ((end + 4095) & ~4095L) > ((r.size() + 4095) & ~4095L)) {
      r.replyTo().tell(RdmaProtocol.Reply.of(Errno.EINVAL.negative(), String.format("ib_umem_dmabuf_get: offset %d + size %d is past the "
          + "dma-buf's %d bytes", r.offset(), r.length(), r.size())));
      return;
    }
    if (!r.pinned() && !p.odp()) { // a movable dma-buf MR is faulted like an ODP one
      r.replyTo().tell(RdmaProtocol.Reply.of(Errno.EOPNOTSUPP.negative(), "a dynamic dma-buf MR needs on-demand paging; register it pinned"));
      return;
    }
    MemoryRegion.DmaBuf buf = new MemoryRegion.DmaBuf(r.exporter(), r.handle(), r.offset(), r.pinned(), nextImporter++);
    MemoryRegion mr = new MemoryRegion(r.name(), r.pd(), r.owner(), null, 0, r.length(), r.access(), false, buf);
    ActorRef<DriverProtocol.Command> importer = ctx.getSelf().narrow();
    IntConsumer fail = errno -> r.replyTo().tell(RdmaProtocol.Reply.of(errno, "ib_umem_dmabuf_get: " + Errno.describe(errno)));
    ctx.ask(DriverProtocol.Attached.class, r.exporter(), p.callTimeout(),
        to -> new DriverProtocol.Attach(r.handle(), true, importer, buf.importer, to, true, endpoint), // allow_peer2peer
        (a, failure) -> new RdmaNic.Continue(() -> {
          if (a == null || a.result() < 0) {
            fail.accept(a == null ? Errno.ENODEV.negative() : a.result());
            return;
          }
          buf.attachment = a.attachment();
          buf.exporterEndpoint = a.endpoint();
          ctx.watch(r.exporter());
          ctx.ask(DriverProtocol.ResvReply.class, r.exporter(), p.callTimeout(), to -> new DriverProtocol.GetResv("", r.handle(), to),
              (resv, failure2) -> new RdmaNic.Continue(() -> {
                if (resv == null || resv.result() < 0) {
                  fail.accept(resv == null ? Errno.ENODEV.negative() : resv.result());
                  return;
                }
                buf.resv = resv.resv();
                Runnable done = () -> {
                  add.accept(mr);
                  r.replyTo().tell(new RdmaProtocol.Reply(0, Map.of(), String.format("%s dma-buf mr %s over %d+%d of buffer %d of %s",
                      r.pinned() ? "pinned" : "dynamic", r.name(), r.offset(), r.length(), r.handle(),
                      TraceRecorder.label(r.exporter()))));
                };
                if (!r.pinned()) {
                  done.run();
                  return;
                }
                ctx.ask(DriverProtocol.Result.class, r.exporter(), p.callTimeout(),
                    to -> new DriverProtocol.PinAttachment(r.handle(), buf.attachment, true, to),
                    (pinned, failure3) -> new RdmaNic.Continue(() -> {
                      if (pinned == null || pinned.result() < 0) {
                        fail.accept(pinned == null ? Errno.ENODEV.negative() : pinned.result());
                        return;
                      }
                      map(mr, st -> {
                        if (st < 0) {
                          fail.accept(st);
                        } else {
                          done.run();
                        }
                      });
                    }));
              }));
        }));
  }

  /** ib_umem_dmabuf_map_pages: 0 once mapped and the KERNEL fences signalled; -EINVAL when revoked, -ETIMEDOUT. */
  private void map(MemoryRegion mr, IntConsumer done) {
    MemoryRegion.DmaBuf buf = mr.dmabuf;
    if (buf.revoked) {
      done.accept(Errno.EINVAL.negative());
      return;
    }
    if (buf.mapped) {
      done.accept(0);
      return;
    }
    if (buf.mapping != null) { // one mapping at a time: the accesses behind it wait for it
      buf.mapping.add(done);
      return;
    }
    buf.mapping = new java.util.ArrayList<>(List.of(done));
    IntConsumer all = st -> {
      List<IntConsumer> waiting = buf.mapping;
      buf.mapping = null;
      waiting.forEach(w -> w.accept(st));
    };
    ctx.ask(DriverProtocol.MapReply.class, buf.exporter, p.callTimeout(),
        to -> new DriverProtocol.MapAttachment(buf.handle, buf.attachment, to),
        (m, failure) -> new RdmaNic.Continue(() -> {
          if (m == null || m.result() < 0 || buf.revoked) {
            all.accept(buf.revoked ? Errno.EINVAL.negative() : m == null ? Errno.ENODEV.negative() : m.result());
            return;
          }
          ctx.ask(WaitResult.class, buf.resv, waitCap.plusSeconds(5),
              to -> new Resv.Wait(ResvUsage.KERNEL, waitCap.toNanos(), p.label() + "/" + mr.name + " ib_umem_dmabuf_map_pages", to),
              (w, failure2) -> new RdmaNic.Continue(() -> {
                long result = w == null ? 0 : w.result();
                int st = result < 0 ? (int) result : result == 0 ? Errno.ETIMEDOUT.negative() : 0;
                if (w != null) {
                  clock.observe(w.status().modelNanos());
                }
                if (st == 0 && !buf.revoked) {
                  buf.mapped = true;
                  buf.system = m.system();
                  mark(mr, "dma-buf mapped", "ib_umem_dmabuf_map_pages: mapped after the KERNEL fences");
                }
                all.accept(buf.revoked ? Errno.EINVAL.negative() : st);
              }));
        }));
  }

  /** A DMA read of {@code len} bytes at {@code offset} of the region: the chunks (offsets from 0), or -errno. */
  void read(MemoryRegion mr, long offset, int len, BiConsumer<Integer, List<Chunk>> done) {
    MemoryRegion.DmaBuf buf = mr.dmabuf;
    map(mr, st -> {
      if (st < 0) {
        done.accept(st, List.of());
        return;
      }
      long at = buf.offset + offset;
      ctx.ask(DriverProtocol.RangeData.class, buf.exporter, p.callTimeout(),
          to -> new DriverProtocol.ReadRange(buf.handle, at, len, clock.nextId(), to),
          (d, failure) -> new RdmaNic.Continue(() -> {
            if (d != null && d.result() == 0) {
              pcieLeg(mr, len, true);
            }
            done.accept(d == null ? Errno.EIO.negative() : d.result(), d == null ? List.of() : d.chunks().stream().map(c -> c.at(c.offset() - at)).toList());
          }));
    });
  }

  /** A DMA write of {@code chunks} (offsets from 0) at {@code offset} of the region: 0 or -errno. */
  void write(MemoryRegion mr, long offset, List<Chunk> chunks, IntConsumer done) {
    MemoryRegion.DmaBuf buf = mr.dmabuf;
    map(mr, st -> {
      if (st < 0) {
        done.accept(st);
        return;
      }
      long at = buf.offset + offset;
      List<Chunk> placed = chunks.stream().map(c -> c.at(c.offset() + at)).toList();
      ctx.ask(DriverProtocol.WriteAck.class, buf.exporter, p.callTimeout(),
          to -> new DriverProtocol.WriteRange(buf.handle, placed, clock.nextId(), to),
          (a, failure) -> new RdmaNic.Continue(() -> {
            if (a != null && a.result() == 0) {
              pcieLeg(mr, placed.stream().mapToLong(Chunk::length).sum(), false);
            }
            done.accept(a == null ? Errno.EIO.negative() : a.result());
          }));
    });
  }

  /**
   * The importer's move_notify: zap and unmap (mlx5), or for good with a revoke; a pinned MR only warns. The callback's
   * return goes to the exporter's driver ({@code answer}: after every DMA this NIC sent it before). With the
   * {@code move_notify_keeps_mapping} bug the callback returns without touching the mapping.
   */
  void moveNotify(MemoryRegion mr, boolean revoked, boolean answer) {
    MemoryRegion.DmaBuf buf = mr.dmabuf;
    if (answer && p.moveNotifyKeepsMapping() && !buf.pinned) {
      mark(mr, revoked ? "dma-buf revoke ignored" : "dma-buf move_notify ignored",
          "the callback returned and the MR still maps the buffer (move_notify_keeps_mapping): its DMA goes on through the old mapping");
    } else if (revoked) {
      buf.revoked = true;
      buf.mapped = false;
      mark(mr, "dma-buf revoked", "ib_umem_dmabuf_revoke: unmapped for good; every later access fails");
    } else if (buf.pinned) {
      mark(mr, "move_notify on a pinned dma-buf MR", "Invalidate callback should not be called when memory is pinned");
    } else {
      buf.mapped = false;
      mark(mr, "dma-buf move_notify", "MTTs zapped and the attachment unmapped; the next access maps it again");
    }
    if (answer) {
      buf.exporter.tell(new DriverProtocol.MoveNotified(buf.handle, buf.attachment));
    }
  }

  /** ib_umem_dmabuf_release: unpin (the pinned variant) and detach. */
  void deregister(MemoryRegion mr) {
    MemoryRegion.DmaBuf buf = mr.dmabuf;
    buf.revoked = true;
    if (buf.pinned) {
      ctx.ask(DriverProtocol.Result.class, buf.exporter, p.callTimeout(),
          to -> new DriverProtocol.PinAttachment(buf.handle, buf.attachment, false, to), (r, failure) -> new RdmaNic.Continue(() -> {}));
    }
    buf.exporter.tell(new DriverProtocol.Detach(buf.handle, buf.attachment));
  }
}
