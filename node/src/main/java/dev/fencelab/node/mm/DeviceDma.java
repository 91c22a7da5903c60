package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Chunk;
import java.util.ArrayList;
import java.util.List;

/**
 * A device's DMA into an address space through its translation (the frames it faulted, or a long-term pin), pure: which
 * pages went stale (the mm took them back since), what a read returns and where a write lands — the process's pages
 * where the translation still holds, the pages a pin kept where the mapping let them go, nothing (lost: a read gets
 * zeros) elsewhere. {@link DeviceAccess} reports what this computes; run-against-run, so a DMA of many pages costs the
 * runs it spans.
 */
public final class DeviceDma {
  private static final long PAGE = AddressSpace.PAGE;

  private DeviceDma() {}

  /**
   * The parts of {@code [addr, addr + length)} where {@code translation} (what the device faulted earlier) no longer
   * names the frame the page table has: the device would access a page that is no longer this process's (stale).
   */
  public static List<Frames> stale(AddressSpace space, long addr, long length, List<Frames> translation) {
    List<Frames> out = new ArrayList<>();
    long first = addr & ~(PAGE - 1);
    long last = AddressSpace.pageUp(addr + length);
    for (Frames t : translation) { // run against run: a DMA of many pages costs the runs it spans, not its pages
      long s = Math.max(first, t.address());
      long e = Math.min(last, t.end());
      if (s >= e) {
        continue; // not translated: the device faults it (or it is a driver bug the caller reports)
      }
      long pos = s;
      for (Frames now : space.presentFrames(s / PAGE, (e - s) / PAGE)) {
        if (now.address() > pos) {
          staleRun(out, pos, now.address(), t); // the page table has nothing there any more
        }
        if (now.pfn() != t.pfnAt(now.address())) {
          staleRun(out, now.address(), now.end(), t); // another frame now
        }
        pos = now.end();
      }
      if (pos < e) {
        staleRun(out, pos, e, t);
      }
    }
    out.sort(java.util.Comparator.comparingLong(Frames::address));
    return out;
  }

  /** Adds {@code [from, to)} of translation run {@code t} to {@code out}, merged with the previous run when contiguous. */
  private static void staleRun(List<Frames> out, long from, long to, Frames t) {
    long pfn = t.pfnAt(from);
    Frames prev = out.isEmpty() ? null : out.get(out.size() - 1);
    if (prev != null && prev.end() == from && prev.pfn() + prev.pages() == pfn) {
      out.set(out.size() - 1, new Frames(prev.address(), prev.pages() + (to - from) / PAGE, prev.pfn()));
    } else {
      out.add(new Frames(from, (to - from) / PAGE, pfn));
    }
  }

  /**
   * What a device's DMA through its translation did: the data (a read's; offsets from its address), the pages it went
   * stale on that no pin keeps (lost: a read gets zeros there, a write is dropped), and the bytes that went to pages
   * only a long-term pin still holds (the process no longer maps them).
   */
  public record Result(List<Chunk> data, List<Frames> lost, long keptBytes) {
    public Result {
      data = List.copyOf(data);
      lost = List.copyOf(lost);
    }
  }

  /** A piece of a DMA's range: live (the process's pages), or one stale page (kept by a pin, or lost). */
  private record Seg(long start, long end, boolean live, long pfn) {}

  private static List<Seg> segments(AddressSpace space, long addr, long length, List<Frames> translation) {
    List<Seg> out = new ArrayList<>();
    long pos = addr;
    long end = addr + length;
    for (Frames s : stale(space, addr, length, translation)) {
      long s0 = Math.max(s.address(), addr);
      long s1 = Math.min(s.end(), end);
      if (s0 >= s1) {
        continue;
      }
      if (pos < s0) {
        out.add(new Seg(pos, s0, true, 0));
      }
      for (long p = s0; p < s1; ) {
        long pe = Math.min(s1, (p & ~(PAGE - 1)) + PAGE);
        out.add(new Seg(p, pe, false, s.pfnAt(p)));
        p = pe;
      }
      pos = s1;
    }
    if (pos < end) {
      out.add(new Seg(pos, end, true, 0));
    }
    return out;
  }

  private static void lose(List<Frames> lost, Seg g) {
    long page = g.start() & ~(PAGE - 1);
    Frames last = lost.isEmpty() ? null : lost.get(lost.size() - 1);
    if (last != null && last.end() == page && last.pfn() + last.pages() == g.pfn()) {
      lost.set(lost.size() - 1, new Frames(last.address(), last.pages() + 1, last.pfn()));
    } else {
      lost.add(new Frames(page, 1, g.pfn()));
    }
  }

  /** A device's read of {@code [addr, addr + length)} through {@code translation}. */
  public static Result read(AddressSpace space, long addr, long length, List<Frames> translation) {
    List<Chunk> out = new ArrayList<>();
    List<Frames> lost = new ArrayList<>();
    long kept = 0;
    for (Seg g : segments(space, addr, length, translation)) {
      long at = g.start() - addr;
      List<Chunk> part = g.live() ? space.filled(g.start(), g.end() - g.start())
          : space.pins().read(g.pfn(), g.start() & (PAGE - 1), g.end() - g.start());
      if (part == null) {
        lose(lost, g);
        part = List.of(new Chunk.Pattern(0, g.end() - g.start(), 0, 0));
      } else if (!g.live()) {
        kept += g.end() - g.start();
      }
      part.forEach(c -> out.add(c.at(at + c.offset())));
    }
    return new Result(out, lost, kept);
  }

  /** A device's write of {@code chunks} (offsets from {@code addr}) through {@code translation}. */
  public static Result write(AddressSpace space, long addr, List<Chunk> chunks, List<Frames> translation) {
    long length = 0;
    for (Chunk c : chunks) {
      length = Math.max(length, c.offset() + c.length());
    }
    List<Frames> lost = new ArrayList<>();
    long kept = 0;
    for (Seg g : segments(space, addr, length, translation)) {
      boolean keptHere = false;
      for (Chunk c : chunks) {
        long cs = Math.max(addr + c.offset(), g.start());
        long ce = Math.min(addr + c.offset() + c.length(), g.end());
        if (cs >= ce) {
          continue;
        }
        if (g.live()) {
          space.writeMapped(c, addr + c.offset(), cs, ce);
        } else if (space.pins().write(g.pfn(), Mappings.slice(c, cs - addr - c.offset(), ce - cs, cs & (PAGE - 1)))) {
          kept += ce - cs;
          keptHere = true;
        }
      }
      if (!g.live() && !keptHere) {
        lose(lost, g);
      }
    }
    return new Result(List.of(), lost, kept);
  }
}
