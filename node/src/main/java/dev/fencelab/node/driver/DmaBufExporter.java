package dev.fencelab.node.driver;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.Errno;
import java.util.List;

/**
 * A driver as a dma-buf exporter (kernel-semantics §1.12): {@code dma_buf_export} with the exporter ops checked
 * (pin without unpin or unpin without pin: -EINVAL and the WARN), attachments of importers on any node, mapping an
 * attachment (a static importer's map pins the buffer and waits for the resv's KERNEL fences), pinning, and moving
 * a buffer ({@code evict}: -EBUSY while pinned, or while attached to a static exporter's buffer; otherwise
 * {@code move_notify} to each dynamic importer, never a static one).
 */
final class DmaBufExporter {
  private final DriverContext d;

  DmaBufExporter(DriverContext d) {
    this.d = d;
  }

  void export(DriverProtocol.Export export) {
    Bo bo = d.lookup(export.process(), export.handle());
    if (d.unplugged) {
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.ENODEV.negative(), null));
    } else if (bo == null) {
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.ENOENT.negative(), null));
    } else if (export.omitOps() == DriverProtocol.NO_PIN || export.omitOps() == DriverProtocol.NO_UNPIN) {
      d.services.violation(Violation.Kind.DMA_BUF_EXPORT_OPS, d.label + "/" + bo.name, "dma_buf_export with "
          + (export.omitOps() == DriverProtocol.NO_PIN ? "unpin but no pin" : "pin but no unpin") + " (WARN_ON(!!ops->pin != !!ops->unpin))");
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.EINVAL.negative(), null));
    } else if (bo.userptr != null) {
      export.replyTo().tell(new DriverProtocol.ExportReply(Errno.EPERM.negative(), null)); // amdgpu_gem_prime_export: never a userptr
    } else if (bo.imported != null) {
      export.replyTo().tell(new DriverProtocol.ExportReply(0, bo.imported)); // PRIME re-export: the same dma-buf
    } else {
      bo.staticExporter = export.omitOps() == (DriverProtocol.NO_PIN | DriverProtocol.NO_UNPIN);
      if (bo.exported == null) {
        bo.exported = new DmaBufRef(d.label + "/" + bo.name, bo.size, d.self(), bo.handle, bo.resv);
      }
      export.replyTo().tell(new DriverProtocol.ExportReply(0, bo.exported));
    }
  }

  void attach(DriverProtocol.Attach attach) {
    Bo bo = d.bos.get(attach.handle());
    if (d.unplugged || bo == null) {
      attach.replyTo().tell(new DriverProtocol.Attached(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), 0));
      return;
    }
    boolean p2p = false;
    String detail = "";
    if (attach.peer2peer()) {
      // amdgpu_dma_buf_attach: attach->peer2peer stays only if pci_p2pdma_distance(exporter, importer) >= 0 (§1.12, §1.13);
      // the check is the common p2pdma code's, made here for every exporter
      int distance = d.routes == null ? 0 : d.routes.dma().topology().endpoint(d.endpoint) == null ? -1
          : d.routes.dma().distanceMany(d.endpoint, List.of(attach.endpoint()));
      p2p = distance >= 0;
      detail = "pci_p2pdma_distance(" + d.endpoint + ", " + attach.endpoint() + ") = " + distance + (p2p ? ": peer2peer" : ": peer2peer cleared");
    }
    Bo.Attachment a = new Bo.Attachment(d.nextAttachment(), attach.importer(), attach.importerHandle(), attach.dynamic(), p2p);
    bo.attachments.put(a.id, a);
    d.watch(attach.importer());
    attach.replyTo().tell(new DriverProtocol.Attached(0, a.id, p2p, d.endpoint, detail));
  }

  void mapAttachment(DriverProtocol.MapAttachment map) {
    Bo bo = d.bos.get(map.handle());
    Bo.Attachment a = bo == null ? null : bo.attachments.get(map.attachment());
    if (d.unplugged || a == null) {
      map.replyTo().tell(new DriverProtocol.MapReply(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), List.of()));
      return;
    }
    boolean pastBar = a.peer2peer && bar() > 0 && bo.size > bar();
    if (bo.placement == DriverProtocol.Placement.VRAM && (!a.peer2peer || pastBar)) {
      // amdgpu_dma_buf_map: VRAM only for a peer2peer attachment, and P2P goes through the visible BAR; otherwise the
      // buffer moves to system memory (GTT) first
      if (pinned(bo)) {
        map.replyTo().tell(new DriverProtocol.MapReply(Errno.EBUSY.negative(), List.of())); // it cannot move: inaccessible to this importer
        return;
      }
      long nanos = moveToSystem(bo, a, pastBar ? "dma_buf_map_attachment of " + bo.size + " bytes, past the " + bar() + " bytes the BAR exposes"
          : "dma_buf_map_attachment of an importer without peer2peer");
      // the move is a job whose fence is KERNEL in the resv: a static importer's map, and every later job, waits for it
      d.ask(DriverProtocol.SubmitReply.class, d.self(), d.settings.callTimeout(), r -> new DriverProtocol.Move(bo.handle, nanos,
          "for an importer without peer2peer", r), (moved, failure) -> {
            int result = moved == null ? Errno.ETIMEDOUT.negative() : moved.result();
            if (result < 0) {
              map.replyTo().tell(new DriverProtocol.MapReply(result, List.of()));
            } else {
              finishMap(bo, a, map, bo.size, nanos);
            }
          });
      return;
    }
    finishMap(bo, a, map, 0, 0);
  }

  private void finishMap(Bo bo, Bo.Attachment a, DriverProtocol.MapAttachment map, long migrated, long migrateNanos) {
    a.mapped = true;
    boolean system = bo.placement == DriverProtocol.Placement.SYSTEM;
    DriverProtocol.MapReply mapped = new DriverProtocol.MapReply(0, d.segments(bo), system, migrated, migrateNanos,
        system ? "host_memory" : a.peer2peer ? "peer2peer" : "");
    if (a.dynamic) {
      map.replyTo().tell(mapped); // a dynamic importer waits for (or pipelines on) the KERNEL fences itself
      return;
    }
    a.pinned = true; // a static importer of a movable buffer: pinned on map (§1.12)
    d.ask(WaitResult.class, bo.resv, d.services.waitCap().plusSeconds(5),
        ref -> new Resv.Wait(ResvUsage.KERNEL, -1, d.label + " dma_buf_map_attachment", ref),
        (r, failure) -> {
          // dma_buf_map_attachment of a static importer returns once the resv's KERNEL fences (moves) completed.
          long result = r != null ? r.result() : Errno.ETIMEDOUT.negative();
          map.replyTo().tell(result < 0 ? new DriverProtocol.MapReply((int) result, List.of()) : mapped);
        });
  }

  void pinAttachment(DriverProtocol.PinAttachment pin) {
    Bo bo = d.bos.get(pin.handle());
    Bo.Attachment a = bo == null ? null : bo.attachments.get(pin.attachment());
    if (d.unplugged || a == null) {
      pin.replyTo().tell(new DriverProtocol.Result(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative()));
      return;
    }
    if (!a.dynamic) {
      d.services.violation(Violation.Kind.DMA_BUF_PIN_STATIC, bo.exported, "dma_buf_pin by a static importer (WARN_ON(!attach->importer_ops))");
    }
    if (pin.pin() && bo.placement == DriverProtocol.Placement.VRAM && !pinned(bo)
        && bo.attachments.values().stream().anyMatch(x -> !x.peer2peer)) {
      long nanos = moveToSystem(bo, null, "dma_buf_pin with an attachment that is not peer2peer: pinned in GTT, not VRAM");
      d.self().tell(new DriverProtocol.Move(bo.handle, nanos, "pinned in GTT", d.system().ignoreRef()));
    }
    a.pinned = pin.pin();
    pin.replyTo().tell(new DriverProtocol.Result(0));
  }

  void evict(DriverProtocol.Evict evict) {
    Bo bo = d.bos.get(evict.handle());
    if (d.unplugged || bo == null || bo.imported != null) {
      evict.replyTo().tell(new DriverProtocol.EvictReply(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), 0));
      return;
    }
    if (pinned(bo)) {
      evict.replyTo().tell(new DriverProtocol.EvictReply(Errno.EBUSY.negative(), 0));
      return;
    }
    boolean wasVram = bo.placement == DriverProtocol.Placement.VRAM;
    moveToSystem(bo, null, wasVram ? "evicted" : "");
    evict.replyTo().tell(new DriverProtocol.EvictReply(0, (int) bo.attachments.values().stream().filter(a -> a.dynamic).count()));
  }

  /** The bytes this device's BAR exposes to peers (0: all its memory). */
  private long bar() {
    var e = d.routes == null ? null : d.routes.dma().topology().endpoint(d.endpoint);
    return e == null ? 0 : e.bar();
  }

  /** Pinned by an attachment, or exported by a static exporter (no pin op: its buffer never moves while attached). */
  private static boolean pinned(Bo bo) {
    return bo.attachments.values().stream().anyMatch(a -> a.pinned) || bo.staticExporter && !bo.attachments.isEmpty();
  }

  /**
   * Moves a buffer to system memory: every attachment's mapping is dropped and each dynamic importer but {@code except}
   * gets {@code move_notify}. Returns the move's model time (the buffer over this device's link to DRAM), traced when
   * {@code why} is not empty and the buffer was in VRAM.
   */
  private long moveToSystem(Bo bo, Bo.Attachment except, String why) {
    long nanos = 0;
    if (bo.placement == DriverProtocol.Placement.VRAM) {
      d.vramUsed -= (bo.size + 4095) & ~4095L;
      if (d.routes != null && d.routes.dma().topology().endpoint(d.endpoint) != null) {
        var route = d.routes.route(new dev.fencelab.node.p2p.PcieRoutes.Location(d.endpoint), d.endpoint,
            dev.fencelab.node.p2p.PcieRoutes.Location.HOST);
        nanos = d.routes.aloneNanos(route, bo.size);
      }
      if (!why.isEmpty()) {
        dev.fencelab.node.trace.TraceRecorder.get(d.system()).record(dev.fencelab.node.trace.TraceRecorder
            .event(dev.fencelab.protocol.trace.v1.EventKind.MARK, d.label).setName("migrate to system memory").setSubject(d.label + "/" + bo.name)
            .setBytes(bo.size).setResult(nanos).setDetail(why + ": " + bo.size + " bytes VRAM -> GTT, " + nanos + " ns model time"));
      }
    }
    bo.placement = DriverProtocol.Placement.SYSTEM;
    bo.address = d.systemAddress(bo.handle);
    for (Bo.Attachment a : bo.attachments.values()) {
      a.mapped = false;
      if (a.dynamic && a != except) {
        a.importer.tell(new DriverProtocol.MoveNotify(a.importerHandle, false));
      }
    }
    return nanos;
  }

  void detach(DriverProtocol.Detach detach) {
    Bo bo = d.bos.get(detach.handle());
    if (bo != null) {
      bo.attachments.remove(detach.attachment());
    }
  }
}
