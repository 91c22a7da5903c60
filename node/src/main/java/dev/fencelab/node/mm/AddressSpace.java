package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VMAs, page table and page content of one emulated process ({@code struct mm_struct}): the decisions and state
 * changes of mmap, munmap, mprotect, madvise(DONTNEED), fork's copy-on-write, CPU access and {@code hmm_range_fault},
 * with the kernel's return values — no messaging. Every call that changes what a device may have translated is split
 * in two, as the kernel's is: a {@code plan} that checks the arguments and names the ranges to invalidate (the
 * caller runs the invalidation round over them, {@code mmu_notifier_invalidate_range_start}), and an {@code apply}
 * that changes the tables (between the round's start and its end).
 *
 * <p>Pages are 4 KiB; page content lives per mapping ({@link Content}: real bytes up to the threshold, pattern
 * segments above it) and survives splits; frames are identities ({@link PageTable}) so that a DMA through an old
 * translation is seen as stale.
 */
public final class AddressSpace {
  public static final long PAGE = 4096;
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int PROT_EXEC = 4;
  /** x86-64 {@code TASK_SIZE} with 4-level page tables: user addresses lie below it. */
  public static final long TASK_SIZE = 0x7fff_ffff_f000L;
  /** Where top-down allocation of mappings starts ({@code mmap_base} without randomisation). */
  static final long MMAP_BASE = 0x7fff_f7ff_f000L;
  /** {@code vm.mmap_min_addr}'s default. */
  static final long MMAP_MIN = 0x1_0000L;
  /** {@code vm.max_map_count}'s default. */
  static final int MAX_MAP_COUNT = 65_530;

  /** A range to invalidate before the change is applied. */
  public record Invalidation(long start, long end, MmuEvent event) {}

  /** A call's plan: 0 or a negative errno, and the ranges its invalidation round covers. */
  public record Plan(int errno, List<Invalidation> ranges) {
    static Plan error(Errno e) {
      return new Plan(e.negative(), List.of());
    }
  }

  /** What backs a mapping: its bytes, addressed from its first address; the pieces a split leaves share it. */
  private record Backing(Content content, long origin, boolean shared) {}

  /** One VMA: {@code [start, end)}, its protection, its backing. */
  private static final class Vma {
    long start;
    long end;
    int prot;
    final Backing backing;

    Vma(long start, long end, int prot, Backing backing) {
      this.start = start;
      this.end = end;
      this.prot = prot;
      this.backing = backing;
    }
  }

  /** One mapping as users see it (/proc/pid/maps). */
  public record Mapping(long start, long end, int prot, boolean shared) {}

  private final TreeMap<Long, Vma> vmas = new TreeMap<>();
  private final PageTable pages = new PageTable();
  private final long bytesThreshold;
  private final Pins pins;

  /** @param bytesThreshold mappings up to this size hold real bytes; larger ones hold pattern segments */
  public AddressSpace(long bytesThreshold) {
    this.bytesThreshold = bytesThreshold;
    this.pins = new Pins(bytesThreshold);
  }

  /** Removes the pages of {@code [page, page + n)}; a long-term pin on one of their frames keeps the old page first. */
  private void zap(long page, long n) {
    if (!pins.isEmpty()) {
      pins.detach(pages.lookup(page, n), this::filled);
    }
    pages.zap(page, n);
  }

  public List<Mapping> mappings() {
    return vmas.values().stream().map(v -> new Mapping(v.start, v.end, v.prot, v.backing.shared())).toList();
  }

  /** Pages present (resident) now. */
  public long residentPages() {
    return pages.present();
  }

  private static boolean aligned(long addr) {
    return (addr & (PAGE - 1)) == 0;
  }

  static long pageUp(long length) {
    return (length + PAGE - 1) & ~(PAGE - 1);
  }

  // --- mmap

  /**
   * {@code mmap(addr, length, prot, MAP_ANONYMOUS | MAP_PRIVATE or MAP_SHARED [| MAP_FIXED_NOREPLACE])}: the address,
   * or -EINVAL (length 0, unknown prot bits, an unaligned fixed address), -ENOMEM (no room, too long, too many
   * mappings), -EEXIST (a fixed range that overlaps a mapping), -EPERM (a fixed address below mmap_min_addr).
   */
  public long mmap(long addr, long length, int prot, boolean shared, boolean fixed) {
    if (length <= 0 || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0) {
      return Errno.EINVAL.negative();
    }
    long len = pageUp(length);
    if (len <= 0 || len > TASK_SIZE) {
      return Errno.ENOMEM.negative();
    }
    if (vmas.size() >= MAX_MAP_COUNT) {
      return Errno.ENOMEM.negative();
    }
    long start;
    if (fixed) {
      if (!aligned(addr)) {
        return Errno.EINVAL.negative();
      }
      if (addr < MMAP_MIN) {
        return Errno.EPERM.negative();
      }
      if (addr > TASK_SIZE - len) {
        return Errno.ENOMEM.negative();
      }
      if (overlaps(addr, addr + len)) {
        return Errno.EEXIST.negative();
      }
      start = addr;
    } else {
      start = topDown(len);
      if (start < 0) {
        return Errno.ENOMEM.negative();
      }
    }
    vmas.put(start, new Vma(start, start + len, prot, new Backing(new Content(len, bytesThreshold), start, shared)));
    return start;
  }

  private boolean overlaps(long start, long end) {
    Map.Entry<Long, Vma> below = vmas.lowerEntry(end);
    return below != null && below.getValue().end > start;
  }

  /** The highest gap of {@code len} bytes below {@code MMAP_BASE}, or -1. */
  private long topDown(long len) {
    long ceiling = MMAP_BASE;
    for (Vma v : vmas.descendingMap().values()) {
      if (v.start >= ceiling) {
        ceiling = Math.min(ceiling, v.start);
        continue;
      }
      if (ceiling - v.end >= len) {
        return ceiling - len;
      }
      ceiling = v.start;
    }
    return ceiling - len >= MMAP_MIN ? ceiling - len : -1;
  }

  // --- munmap, mprotect, madvise

  /** The parts of {@code [start, end)} covered by VMAs, in address order. */
  private List<Vma> covering(long start, long end) {
    List<Vma> out = new ArrayList<>();
    Map.Entry<Long, Vma> first = vmas.lowerEntry(start);
    if (first != null && first.getValue().end > start) {
      out.add(first.getValue());
    }
    out.addAll(vmas.subMap(start, true, end, false).values());
    return out;
  }

  private boolean hasHole(long start, long end) {
    long pos = start;
    for (Vma v : covering(start, end)) {
      if (v.start > pos) {
        return true;
      }
      pos = v.end;
    }
    return pos < end;
  }

  /** Splits VMAs so that one starts at {@code addr} (if a VMA spans it). */
  private void splitAt(long addr) {
    Map.Entry<Long, Vma> e = vmas.lowerEntry(addr);
    if (e != null && e.getValue().end > addr) {
      Vma v = e.getValue();
      vmas.put(addr, new Vma(addr, v.end, v.prot, v.backing));
      v.end = addr;
    }
  }

  private List<Invalidation> perVma(long start, long end, MmuEvent event, java.util.function.Predicate<Vma> which) {
    List<Invalidation> out = new ArrayList<>();
    for (Vma v : covering(start, end)) {
      long s = Math.max(start, v.start);
      long e = Math.min(end, v.end);
      if (which.test(v) && s < e) {
        out.add(new Invalidation(s, e, event));
      }
    }
    return out;
  }

  private boolean present(long start, long end) {
    return pages.anyPresent(start / PAGE, (end - start) / PAGE);
  }

  /** {@code munmap}: -EINVAL for an unaligned address, length 0 or a range past TASK_SIZE; an UNMAP per VMA it covers. */
  public Plan planMunmap(long addr, long length) {
    long len = pageUp(length);
    if (!aligned(addr) || length <= 0 || len <= 0 || addr > TASK_SIZE - len) {
      return Plan.error(Errno.EINVAL);
    }
    return new Plan(0, perVma(addr, addr + len, MmuEvent.UNMAP, v -> true));
  }

  public void munmap(long addr, long length) {
    long end = addr + pageUp(length);
    zap(addr / PAGE, (end - addr) / PAGE);
    splitAt(addr);
    splitAt(end);
    vmas.subMap(addr, true, end, false).clear();
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
    if (end < addr || hasHole(addr, end)) {
      return Plan.error(Errno.ENOMEM);
    }
    return new Plan(0, perVma(addr, end, MmuEvent.PROTECTION_VMA,
        v -> present(Math.max(addr, v.start), Math.min(end, v.end))));
  }

  public void mprotect(long addr, long length, int prot) {
    long end = addr + pageUp(length);
    splitAt(addr);
    splitAt(end);
    vmas.subMap(addr, true, end, false).values().forEach(v -> v.prot = prot);
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
    return new Plan(0, perVma(addr, end, MmuEvent.CLEAR, v -> true));
  }

  /** Zaps the pages: private anonymous memory reads back as zeros; a shared mapping keeps its content (page cache). */
  public void dontneed(long addr, long length) {
    long end = addr + pageUp(length);
    for (Vma v : covering(addr, end)) {
      long s = Math.max(addr, v.start);
      long e = Math.min(end, v.end);
      zap(s / PAGE, (e - s) / PAGE);
      if (!v.backing.shared()) {
        v.backing.content().write(new Chunk.Pattern(s - v.backing.origin(), e - s, 0, 0));
      }
    }
  }

  /** What {@code madvise(DONTNEED)} returns once done: -ENOMEM when part of the range was not mapped. */
  public int dontneedResult(long addr, long length) {
    return length > 0 && hasHole(addr, addr + pageUp(length)) ? Errno.ENOMEM.negative() : 0;
  }

  /**
   * Reclaim, the OOM reaper or a migration unmapped the present pages of the range (try_to_unmap): the content stays
   * (swapped out, or moved), the next touch faults in new frames.
   */
  public void reclaim(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    zap(first / PAGE, (pageUp(addr + length) - first) / PAGE);
  }

  /**
   * A migration moved the present pages of the range (migrate_pages, or migrate_vma back to system memory): each has a
   * new frame and its content; absent pages stay absent. Returns the pages moved.
   */
  public long migrate(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    long n = (pageUp(addr + length) - first) / PAGE;
    List<Frames> had = pages.lookup(first / PAGE, n);
    zap(first / PAGE, n);
    long moved = 0;
    for (Frames f : had) {
      moved += pages.populate(f.address() / PAGE, f.pages());
    }
    return moved;
  }

  /** exit_mmap: every mapping goes (UNMAP over each). */
  public Plan planExit() {
    return new Plan(0, vmas.values().stream().map(v -> new Invalidation(v.start, v.end, MmuEvent.UNMAP)).toList());
  }

  public void exit() {
    zap(0, TASK_SIZE / PAGE);
    vmas.clear();
  }

  /** The mappings with pages present, as CLEAR ranges (what reclaim would unmap). */
  public List<Invalidation> residentRanges() {
    return vmas.values().stream().filter(v -> present(v.start, v.end)).map(v -> new Invalidation(v.start, v.end, MmuEvent.CLEAR)).toList();
  }

  /** The private anonymous mappings the OOM reaper may unmap, as ranges. */
  public List<Invalidation> reapable() {
    return vmas.values().stream().filter(v -> !v.backing.shared()).map(v -> new Invalidation(v.start, v.end, MmuEvent.UNMAP)).toList();
  }

  /** The OOM reaper unmapped a mapping's pages (the dying process's memory is freed; its content is gone). */
  public long reap(long start, long end) {
    long before = pages.present();
    zap(start / PAGE, (end - start) / PAGE);
    return before - pages.present();
  }

  // --- fork

  /**
   * {@code fork} (dup_mmap → copy_page_range): every private writable VMA with pages present is write-protected for
   * copy-on-write, announced as PROTECTION_PAGE over the VMA. The child keeps the frames; the parent's next write to
   * a page gets a new one.
   */
  public Plan planFork() {
    List<Invalidation> out = new ArrayList<>();
    for (Vma v : vmas.values()) {
      if (!v.backing.shared() && (v.prot & PROT_WRITE) != 0 && present(v.start, v.end)) {
        out.add(new Invalidation(v.start, v.end, MmuEvent.PROTECTION_PAGE));
      }
    }
    return new Plan(0, out);
  }

  public void fork() {
    for (Vma v : vmas.values()) {
      if (!v.backing.shared() && (v.prot & PROT_WRITE) != 0) {
        pages.clearExclusive(v.start / PAGE, (v.end - v.start) / PAGE); // copy_nonpresent_pte restores them first
        pages.markCow(v.start / PAGE, (v.end - v.start) / PAGE);
      }
    }
  }

  /**
   * What a child inherits at fork (copy_mm), taken after {@link #fork}: its mappings — shared ones backed by the same
   * memory, private ones by a copy of their content — and a copy of the page table, copy-on-write where the parent's is.
   * Handed to the child's address space ({@link #adopt}); the parent keeps nothing of it but the shared memory.
   */
  public static final class Inheritance {
    private final TreeMap<Long, Vma> vmas;
    private final PageTable pages;

    private Inheritance(TreeMap<Long, Vma> vmas, PageTable pages) {
      this.vmas = vmas;
      this.pages = pages;
    }
  }

  public Inheritance inherit() {
    Map<Backing, Backing> copies = new java.util.IdentityHashMap<>();
    TreeMap<Long, Vma> out = new TreeMap<>();
    for (Vma v : vmas.values()) {
      Backing b = v.backing.shared() ? v.backing
          : copies.computeIfAbsent(v.backing, old -> new Backing(old.content().copy(), old.origin(), false));
      out.put(v.start, new Vma(v.start, v.end, v.prot, b));
    }
    return new Inheritance(out, pages.copy());
  }

  /** The child's side of fork: an address space with no mapping takes what it inherits; false if it has mappings. */
  public boolean adopt(Inheritance in) {
    if (!vmas.isEmpty()) {
      return false;
    }
    vmas.putAll(in.vmas);
    pages.adopt(in.pages);
    return true;
  }

  // --- CPU access and hmm_range_fault

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
    if (hasHole(addr, end)) {
      return Plan.error(Errno.EFAULT);
    }
    for (Vma v : covering(addr, end)) {
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
    return new Plan(0, pages.anyCow(first / PAGE, (last - first) / PAGE)
        ? perVma(first, last, MmuEvent.CLEAR, v -> true) : List.of());
  }

  // --- device-private memory (HMM, kernel-semantics §1.17)

  /**
   * migrate_vma_setup's view of {@code [addr, addr + length)}: -EINVAL for an empty or unaligned range, an unmapped hole
   * or a PROT_NONE mapping in it; -ENOENT for a shared mapping (only private anonymous memory moves to device-private
   * pages); otherwise MIGRATE over the range.
   */
  public Plan planMigrate(long addr, long length) {
    if (length <= 0 || !aligned(addr) || !aligned(length) || addr > TASK_SIZE - length) {
      return Plan.error(Errno.EINVAL);
    }
    long end = addr + length;
    if (hasHole(addr, end)) {
      return Plan.error(Errno.EINVAL);
    }
    for (Vma v : covering(addr, end)) {
      if ((v.prot & (PROT_READ | PROT_WRITE)) == 0) {
        return Plan.error(Errno.EINVAL);
      }
      if (v.backing.shared()) {
        return Plan.error(Errno.ENOENT);
      }
    }
    return new Plan(0, List.of(new Invalidation(addr, end, MmuEvent.MIGRATE)));
  }

  /** The range's system pages become device-private pages of {@code owner}; returns {@code cpages}. Content is kept. */
  public long toDevice(long addr, long length, String owner, String device) {
    return pages.toDevice(addr / PAGE, length / PAGE, owner, device);
  }

  /** {@code device} died with device-private pages of this address space: they are lost. Returns how many. */
  public long lose(String device) {
    return pages.lose(device);
  }

  /** Lost device-private pages in the range (a CPU access to one is SIGBUS). */
  public long lost(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    return pages.lost(first / PAGE, (pageUp(addr + length) - first) / PAGE);
  }

  /** make_device_exclusive's marking (after the write fault): the range's system pages become exclusive to {@code owner}. */
  public long makeExclusive(long addr, long length, String owner) {
    long first = addr & ~(PAGE - 1);
    return pages.makeExclusive(first / PAGE, (pageUp(addr + length) - first) / PAGE, owner);
  }

  /** The owners holding pages of the range exclusively (a CPU access must revoke them first). */
  public java.util.Set<String> exclusiveOwners(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    return pages.exclusiveOwners(first / PAGE, (pageUp(addr + length) - first) / PAGE);
  }

  public long clearExclusive(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    return pages.clearExclusive(first / PAGE, (pageUp(addr + length) - first) / PAGE);
  }

  /** The device whose memory holds the page at {@code addr} (null: system RAM or absent). */
  public String deviceOf(long addr) {
    return pages.deviceOf(addr / PAGE);
  }

  /** Device-private pages in {@code device}'s memory. */
  public long onDevice(String device) {
    return pages.onDevice(device);
  }

  /** migrate_to_ram: the range's device-private pages ({@code owner} null: any owner's) get system frames, content intact. */
  public long toRam(long addr, long length, String owner) {
    long first = addr & ~(PAGE - 1);
    return pages.toRam(first / PAGE, (pageUp(addr + length) - first) / PAGE, owner);
  }

  /** The device-private runs of the range. */
  public List<PageTable.Private> devicePrivate(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    return pages.devicePrivate(first / PAGE, (pageUp(addr + length) - first) / PAGE);
  }

  /** Device-private pages per pgmap owner. */
  public Map<String, Long> devicePrivatePages() {
    return pages.devicePrivatePages();
  }

  /** What {@code hmm_range_fault} reported, page by page, counted. */
  public record HmmView(long valid, long write, long device, long error, long none, long p2p, long zero) {
    public HmmView(long valid, long write, long device, long error, long none) {
      this(valid, write, device, error, none, 0, 0);
    }

    public HmmView(long valid, long write, long device, long error, long none, long p2p) {
      this(valid, write, device, error, none, p2p, 0);
    }
  }

  /**
   * hmm_range_fault's result after its faults and migrations (kernel-semantics §1.17), per page of the range: a
   * device-private page of {@code owner} is VALID as its device pfn (WRITE where the mapping is writable), nothing
   * faulted; a present system page is VALID (WRITE where writable and not shared copy-on-write); anything else is not
   * valid — an absent page, another owner's device-private page — and a page outside any readable mapping is ERROR.
   */
  public HmmView hmmView(long addr, long length, String owner) {
    return hmmView(addr, length, owner, java.util.Set.of());
  }

  /** {@link #hmmView}, with the 2025 RFC's P2P pfns: pages in the memory of {@code p2pDevices} are valid as P2P (BAR) pfns. */
  public HmmView hmmView(long addr, long length, String owner, java.util.Set<String> p2pDevices) {
    long first = addr & ~(PAGE - 1);
    long last = pageUp(addr + length);
    long valid = 0;
    long write = 0;
    long device = 0;
    long error = 0;
    long p2p = 0;
    long zero = 0;
    long mappedReadable = 0;
    for (Vma v : covering(first, last)) {
      long s = Math.max(first, v.start);
      long e = Math.min(last, v.end);
      if ((v.prot & PROT_READ) == 0) {
        continue;
      }
      mappedReadable += (e - s) / PAGE;
      long own = 0;
      long foreign = 0;
      long peer = 0;
      for (PageTable.Private p : pages.devicePrivate(s / PAGE, (e - s) / PAGE)) {
        if (p.owner().equals(owner)) {
          own += p.pages();
        } else {
          foreign += p.pages();
          if (p2pDevices.contains(deviceOf(p.address()))) {
            peer += p.pages();
          }
        }
      }
      p2p += peer;
      long present = pages.lookup(s / PAGE, (e - s) / PAGE).stream().mapToLong(Frames::pages).sum();
      long gone = pages.lost(s / PAGE, (e - s) / PAGE);
      error += gone;
      zero += pages.zeroPages(s / PAGE, (e - s) / PAGE);
      long system = present - own - foreign - gone;
      valid += own + system + peer;
      device += own;
      if ((v.prot & PROT_WRITE) != 0) {
        write += own + system + peer - (pages.anyCow(s / PAGE, (e - s) / PAGE) ? cowPages(s, e) : 0);
      }
    }
    error += (last - first) / PAGE - mappedReadable;
    return new HmmView(valid, write, device, error, (last - first) / PAGE - valid - error, p2p, zero);
  }

  private long cowPages(long start, long end) {
    return pages.cowPages(start / PAGE, (end - start) / PAGE);
  }

  /**
   * hmm_range_fault's checks with a fault request: -EFAULT where no readable mapping covers a page, -EPERM for a write
   * request on a mapping without PROT_WRITE. The invalidations its faults need: MIGRATE over another owner's
   * device-private pages (by owner, so each driver skips its own), CLEAR for a copy-on-write break.
   */
  public Plan planHmmFault(long addr, long length, boolean write) {
    return planAccess(addr, length, write, Errno.EPERM);
  }

  /** Faults the pages of the range in (new frames for absent pages; a write breaks copy-on-write) and returns them. */
  public List<Frames> fault(long addr, long length, boolean write) {
    long first = addr & ~(PAGE - 1);
    long n = (pageUp(addr + length) - first) / PAGE;
    if (write) {
      List<Frames> old = pages.breakCow(first / PAGE, n);
      if (!pins.isEmpty()) {
        pins.detach(old, this::filled); // the writer gets a new page; a pin keeps the old one (content unchanged yet)
      }
    } else { // do_anonymous_page: a read of never-written private anonymous memory maps the zero page
      forEachPart(first, n * PAGE, (v, s, e) -> {
        if (!v.backing.shared()) {
          zeroHoles(v, s, e);
        }
      });
    }
    pages.populate(first / PAGE, n);
    return pages.lookup(first / PAGE, n);
  }

  /** The absent pages of [s, e) of {@code v} whose content was never written (zeros) map the zero page. */
  private void zeroHoles(Vma v, long s, long e) {
    long p = s / PAGE;
    for (Frames f : pages.lookup(s / PAGE, (e - s) / PAGE)) {
      zeroHole(v, p, f.address() / PAGE);
      p = f.address() / PAGE + f.pages();
    }
    zeroHole(v, p, e / PAGE);
  }

  private void zeroHole(Vma v, long from, long to) {
    if (from >= to) {
      return;
    }
    Content c = v.backing.content();
    if (c.isZero(from * PAGE - v.backing.origin(), (to - from) * PAGE)) {
      pages.populateZero(from, to - from);
      return;
    }
    for (long p = from; p < to; p++) {
      if (c.isZero(p * PAGE - v.backing.origin(), PAGE)) {
        pages.populateZero(p, 1);
      }
    }
  }

  /** How many pages of the range are absent (a fault of it would allocate them: a major fault). */
  public long absent(long addr, long length) {
    long first = addr & ~(PAGE - 1);
    long n = (pageUp(addr + length) - first) / PAGE;
    return n - pages.lookup(first / PAGE, n).stream().mapToLong(Frames::pages).sum();
  }

  // --- long-term pins

  /** {@code pin_user_pages(FOLL_LONGTERM)} of frames just faulted ({@link #fault}): returns the pin's id. */
  public long pin(List<Frames> frames) {
    return pins.pin(frames);
  }

  /** {@code unpin_user_pages}: returns the pages the pin held (0 for an unknown id). */
  public long unpin(long pin) {
    return pins.unpin(pin);
  }

  /** A CPU write of pattern {@code seed} (0: zeros) over the range (after {@link #planAccess} and {@link #fault}). */
  public void write(long addr, long length, long seed) {
    forEachPart(addr, length, (v, s, e) -> v.backing.content().write(
        new Chunk.Pattern(s - v.backing.origin(), e - s, seed, s - addr)));
  }

  /** The checksum of the range's bytes, as a buffer's checksum ({@code crc32c:…/length}). */
  public long checksum(long addr, long length) {
    Content out = new Content(length, bytesThreshold);
    forEachPart(addr, length, (v, s, e) -> {
      for (Chunk c : v.backing.content().read(s - v.backing.origin(), e - s, Content.PAGE)) {
        out.write(moved(c, c.offset() + v.backing.origin() - addr));
      }
    });
    return out.checksum();
  }

  /** The content of the range, addressed from {@code addr} (offset 0 is {@code addr}). */
  public List<Chunk> read(long addr, long length, int maxBytes) {
    List<Chunk> out = new ArrayList<>();
    forEachPart(addr, length, (v, s, e) -> {
      for (Chunk c : v.backing.content().read(s - v.backing.origin(), e - s, maxBytes)) {
        out.add(moved(c, c.offset() + v.backing.origin() - addr));
      }
    });
    return out;
  }

  private static Chunk moved(Chunk c, long offset) {
    return c instanceof Chunk.Bytes b ? new Chunk.Bytes(offset, b.data())
        : new Chunk.Pattern(offset, c.length(), ((Chunk.Pattern) c).seed(), ((Chunk.Pattern) c).patternOffset());
  }

  private interface Part {
    void accept(Vma v, long start, long end);
  }

  private void forEachPart(long addr, long length, Part part) {
    long end = addr + length;
    for (Vma v : covering(addr, end)) {
      long s = Math.max(addr, v.start);
      long e = Math.min(end, v.end);
      if (s < e) {
        part.accept(v, s, e);
      }
    }
  }

  // --- what device DMA through a translation needs (DeviceDma)

  /** The present frames of {@code n} pages from page {@code page}. */
  List<Frames> presentFrames(long page, long n) {
    return pages.lookup(page, n);
  }

  Pins pins() {
    return pins;
  }

  /** Writes the part {@code [from, to)} (addresses) of {@code c}, which starts at address {@code at}, into mapped memory. */
  void writeMapped(Chunk c, long at, long from, long to) {
    forEachPart(from, to - from, (v, ps, pe) -> v.backing.content().write(slice(c, ps - at, pe - ps, ps - v.backing.origin())));
  }

  /** The range's content with unmapped gaps as zeros, offsets from {@code addr}. */
  List<Chunk> filled(long addr, long length) {
    List<Chunk> out = new ArrayList<>();
    long pos = 0;
    for (Chunk c : read(addr, length, Content.PAGE)) {
      if (c.offset() > pos) {
        out.add(new Chunk.Pattern(pos, c.offset() - pos, 0, 0));
      }
      out.add(c);
      pos = c.offset() + c.length();
    }
    if (pos < length) {
      out.add(new Chunk.Pattern(pos, length - pos, 0, 0));
    }
    return out;
  }

  static Chunk slice(Chunk c, long skip, long length, long at) {
    if (c instanceof Chunk.Bytes b) {
      byte[] out = new byte[(int) length];
      System.arraycopy(b.data(), (int) skip, out, 0, (int) length);
      return new Chunk.Bytes(at, out);
    }
    Chunk.Pattern p = (Chunk.Pattern) c;
    return new Chunk.Pattern(at, length, p.seed(), p.seed() == 0 ? 0 : p.patternOffset() + skip);
  }
}
