package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Content;
import java.util.List;
import java.util.Map;

/**
 * The pages of one address space, a part of {@link AddressSpace}: which are resident and in which frame
 * ({@link PageTable}: frames are identities, so that a DMA through an old translation is seen as stale), which are
 * shared copy-on-write after a fork, mapped to the zero page, device-private or held exclusively by a device (HMM,
 * kernel-semantics §1.17), or lost with their device; the long-term pins that keep old pages ({@link Pins},
 * kernel-semantics §1.16); the faults that populate them, and hmm_range_fault's view of them. Reads the mappings
 * ({@link Mappings}) for their protection and content, never changes them; pure.
 */
final class PageStates {
  private static final long PAGE = AddressSpace.PAGE;

  private final PageTable pages = new PageTable();
  private final Pins pins;
  private final Mappings mappings;

  PageStates(Mappings mappings, long bytesThreshold) {
    this.mappings = mappings;
    this.pins = new Pins(bytesThreshold);
  }

  /** The first page of the range and how many pages it touches. */
  private static long first(long addr) {
    return addr & ~(PAGE - 1);
  }

  private static long count(long addr, long length) {
    return (AddressSpace.pageUp(addr + length) - first(addr)) / PAGE;
  }

  // --- residency

  /** Removes the pages of {@code [page, page + n)}; a long-term pin on one of their frames keeps the old page first. */
  void zap(long page, long n) {
    if (!pins.isEmpty()) {
      pins.detach(pages.lookup(page, n), mappings::filled);
    }
    pages.zap(page, n);
  }

  /** Pages present (resident) now. */
  long resident() {
    return pages.present();
  }

  /** Whether any page of {@code [start, end)} is present. */
  boolean present(long start, long end) {
    return pages.anyPresent(start / PAGE, (end - start) / PAGE);
  }

  /** Whether any present page of {@code [start, end)} is shared copy-on-write. */
  boolean anyCow(long start, long end) {
    return pages.anyCow(start / PAGE, (end - start) / PAGE);
  }

  /**
   * Reclaim, the OOM reaper or a migration unmapped the present pages of the range (try_to_unmap): the content stays
   * (swapped out, or moved), the next touch faults in new frames.
   */
  void reclaim(long addr, long length) {
    zap(first(addr) / PAGE, count(addr, length));
  }

  /**
   * A migration moved the present pages of the range (migrate_pages, or migrate_vma back to system memory): each has a
   * new frame and its content; absent pages stay absent. Returns the pages moved.
   */
  long migrate(long addr, long length) {
    long first = first(addr);
    long n = count(addr, length);
    List<Frames> had = pages.lookup(first / PAGE, n);
    zap(first / PAGE, n);
    long moved = 0;
    for (Frames f : had) {
      moved += pages.populate(f.address() / PAGE, f.pages());
    }
    return moved;
  }

  /** The OOM reaper unmapped a mapping's pages (the dying process's memory is freed; its content is gone). */
  long reap(long start, long end) {
    long before = pages.present();
    zap(start / PAGE, (end - start) / PAGE);
    return before - pages.present();
  }

  /** fork: the pages of a private writable mapping become copy-on-write (exclusive entries restored first). */
  void markCow(long start, long end) {
    pages.clearExclusive(start / PAGE, (end - start) / PAGE); // copy_nonpresent_pte restores them first
    pages.markCow(start / PAGE, (end - start) / PAGE);
  }

  /** fork's copy of the page table for the child: the same frames, copy-on-write where they are here. */
  PageTable copy() {
    return pages.copy();
  }

  /** The child's side of fork: this (empty) table takes the inherited one. */
  void adopt(PageTable inherited) {
    pages.adopt(inherited);
  }

  // --- faults

  /** Faults the pages of the range in (new frames for absent pages; a write breaks copy-on-write) and returns them. */
  List<Frames> fault(long addr, long length, boolean write) {
    long first = first(addr);
    long n = count(addr, length);
    if (write) {
      List<Frames> old = pages.breakCow(first / PAGE, n);
      if (!pins.isEmpty()) {
        pins.detach(old, mappings::filled); // the writer gets a new page; a pin keeps the old one (content unchanged yet)
      }
    } else { // do_anonymous_page: a read of never-written private anonymous memory maps the zero page
      mappings.forEachPart(first, n * PAGE, (v, s, e) -> {
        if (!v.backing.shared()) {
          zeroHoles(v, s, e);
        }
      });
    }
    pages.populate(first / PAGE, n);
    return pages.lookup(first / PAGE, n);
  }

  /** The absent pages of [s, e) of {@code v} whose content was never written (zeros) map the zero page. */
  private void zeroHoles(Mappings.Vma v, long s, long e) {
    long p = s / PAGE;
    for (Frames f : pages.lookup(s / PAGE, (e - s) / PAGE)) {
      zeroHole(v, p, f.address() / PAGE);
      p = f.address() / PAGE + f.pages();
    }
    zeroHole(v, p, e / PAGE);
  }

  private void zeroHole(Mappings.Vma v, long from, long to) {
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
  long absent(long addr, long length) {
    long first = first(addr);
    long n = count(addr, length);
    return n - pages.lookup(first / PAGE, n).stream().mapToLong(Frames::pages).sum();
  }

  // --- long-term pins, and what device DMA through a translation needs (DeviceDma)

  /** {@code pin_user_pages(FOLL_LONGTERM)} of frames just faulted ({@link #fault}): returns the pin's id. */
  long pin(List<Frames> frames) {
    return pins.pin(frames);
  }

  /** {@code unpin_user_pages}: returns the pages the pin held (0 for an unknown id). */
  long unpin(long pin) {
    return pins.unpin(pin);
  }

  Pins pins() {
    return pins;
  }

  /** The present frames of {@code n} pages from page {@code page}. */
  List<Frames> presentFrames(long page, long n) {
    return pages.lookup(page, n);
  }

  // --- device-private memory (HMM, kernel-semantics §1.17)

  /** The range's system pages become device-private pages of {@code owner}; returns {@code cpages}. Content is kept. */
  long toDevice(long addr, long length, String owner, String device) {
    return pages.toDevice(addr / PAGE, length / PAGE, owner, device);
  }

  /** {@code device} died with device-private pages of this address space: they are lost. Returns how many. */
  long lose(String device) {
    return pages.lose(device);
  }

  /** Lost device-private pages in the range (a CPU access to one is SIGBUS). */
  long lost(long addr, long length) {
    return pages.lost(first(addr) / PAGE, count(addr, length));
  }

  /** make_device_exclusive's marking (after the write fault): the range's system pages become exclusive to {@code owner}. */
  long makeExclusive(long addr, long length, String owner) {
    return pages.makeExclusive(first(addr) / PAGE, count(addr, length), owner);
  }

  /** The owners holding pages of the range exclusively (a CPU access must revoke them first). */
  java.util.Set<String> exclusiveOwners(long addr, long length) {
    return pages.exclusiveOwners(first(addr) / PAGE, count(addr, length));
  }

  long clearExclusive(long addr, long length) {
    return pages.clearExclusive(first(addr) / PAGE, count(addr, length));
  }

  /** The device whose memory holds the page at {@code addr} (null: system RAM or absent). */
  String deviceOf(long addr) {
    return pages.deviceOf(addr / PAGE);
  }

  /** Device-private pages in {@code device}'s memory. */
  long onDevice(String device) {
    return pages.onDevice(device);
  }

  /** migrate_to_ram: the range's device-private pages ({@code owner} null: any owner's) get system frames, content intact. */
  long toRam(long addr, long length, String owner) {
    return pages.toRam(first(addr) / PAGE, count(addr, length), owner);
  }

  /** The device-private runs of the range. */
  List<PageTable.Private> devicePrivate(long addr, long length) {
    return pages.devicePrivate(first(addr) / PAGE, count(addr, length));
  }

  /** Device-private pages per pgmap owner. */
  Map<String, Long> devicePrivatePages() {
    return pages.devicePrivatePages();
  }

  /**
   * hmm_range_fault's result after its faults and migrations (kernel-semantics §1.17), per page of the range: a
   * device-private page of {@code owner} is VALID as its device pfn (WRITE where the mapping is writable), nothing
   * faulted; a present system page is VALID (WRITE where writable and not shared copy-on-write); anything else is not
   * valid — an absent page, another owner's device-private page — and a page outside any readable mapping is ERROR.
   * With the 2025 RFC's P2P pfns, pages in the memory of {@code p2pDevices} are valid as P2P (BAR) pfns.
   */
  AddressSpace.HmmView hmmView(long addr, long length, String owner, java.util.Set<String> p2pDevices) {
    long first = first(addr);
    long last = AddressSpace.pageUp(addr + length);
    long valid = 0;
    long write = 0;
    long device = 0;
    long error = 0;
    long p2p = 0;
    long zero = 0;
    long mappedReadable = 0;
    for (Mappings.Vma v : mappings.covering(first, last)) {
      long s = Math.max(first, v.start);
      long e = Math.min(last, v.end);
      if ((v.prot & AddressSpace.PROT_READ) == 0) {
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
      if ((v.prot & AddressSpace.PROT_WRITE) != 0) {
        write += own + system + peer - (pages.anyCow(s / PAGE, (e - s) / PAGE) ? cowPages(s, e) : 0);
      }
    }
    error += (last - first) / PAGE - mappedReadable;
    return new AddressSpace.HmmView(valid, write, device, error, (last - first) / PAGE - valid - error, p2p, zero);
  }

  private long cowPages(long start, long end) {
    return pages.cowPages(start / PAGE, (end - start) / PAGE);
  }
}
