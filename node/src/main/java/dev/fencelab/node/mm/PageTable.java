package dev.fencelab.node.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The page table of one address space, run-length encoded: which virtual pages are present and which page frame
 * (pfn) backs each. Frames are identities, never reused: a frame that left the table is gone for this address space,
 * so a device translation that still names it is stale. A run of consecutive pages with consecutive frames is one
 * entry, so a 1 GiB mapping faulted at once is one entry, not 262,144.
 */
final class PageTable {
  /**
   * Pages {@code [page, page + pages)} present with frames {@code [pfn, pfn + pages)}; {@code cow}: shared after fork;
   * {@code owner}: device-private pages (a {@code MEMORY_DEVICE_PRIVATE} pgmap's, frames from {@link #DEVICE_PFN}) of this
   * pgmap owner, null for system RAM.
   */
  private static final class Run {
    long pages;
    long pfn;
    boolean cow;
    String owner;
    /** The device whose memory holds device-private pages; {@code lost}: that device died with them (no data left). */
    String device;
    boolean lost;
    /** make_device_exclusive: the owner whose device holds the page exclusively (null: none). */
    String exclusive;
    /** The shared zero page (a read fault of never-written private anonymous memory): read-only, copy-on-write. */
    boolean zero;

    Run(long pages, long pfn, boolean cow, String owner) {
      this.pages = pages;
      this.pfn = pfn;
      this.cow = cow;
      this.owner = owner;
    }

    Run copy(long pages, long pfn) {
      Run r = new Run(pages, pfn, cow, owner);
      r.device = device;
      r.lost = lost;
      r.exclusive = exclusive;
      r.zero = zero;
      return r;
    }
  }

  /** Device-private frames are numbered from here (never system frames): a translation naming one names device memory. */
  static final long DEVICE_PFN = 0x40_0000_0000L;

  /** A run of device-private pages of one owner, as {@link #devicePrivate} reports them. */
  record Private(long address, long pages, String owner) {}

  private final TreeMap<Long, Run> runs = new TreeMap<>();
  private long nextPfn = 0x10_0000; // past the first 4 GiB of frames: never 0, easy to tell from addresses
  private long nextDevicePfn = DEVICE_PFN;
  private long present;

  /** Pages present now. */
  long present() {
    return present;
  }

  /** Makes {@code page} the first page of a run (splitting the run that covers it). */
  private void split(long page) {
    Map.Entry<Long, Run> e = runs.floorEntry(page);
    if (e == null || e.getKey() == page) {
      return;
    }
    long first = e.getKey();
    Run r = e.getValue();
    if (page >= first + r.pages) {
      return;
    }
    long head = page - first;
    runs.put(page, r.copy(r.pages - head, r.pfn + head));
    r.pages = head;
  }

  /** The present pages of {@code [page, page + n)} as runs of frames (holes left out), in address order. */
  List<Frames> lookup(long page, long n) {
    List<Frames> out = new ArrayList<>();
    long end = page + n;
    Map.Entry<Long, Run> before = runs.lowerEntry(page);
    if (before != null && before.getKey() + before.getValue().pages > page) {
      long skip = page - before.getKey();
      long len = Math.min(before.getValue().pages - skip, n);
      out.add(new Frames(page * AddressSpace.PAGE, len, before.getValue().pfn + skip));
    }
    for (Map.Entry<Long, Run> e : runs.subMap(page, true, end, false).entrySet()) {
      long len = Math.min(e.getValue().pages, end - e.getKey());
      out.add(new Frames(e.getKey() * AddressSpace.PAGE, len, e.getValue().pfn));
    }
    return out;
  }

  /** True when any page of {@code [page, page + n)} is present. */
  boolean anyPresent(long page, long n) {
    return !lookup(page, n).isEmpty();
  }

  /** True when every page of {@code [page, page + n)} is present. */
  boolean allPresent(long page, long n) {
    return lookup(page, n).stream().mapToLong(Frames::pages).sum() == n;
  }

  /** True when any present page of the range is shared copy-on-write with a forked child. */
  boolean anyCow(long page, long n) {
    return range(page, n).stream().anyMatch(r -> r.cow);
  }

  /**
   * A read fault of never-written private anonymous memory: every absent page of the range maps the shared zero page
   * (read-only; a write breaks it like copy-on-write). Returns how many pages it mapped.
   */
  long populateZero(long page, long n) {
    return populate(page, n, null, null, true);
  }

  /** Zero-page pages of the range. */
  long zeroPages(long page, long n) {
    return range(page, n).stream().filter(r -> r.zero).mapToLong(r -> r.pages).sum();
  }

  /** Gives every absent page of {@code [page, page + n)} a new frame (a fault); returns how many pages it added. */
  long populate(long page, long n) {
    return populate(page, n, null, null, false);
  }

  /**
   * Gives every absent page of the range a new frame: a system one, or with {@code owner} a device-private one in
   * {@code device}'s memory. Returns how many pages it added.
   */
  private long populate(long page, long n, String owner, String device, boolean zero) {
    split(page);
    split(page + n);
    long added = 0;
    long p = page;
    long end = page + n;
    while (p < end) {
      Map.Entry<Long, Run> e = runs.ceilingEntry(p);
      long holeEnd = e == null ? end : Math.min(end, e.getKey());
      if (holeEnd > p) {
        Run fresh = new Run(holeEnd - p, owner == null ? nextPfn : nextDevicePfn, zero, owner);
        fresh.device = device;
        fresh.zero = zero;
        runs.put(p, fresh);
        if (owner == null) {
          nextPfn += holeEnd - p;
        } else {
          nextDevicePfn += holeEnd - p;
        }
        added += holeEnd - p;
        p = holeEnd;
      } else {
        p = e.getKey() + e.getValue().pages;
      }
    }
    present += added;
    return added;
  }

  /** The runs of {@code [page, page + n)}, split at its ends: what the range calls below walk and change. */
  private java.util.Collection<Run> range(long page, long n) {
    split(page);
    split(page + n);
    return runs.subMap(page, true, page + n, false).values();
  }

  /** Removes the pages of {@code [page, page + n)} (unmap, zap); returns the frames they had. */
  List<Frames> zap(long page, long n) {
    split(page);
    split(page + n);
    List<Frames> gone = new ArrayList<>();
    var range = runs.subMap(page, true, page + n, false);
    for (Map.Entry<Long, Run> e : range.entrySet()) {
      gone.add(new Frames(e.getKey() * AddressSpace.PAGE, e.getValue().pages, e.getValue().pfn));
      present -= e.getValue().pages;
    }
    range.clear();
    return gone;
  }

  /** fork's copy for the child: the same runs (frames, copy-on-write marks), the same frame counters. */
  PageTable copy() {
    PageTable t = new PageTable();
    runs.forEach((page, r) -> t.runs.put(page, r.copy(r.pages, r.pfn)));
    t.nextPfn = nextPfn;
    t.nextDevicePfn = nextDevicePfn;
    t.present = present;
    return t;
  }

  /** The child's side of fork: this (empty) table takes {@code other}'s runs and counters. */
  void adopt(PageTable other) {
    runs.clear();
    runs.putAll(other.runs);
    nextPfn = other.nextPfn;
    nextDevicePfn = other.nextDevicePfn;
    present = other.present;
  }

  /** fork: the present pages of the range become shared with the child, copy-on-write. */
  void markCow(long page, long n) {
    range(page, n).forEach(r -> r.cow = true);
  }

  /** A write to copy-on-write pages: the writer gets new frames (the child keeps the old ones); returns the old ones. */
  List<Frames> breakCow(long page, long n) {
    split(page);
    split(page + n);
    List<Frames> old = new ArrayList<>();
    for (Map.Entry<Long, Run> e : runs.subMap(page, true, page + n, false).entrySet()) {
      Run r = e.getValue();
      if (r.cow) {
        old.add(new Frames(e.getKey() * AddressSpace.PAGE, r.pages, r.pfn));
        r.pfn = nextPfn;
        nextPfn += r.pages;
        r.cow = false;
        r.zero = false;
      }
    }
    return old;
  }

  // --- device-private memory (HMM, kernel-semantics §1.17)

  /**
   * migrate_vma to a device: every system page of the range (absent ones too: an anonymous hole gets a new device page)
   * becomes a device-private page of {@code owner} with a device frame; pages already device-private are not collected.
   * Returns the pages collected ({@code cpages}).
   */
  long toDevice(long page, long n, String owner, String device) {
    long added = populate(page, n, owner, device, false);
    long collected = 0;
    for (Run r : range(page, n)) {
      if (r.owner == null) { // the pages just populated are already the device's
        r.owner = owner;
        r.device = device;
        r.pfn = nextDevicePfn;
        nextDevicePfn += r.pages;
        r.cow = false;
        r.zero = false; // a zero page migrates like an absent one: a zero-filled device page
        collected += r.pages;
      }
    }
    return collected + added;
  }


  /**
   * migrate_to_ram: the device-private pages of the range ({@code owner} null: of any owner) get new system frames.
   * Returns the pages moved.
   */
  long toRam(long page, long n, String owner) {
    long moved = 0;
    for (Run r : range(page, n)) {
      if (r.owner != null && !r.lost && (owner == null || owner.equals(r.owner))) {
        r.owner = null;
        r.device = null;
        r.pfn = nextPfn;
        nextPfn += r.pages;
        moved += r.pages;
      }
    }
    return moved;
  }

  /** The device-private runs of the range, in address order. */
  List<Private> devicePrivate(long page, long n) {
    split(page);
    split(page + n);
    List<Private> out = new ArrayList<>();
    for (Map.Entry<Long, Run> e : runs.subMap(page, true, page + n, false).entrySet()) {
      if (e.getValue().owner != null && !e.getValue().lost) {
        out.add(new Private(e.getKey() * AddressSpace.PAGE, e.getValue().pages, e.getValue().owner));
      }
    }
    return out;
  }

  /** {@code device} died: its device-private pages are lost (their data with it). Returns how many. */
  long lose(String device) {
    long n = 0;
    for (Run r : runs.values()) {
      if (device.equals(r.device) && !r.lost) {
        r.lost = true;
        n += r.pages;
      }
    }
    return n;
  }

  /** Lost device-private pages in the range. */
  long lost(long page, long n) {
    return range(page, n).stream().filter(r -> r.lost).mapToLong(r -> r.pages).sum();
  }

  String deviceOf(long page) {
    Map.Entry<Long, Run> e = runs.floorEntry(page);
    return e == null || page >= e.getKey() + e.getValue().pages || e.getValue().lost ? null : e.getValue().device;
  }

  /** Device-private pages held in {@code device}'s memory (not lost). */
  long onDevice(String device) {
    return runs.values().stream().filter(r -> device.equals(r.device) && !r.lost).mapToLong(r -> r.pages).sum();
  }

  /** make_device_exclusive: the range's present system pages become exclusive to {@code owner}; returns how many. */
  long makeExclusive(long page, long n, String owner) {
    long made = 0;
    for (Run r : range(page, n)) {
      if (r.owner == null) {
        r.exclusive = owner;
        made += r.pages;
      }
    }
    return made;
  }

  /** The owners holding pages of the range exclusively. */
  java.util.Set<String> exclusiveOwners(long page, long n) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    range(page, n).stream().filter(r -> r.exclusive != null).forEach(r -> out.add(r.exclusive));
    return out;
  }

  /** A CPU access restores the range's exclusive entries to normal pages; returns how many. */
  long clearExclusive(long page, long n) {
    long cleared = 0;
    for (Run r : range(page, n)) {
      if (r.exclusive != null) {
        r.exclusive = null;
        cleared += r.pages;
      }
    }
    return cleared;
  }

  /** Pages of the range shared copy-on-write. */
  long cowPages(long page, long n) {
    return range(page, n).stream().filter(r -> r.cow).mapToLong(r -> r.pages).sum();
  }

  /** Device-private pages now, per owner. */
  Map<String, Long> devicePrivatePages() {
    Map<String, Long> out = new TreeMap<>();
    runs.values().stream().filter(r -> r.owner != null).forEach(r -> out.merge(r.owner, r.pages, Long::sum));
    return out;
  }
}
