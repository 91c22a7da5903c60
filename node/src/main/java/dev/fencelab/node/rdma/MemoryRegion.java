package dev.fencelab.node.rdma;

import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.Frames;
import dev.fencelab.node.mm.MmProtocol;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One memory region of a NIC: {@code [start, start + length)} of a process's {@code mm}, its PD and access flags, and
 * the NIC's translation of it — fixed for a pinned MR (the frames pinned at registration), present pages only for an
 * ODP MR (faulted in on access, zapped by the invalidate callback). Touched on the NIC's thread only.
 */
final class MemoryRegion {
  final String name;
  final String pd;
  final String owner;
  final ActorRef<MmProtocol.Command> mm;
  final long start;
  final long length;
  final int access;
  final boolean odp;
  /** The long-term pin of a pinned MR (its id in the mm). */
  long pin;
  /** ODP: the interval notifier's id, and its seq as the invalidate callback last set it (mmu_interval_set_seq). */
  long interval;
  long seq;
  private final List<Frames> translation = new ArrayList<>();
  /** A dma-buf MR's importer state (null for process memory). */
  final DmaBuf dmabuf;

  /**
   * A dma-buf MR ({@code ib_umem_dmabuf_get[_pinned]}): {@code [offset, offset + length)} of an exporter's buffer, a dynamic
   * attachment whose mapping {@code move_notify} drops (the next access maps it again, after the KERNEL fences), or a
   * pinned one; revoked for good when the exporter goes.
   */
  static final class DmaBuf {
    final ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> exporter;
    final int handle;
    final long offset;
    final boolean pinned;
    final int importer;
    ActorRef<dev.fencelab.node.resv.Resv.Command> resv;
    int attachment;
    boolean mapped;
    boolean revoked;
    /** The exporter's PCI function ("" unknown) and whether its mapping for us is host memory (peer2peer cleared). */
    String exporterEndpoint = "";
    boolean system;
    /** Accesses waiting for the mapping in progress (null: none in progress). */
    java.util.List<java.util.function.IntConsumer> mapping;

    DmaBuf(ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> exporter, int handle, long offset, boolean pinned, int importer) {
      this.exporter = exporter;
      this.handle = handle;
      this.offset = offset;
      this.pinned = pinned;
      this.importer = importer;
    }
  }

  MemoryRegion(String name, String pd, String owner, ActorRef<MmProtocol.Command> mm, long start, long length, int access, boolean odp) {
    this(name, pd, owner, mm, start, length, access, odp, null);
  }

  MemoryRegion(String name, String pd, String owner, ActorRef<MmProtocol.Command> mm, long start, long length, int access, boolean odp,
      DmaBuf dmabuf) {
    this.name = name;
    this.pd = pd;
    this.owner = owner;
    this.mm = mm;
    this.start = start;
    this.length = length;
    this.access = access;
    this.odp = odp;
    this.dmabuf = dmabuf;
  }

  /** Whether the NIC may write through it (the umem is writable: it faults with REQ_WRITE). */
  boolean writable() {
    return (access & (Verbs.LOCAL_WRITE | Verbs.REMOTE_WRITE | Verbs.REMOTE_ATOMIC)) != 0;
  }

  /** Whether {@code [offset, offset + len)} lies inside the region. */
  boolean contains(long offset, long len) {
    return offset >= 0 && len >= 0 && offset + len <= length;
  }

  List<Frames> translation() {
    return List.copyOf(translation);
  }

  /** Whether every page of {@code [addr, addr + len)} has a translation. */
  boolean covers(long addr, long len) {
    long page = addr & ~(AddressSpace.PAGE - 1);
    long end = addr + Math.max(len, 1);
    while (page < end) {
      Frames f = at(page);
      if (f == null) {
        return false;
      }
      page = f.end();
    }
    return true;
  }

  private Frames at(long addr) {
    for (Frames f : translation) {
      if (addr >= f.address() && addr < f.end()) {
        return f;
      }
    }
    return null;
  }

  /** Maps frames the mm gave (a pin, or a fault: replacing what the translation had for those pages). */
  void map(List<Frames> frames) {
    for (Frames f : frames) {
      zap(f.address(), f.end());
      translation.add(f);
    }
    translation.sort(java.util.Comparator.comparingLong(Frames::address));
  }

  /** Drops the translation of {@code [from, to)} (the invalidate callback's zap); returns the pages dropped. */
  long zap(long from, long to) {
    List<Frames> kept = new ArrayList<>();
    long dropped = 0;
    for (Frames f : translation) {
      long s = Math.max(f.address(), from);
      long e = Math.min(f.end(), to);
      if (s >= e) {
        kept.add(f);
        continue;
      }
      s = s & ~(AddressSpace.PAGE - 1);
      e = (e + AddressSpace.PAGE - 1) & ~(AddressSpace.PAGE - 1);
      dropped += (e - s) / AddressSpace.PAGE;
      if (f.address() < s) {
        kept.add(new Frames(f.address(), (s - f.address()) / AddressSpace.PAGE, f.pfn()));
      }
      if (e < f.end()) {
        kept.add(new Frames(e, (f.end() - e) / AddressSpace.PAGE, f.pfnAt(e)));
      }
    }
    translation.clear();
    translation.addAll(kept);
    return dropped;
  }
}
