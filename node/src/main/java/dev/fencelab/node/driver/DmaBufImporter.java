package dev.fencelab.node.driver;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A driver as a dma-buf importer (kernel-semantics §1.12): PRIME import of another driver's dma-buf as a static or a
 * dynamic attachment (a dynamic importer without {@code move_notify}: -EINVAL and the WARN; our own export: the
 * original object), map through the exporter, pin, and {@code move_notify} (the mapping is dropped; with a revoke,
 * the import is dead: -ENODEV from then on).
 */
final class DmaBufImporter {
  private final DriverContext d;

  DmaBufImporter(DriverContext d) {
    this.d = d;
  }

  void importDmaBuf(DriverProtocol.Import imp) {
    if (d.unplugged) {
      imp.replyTo().tell(new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0));
      return;
    }
    DmaBufRef buf = imp.buf();
    if (imp.dynamic() && imp.noMoveNotify()) {
      d.services.violation(Violation.Kind.DMA_BUF_NO_MOVE_NOTIFY, buf.id(),
          "dma_buf_dynamic_attach with importer ops but no move_notify (WARN_ON(importer_ops && !importer_ops->move_notify))");
      imp.replyTo().tell(new DriverProtocol.BoReply(Errno.EINVAL.negative(), 0));
      return;
    }
    if (buf.exporter().equals(d.self())) {
      // drm_gem_prime_fd_to_handle on our own export: the original object (shared with the importing process).
      Bo own = d.bos.get(buf.exporterHandle());
      imp.replyTo().tell(own == null ? new DriverProtocol.BoReply(Errno.ENODEV.negative(), 0) : new DriverProtocol.BoReply(0, own.handle));
      return;
    }
    Bo bo = new Bo(d.nextHandle(), buf.id(), imp.process(), buf.size());
    bo.imported = buf;
    bo.resv = buf.resv();
    bo.dynamic = imp.dynamic();
    bo.placement = DriverProtocol.Placement.VRAM;
    boolean peer2peer = imp.peer2peer();
    d.bos.put(bo.handle, bo);
    d.watch(buf.exporter());
    int handle = bo.handle;
    d.ask(DriverProtocol.Attached.class, buf.exporter(), d.settings.callTimeout(),
        ref -> new DriverProtocol.Attach(buf.exporterHandle(), imp.dynamic(), d.self(), handle, ref, peer2peer, d.endpoint),
        (a, failure) -> attached(handle, a != null ? a : new DriverProtocol.Attached(Errno.ENODEV.negative(), 0), imp.replyTo()));
  }

  private void attached(int handle, DriverProtocol.Attached result, ActorRef<DriverProtocol.BoReply> replyTo) {
    Bo bo = d.bos.get(handle);
    if (bo == null || result.result() < 0 || bo.revoked) {
      d.bos.remove(handle);
      int error = result.result() < 0 ? result.result() : Errno.ENODEV.negative();
      replyTo.tell(new DriverProtocol.BoReply(error, 0));
      return;
    }
    bo.attachment = result.attachment();
    bo.peer2peer = result.peer2peer();
    bo.exporterEndpoint = result.endpoint();
    if (!result.detail().isEmpty()) {
      d.log("{}: import of {}: {}", d.label, bo.imported, result.detail());
    }
    replyTo.tell(new DriverProtocol.BoReply(0, bo.handle));
  }

  void map(DriverProtocol.MapBo map) {
    Bo bo = d.lookup(map.process(), map.handle());
    if (d.unplugged || bo == null) {
      map.replyTo().tell(new DriverProtocol.MapReply(d.unplugged ? Errno.ENODEV.negative() : Errno.ENOENT.negative(), List.of()));
      return;
    }
    if (bo.imported == null) {
      bo.mapped = true;
      boolean system = bo.placement == DriverProtocol.Placement.SYSTEM;
      map.replyTo().tell(new DriverProtocol.MapReply(0, d.segments(bo), system, 0, 0, system ? "host_memory" : "local"));
      return;
    }
    if (bo.revoked) {
      map.replyTo().tell(new DriverProtocol.MapReply(Errno.ENODEV.negative(), List.of()));
      return;
    }
    d.ask(DriverProtocol.MapReply.class, bo.imported.exporter(), d.settings.callTimeout(),
        ref -> new DriverProtocol.MapAttachment(bo.imported.exporterHandle(), bo.attachment, ref),
        (r, failure) -> mapped(bo.handle, r != null ? r : new DriverProtocol.MapReply(Errno.ENODEV.negative(), List.of()), map.replyTo()));
  }

  private void mapped(int handle, DriverProtocol.MapReply reply, ActorRef<DriverProtocol.MapReply> replyTo) {
    Bo bo = d.bos.get(handle);
    if (bo != null && reply.result() == 0 && !bo.revoked) {
      bo.mapped = true;
      bo.remoteSystem = reply.system();
      String route = reply.system() ? "host_memory" : reply.route();
      if (!reply.system() && d.routes != null && !bo.exporterEndpoint.isEmpty() && !d.endpoint.isEmpty()) {
        try {
          route = d.routes.route(new dev.fencelab.node.p2p.PcieRoutes.Location(bo.exporterEndpoint, !bo.peer2peer), d.endpoint,
              new dev.fencelab.node.p2p.PcieRoutes.Location(d.endpoint)).kind();
        } catch (IllegalArgumentException e) {
          route = "";
        }
      }
      replyTo.tell(new DriverProtocol.MapReply(0, reply.segments(), reply.system(), reply.migrated(), reply.migrateNanos(), route));
    } else {
      replyTo.tell(new DriverProtocol.MapReply(
          reply.result() < 0 ? reply.result() : Errno.ENODEV.negative(), List.of()));
    }
  }

  void pin(DriverProtocol.Pin pin) {
    Bo bo = d.lookup(pin.process(), pin.handle());
    if (d.unplugged || bo == null || bo.imported == null) {
      pin.replyTo().tell(new DriverProtocol.Result(d.unplugged ? Errno.ENODEV.negative()
          : bo == null ? Errno.ENOENT.negative() : Errno.EINVAL.negative()));
    } else if (bo.revoked) {
      pin.replyTo().tell(new DriverProtocol.Result(Errno.ENODEV.negative()));
    } else {
      bo.imported.exporter().tell(new DriverProtocol.PinAttachment(bo.imported.exporterHandle(), bo.attachment, pin.pin(), pin.replyTo()));
    }
  }

  /** move_notify: the mapping is dropped (with a revoke, for good); the callback's return goes to the exporter. */
  void moveNotify(DriverProtocol.MoveNotify notify) {
    Bo bo = d.bos.get(notify.importerHandle());
    if (bo != null && bo.imported != null) {
      bo.mapped = false; // drop the mapping; a new map points to the new location
      if (notify.revoked()) {
        bo.revoked = true;
        d.log("{}: {} revoked by its exporter", d.label, bo.imported);
      }
      bo.imported.exporter().tell(new DriverProtocol.MoveNotified(bo.imported.exporterHandle(), bo.attachment));
    }
  }
}
