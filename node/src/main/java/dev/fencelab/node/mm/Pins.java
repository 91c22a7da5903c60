package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Long-term pins of one address space ({@code pin_user_pages(FOLL_LONGTERM)}: a pinned memory region, a pinned
 * userptr): frames a device keeps whatever the mapping does (kernel-semantics §1.16, "the HW mapping stays fixed until
 * dereg"). While the process still maps a pinned frame, the device and the process share the page. When the mapping
 * lets the frame go (munmap, MADV_DONTNEED, exit, a copy-on-write break), the pin keeps the old page with its content:
 * DMA through the pin lands there, where the process never looks again. Part of {@link AddressSpace}; pure.
 */
final class Pins {
  /** One pinned run: its frames, the content of its pages once the mapping let them go, and which pages those are. */
  private record Run(long pin, Frames frames, Content kept, BitSet detached) {
    boolean holds(long pfn) {
      return pfn >= frames.pfn() && pfn < frames.pfn() + frames.pages();
    }

    int index(long pfn) {
      return (int) (pfn - frames.pfn());
    }
  }

  /** Reads the process's content of {@code [addr, addr + length)}, offsets from {@code addr}. */
  interface Reader {
    List<Chunk> read(long addr, long length);
  }

  private final long bytesThreshold;
  private final List<Run> runs = new ArrayList<>();
  private long nextId = 1;

  Pins(long bytesThreshold) {
    this.bytesThreshold = bytesThreshold;
  }

  /** Pins {@code frames}; returns the pin's id (for {@link #unpin}). */
  long pin(List<Frames> frames) {
    long id = nextId++;
    for (Frames f : frames) {
      runs.add(new Run(id, f, new Content(f.pages() * AddressSpace.PAGE, bytesThreshold), new BitSet((int) f.pages())));
    }
    return id;
  }

  /** Drops pin {@code id}; returns the pages it held (0 for an unknown id). */
  long unpin(long id) {
    long pages = 0;
    for (var it = runs.iterator(); it.hasNext(); ) {
      Run r = it.next();
      if (r.pin() == id) {
        pages += r.frames().pages();
        it.remove();
      }
    }
    return pages;
  }

  boolean isEmpty() {
    return runs.isEmpty();
  }

  /** Whether a pin holds {@code pfn}. */
  boolean pinned(long pfn) {
    return runs.stream().anyMatch(r -> r.holds(pfn));
  }

  /**
   * The mapping is letting {@code frames} go (they are still mapped, their content still readable through
   * {@code reader}): every pin holding one keeps its page from now on.
   */
  void detach(List<Frames> frames, Reader reader) {
    if (runs.isEmpty()) {
      return;
    }
    for (Frames f : frames) {
      for (Run r : runs) {
        long first = Math.max(f.pfn(), r.frames().pfn());
        long last = Math.min(f.pfn() + f.pages(), r.frames().pfn() + r.frames().pages());
        for (long pfn = first; pfn < last; pfn++) {
          if (r.detached().get(r.index(pfn))) {
            continue;
          }
          long va = f.address() + (pfn - f.pfn()) * AddressSpace.PAGE;
          long at = (long) r.index(pfn) * AddressSpace.PAGE;
          for (Chunk c : reader.read(va, AddressSpace.PAGE)) {
            r.kept().write(c.at(at + c.offset()));
          }
          r.detached().set(r.index(pfn));
        }
      }
    }
  }

  /** The first run holding {@code pfn} as a kept page (the mapping let it go), or null. */
  private Run kept(long pfn) {
    for (Run r : runs) {
      if (r.holds(pfn) && r.detached().get(r.index(pfn))) {
        return r;
      }
    }
    return null;
  }

  /** The kept content of {@code [offset, offset + length)} of page {@code pfn}, offsets from 0; null if no pin keeps it. */
  List<Chunk> read(long pfn, long offset, long length) {
    Run r = kept(pfn);
    if (r == null) {
      return null;
    }
    long base = (long) r.index(pfn) * AddressSpace.PAGE + offset;
    return r.kept().read(base, length, Content.PAGE).stream().map(c -> c.at(c.offset() - base)).toList();
  }

  /** Writes {@code chunk} (offset within page {@code pfn}) into every pin that keeps the page; false if none does. */
  boolean write(long pfn, Chunk chunk) {
    boolean any = false;
    for (Run r : runs) {
      if (r.holds(pfn) && r.detached().get(r.index(pfn))) {
        r.kept().write(chunk.at((long) r.index(pfn) * AddressSpace.PAGE + chunk.offset()));
        any = true;
      }
    }
    return any;
  }
}
