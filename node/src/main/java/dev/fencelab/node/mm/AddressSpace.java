package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.Map;

/**
 * The address space of one emulated process ({@code struct mm_struct}) as its calls see it: mmap, munmap, mprotect,
 * madvise(DONTNEED), fork's copy-on-write, exit, reclaim, CPU access, migrate_vma and {@code hmm_range_fault}, with the
 * kernel's return values — no messaging. A call that changes what a device may have translated is split in two, as the
 * kernel's is: a {@code plan} that checks the arguments and names the ranges to invalidate (the caller runs the
 * invalidation round over them, {@code mmu_notifier_invalidate_range_start}), and an {@code apply} that changes the
 * tables (between the round's start and its end). The state is in two parts: the mappings and their content
 * ({@link Mappings}), and the 4 KiB pages — frames, copy-on-write, device-private pages, pins ({@link PageStates}).
 */
public final class AddressSpace {
  public static final long PAGE = 4096;
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int PROT_EXEC = 4;
  /** x86-64 {@code TASK_SIZE} with 4-level page tables: user addresses lie below it. */
  public static final long TASK_SIZE = 0x7fff_ffff_f000L;

  /** A range to invalidate before the change is applied. */
  public record Invalidation(long start, long end, MmuEvent event) {}

  /** A call's plan: 0 or a negative errno, and the ranges its invalidation round covers. */
  public record Plan(int errno, List<Invalidation> ranges) {
    static Plan error(Errno e) {
      return new Plan(e.negative(), List.of());
    }
  }

  /** One mapping as users see it (/proc/pid/maps). */
  public record Mapping(long start, long end, int prot, boolean shared) {}

  /** What {@code hmm_range_fault} reported, page by page, counted ({@link PageStates#hmmView}). */
  public record HmmView(long valid, long write, long device, long error, long none, long p2p, long zero) {
    public HmmView(long valid, long write, long device, long error, long none) {
      this(valid, write, device, error, none, 0, 0);
    }

    public HmmView(long valid, long write, long device, long error, long none, long p2p) {
      this(valid, write, device, error, none, p2p, 0);
    }
  }

  private final Mappings mappings;
  private final PageStates pages;

  /** @param bytesThreshold mappings up to this size hold real bytes; larger ones hold pattern segments */
  public AddressSpace(long bytesThreshold) {
    this.mappings = new Mappings(bytesThreshold);
    this.pages = new PageStates(mappings, bytesThreshold);
  }

  public List<Mapping> mappings() {
    return mappings.list();
  }

  public long residentPages() {
    return pages.resident();
  }

  static boolean aligned(long addr) {
    return (addr & (PAGE - 1)) == 0;
  }

  static long pageUp(long length) {
    return (length + PAGE - 1) & ~(PAGE - 1);
  }

  public long mmap(long addr, long length, int prot, boolean shared, boolean fixed) {
    return mappings.mmap(addr, length, prot, shared, fixed);
  }

  // --- munmap, mprotect, madvise

  /** {@code munmap}: -EINVAL for an unaligned address, length 0 or a range past TASK_SIZE; an UNMAP per VMA it covers. */
  public Plan planMunmap(long addr, long length) {
    long len = pageUp(length);
    if (!aligned(addr) || length <= 0 || len <= 0 || addr > TASK_SIZE - len) {
      return Plan.error(Errno.EINVAL);
    }
    return new Plan(0, mappings.perVma(addr, addr + len, MmuEvent.UNMAP, v -> true));
  }

  public void munmap(long addr, long length) {
    long end = addr + pageUp(length);
    pages.zap(addr / PAGE, (end - addr) / PAGE);
    mappings.unmap(addr, end);
  }

  /**
   * {@code mprotect}: -EINVAL for an unaligned address or unknown prot bits; 0 and nothing for length 0; -ENOMEM when
   * part of the range is not mapped. A PROTECTION_VMA per VMA whose pages are present (change_protection walks
   * populated page tables only).
   */
  public Plan planMprotect(long addr, long length, int prot) {
    if (!aligned(addr) || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0 || length < 0) {
      return Plan.error(Errno.EINVAL);
    }
    if (length == 0) {
      return new Plan(0, List.of());
    }
    long end = addr + pageUp(length);
    if (end < addr || mappings.hasHole(addr, end)) {
      return Plan.error(Errno.ENOMEM);
    }
    return new Plan(0, mappings.perVma(addr, end, MmuEvent.PROTECTION_VMA,
        v -> pages.present(Math.max(addr, v.start), Math.min(end, v.end))));
  }

  public void mprotect(long addr, long length, int prot) {
    mappings.protect(addr, addr + pageUp(length), prot);
  }

  /**
   * {@code madvise(MADV_DONTNEED)}: -EINVAL for an unaligned address; 0 for length 0; a CLEAR per VMA part (zap_page_range
   * invalidates whether or not pages are present). A hole makes the call return -ENOMEM after the mapped parts are
   * done ({@link #dontneedResult}).
   */
  public Plan planDontneed(long addr, long length) {
    if (!aligned(addr) || length < 0) {
      return Plan.error(Errno.EINVAL);
    }
    if (length == 0) {
      return new Plan(0, List.of());
    }
    long end = addr + pageUp(length);
    return new Plan(0, mappings.perVma(addr, end, MmuEvent.CLEAR, v -> true));
  }

  /** Zaps the pages: private anonymous memory reads back as zeros; a shared mapping keeps its content (page cache). */
  public void dontneed(long addr, long length) {
    long end = addr + pageUp(length);
    for (Mappings.Vma v : mappings.covering(addr, end)) {
      long s = Math.max(addr, v.start);
      long e = Math.min(end, v.end);
      pages.zap(s / PAGE, (e - s) / PAGE);
      if (!v.backing.shared()) {
        v.backing.content().write(new Chunk.Pattern(s - v.backing.origin(), e - s, 0, 0));
      }
    }
  }

  /** What {@code madvise(DONTNEED)} returns once done: -ENOMEM when part of the range was not mapped. */
  public int dontneedResult(long addr, long length) {
    return length > 0 && mappings.hasHole(addr, addr + pageUp(length)) ? Errno.ENOMEM.negative() : 0;
  }

  // --- exit, reclaim, the OOM reaper, migration of system pages

  /** exit_mmap: every mapping goes (UNMAP over each). */
  public Plan planExit() {
    return new Plan(0, mappings.whole(MmuEvent.UNMAP, v -> true));
  }

  public void exit() {
    pages.zap(0, TASK_SIZE / PAGE);
    mappings.clear();
  }

  /** The mappings with pages present, as CLEAR ranges (what reclaim would unmap). */
  public List<Invalidation> residentRanges() {
    return mappings.whole(MmuEvent.CLEAR, v -> pages.present(v.start, v.end));
  }

  public void reclaim(long addr, long length) {
    pages.reclaim(addr, length);
  }

  public long migrate(long addr, long length) {
    return pages.migrate(addr, length);
  }

  /** The private anonymous mappings the OOM reaper may unmap, as ranges. */
  public List<Invalidation> reapable() {
    return mappings.whole(MmuEvent.UNMAP, v -> !v.backing.shared());
  }

  public long reap(long start, long end) {
    return pages.reap(start, end);
  }

  // --- fork

  /**
   * {@code fork} (dup_mmap → copy_page_range): every private writable VMA with pages present is write-protected for
   * copy-on-write, announced as PROTECTION_PAGE over the VMA. The child keeps the frames; the parent's next write to
   * a page gets a new one.
   */
  public Plan planFork() {
    return new Plan(0, mappings.whole(MmuEvent.PROTECTION_PAGE,
        v -> !v.backing.shared() && (v.prot & PROT_WRITE) != 0 && pages.present(v.start, v.end)));
  }

  public void fork() {
    for (Mappings.Vma v : mappings.all()) {
      if (!v.backing.shared() && (v.prot & PROT_WRITE) != 0) {
        pages.markCow(v.start, v.end);
      }
    }
  }

  /**
   * What a child inherits at fork (copy_mm), taken after {@link #fork}: its mappings — shared ones backed by the same
   * memory, private ones by a copy of their content — and a copy of the page table, copy-on-write where the parent's is.
   * Handed to the child's address space ({@link #adopt}); the parent keeps nothing of it but the shared memory.
   */
  public static final class Inheritance {
    private final Mappings mappings;
    private final PageTable pages;

    private Inheritance(Mappings mappings, PageTable pages) {
      this.mappings = mappings;
      this.pages = pages;
    }
  }

  public Inheritance inherit() {
    return new Inheritance(mappings.copy(), pages.copy());
  }

  /** The child's side of fork: an address space with no mapping takes what it inherits; false if it has mappings. */
  public boolean adopt(Inheritance in) {
    if (!mappings.adopt(in.mappings)) {
      return false;
    }
    pages.adopt(in.pages);
    return true;
  }

  // --- CPU access, migrate_vma and hmm_range_fault

  /**
   * A CPU access (or a fault on a device's behalf) to {@code [addr, addr + length)}: -EFAULT where nothing is mapped or
   * the mapping is PROT_NONE; a write to a mapping without PROT_WRITE is {@code writeDenied} (-EFAULT for the CPU:
   * SIGSEGV; -EPERM for hmm_range_fault). A write to copy-on-write pages first clears them (wp_page_copy: CLEAR).
   */
  public Plan planAccess(long addr, long length, boolean write, Errno writeDenied) {
    if (length <= 0 || addr < 0 || addr > TASK_SIZE - length) {
      return Plan.error(Errno.EFAULT);
    }
    long end = addr + length;
    if (mappings.hasHole(addr, end)) {
      return Plan.error(Errno.EFAULT);
    }
    for (Mappings.Vma v : mappings.covering(addr, end)) {
      if ((v.prot & PROT_READ) == 0 && (v.prot & PROT_WRITE) == 0) {
        return Plan.error(Errno.EFAULT);
      }
      if (write && (v.prot & PROT_WRITE) == 0) {
        return Plan.error(writeDenied);
      }
    }
    if (!write) {
      return new Plan(0, List.of());
    }
    long first = addr & ~(PAGE - 1);
    long last = pageUp(end);
    return new Plan(0, pages.anyCow(first, last)
        ? mappings.perVma(first, last, MmuEvent.CLEAR, v -> true) : List.of());
  }

  /**
   * hmm_range_fault's checks with a fault request: -EFAULT where no readable mapping covers a page, -EPERM for a write
   * request on a mapping without PROT_WRITE. The invalidations its faults need: MIGRATE over another owner's
   * device-private pages (by owner, so each driver skips its own), CLEAR for a copy-on-write break.
   */
  public Plan planHmmFault(long addr, long length, boolean write) {
    return planAccess(addr, length, write, Errno.EPERM);
  }

  /**
   * migrate_vma_setup's view of {@code [addr, addr + length)} (kernel-semantics §1.17): -EINVAL for an empty or unaligned
   * range, an unmapped hole or a PROT_NONE mapping in it; -ENOENT for a shared mapping (only private anonymous memory
   * moves to device-private pages); otherwise MIGRATE over the range.
   */
  public Plan planMigrate(long addr, long length) {
    if (length <= 0 || !aligned(addr) || !aligned(length) || addr > TASK_SIZE - length) {
      return Plan.error(Errno.EINVAL);
    }
    long end = addr + length;
    if (mappings.hasHole(addr, end)) {
      return Plan.error(Errno.EINVAL);
    }
    for (Mappings.Vma v : mappings.covering(addr, end)) {
      if ((v.prot & (PROT_READ | PROT_WRITE)) == 0) {
        return Plan.error(Errno.EINVAL);
      }
      if (v.backing.shared()) {
        return Plan.error(Errno.ENOENT);
      }
    }
    return new Plan(0, List.of(new Invalidation(addr, end, MmuEvent.MIGRATE)));
  }

  // --- the pages (PageStates): faults, device-private memory, hmm_range_fault's view, pins

  public List<Frames> fault(long addr, long length, boolean write) {
    return pages.fault(addr, length, write);
  }

  public long absent(long addr, long length) {
    return pages.absent(addr, length);
  }

  public long toDevice(long addr, long length, String owner, String device) {
    return pages.toDevice(addr, length, owner, device);
  }

  public long toRam(long addr, long length, String owner) {
    return pages.toRam(addr, length, owner);
  }

  public long lose(String device) {
    return pages.lose(device);
  }

  public long lost(long addr, long length) {
    return pages.lost(addr, length);
  }

  public long makeExclusive(long addr, long length, String owner) {
    return pages.makeExclusive(addr, length, owner);
  }

  public java.util.Set<String> exclusiveOwners(long addr, long length) {
    return pages.exclusiveOwners(addr, length);
  }

  public long clearExclusive(long addr, long length) {
    return pages.clearExclusive(addr, length);
  }

  public String deviceOf(long addr) {
    return pages.deviceOf(addr);
  }

  public long onDevice(String device) {
    return pages.onDevice(device);
  }

  public List<PageTable.Private> devicePrivate(long addr, long length) {
    return pages.devicePrivate(addr, length);
  }

  public Map<String, Long> devicePrivatePages() {
    return pages.devicePrivatePages();
  }

  public HmmView hmmView(long addr, long length, String owner) {
    return pages.hmmView(addr, length, owner, java.util.Set.of());
  }

  public HmmView hmmView(long addr, long length, String owner, java.util.Set<String> p2pDevices) {
    return pages.hmmView(addr, length, owner, p2pDevices);
  }

  public long pin(List<Frames> frames) {
    return pages.pin(frames);
  }

  public long unpin(long pin) {
    return pages.unpin(pin);
  }

  List<Frames> presentFrames(long page, long n) {
    return pages.presentFrames(page, n);
  }

  Pins pins() {
    return pages.pins();
  }

  // --- the content of the mappings (Mappings)

  public void write(long addr, long length, long seed) {
    mappings.write(addr, length, seed);
  }

  public long checksum(long addr, long length) {
    return mappings.checksum(addr, length);
  }

  public List<Chunk> read(long addr, long length, int maxBytes) {
    return mappings.read(addr, length, maxBytes);
  }

  void writeMapped(Chunk c, long at, long from, long to) {
    mappings.writeMapped(c, at, from, to);
  }

  List<Chunk> filled(long addr, long length) {
    return mappings.filled(addr, length);
  }
}
