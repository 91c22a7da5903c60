package dev.fencelab.node.mm;

import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.memory.Content;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mappings (VMAs) of one address space and the content behind them, a part of {@link AddressSpace}: where
 * {@code mmap} places a mapping and what it refuses, the splits munmap and mprotect make, each mapping's protection and
 * backing, and fork's copy of them for the child (dup_mmap). Content lives per mapping ({@link Content}: real bytes up
 * to the threshold, pattern segments above it), addressed from the mapping's first address, and survives splits: the
 * pieces a split leaves share it. Knows nothing of pages ({@link PageStates} does); pure.
 */
final class Mappings {
  private static final long PAGE = AddressSpace.PAGE;
  /** Where top-down allocation of mappings starts ({@code mmap_base} without randomisation). */
  static final long MMAP_BASE = 0x7fff_f7ff_f000L;
  /** {@code vm.mmap_min_addr}'s default. */
  static final long MMAP_MIN = 0x1_0000L;
  /** {@code vm.max_map_count}'s default. */
  static final int MAX_MAP_COUNT = 65_530;

  /** What backs a mapping: its bytes, addressed from its first address; the pieces a split leaves share it. */
  record Backing(Content content, long origin, boolean shared) {}

  /** One VMA: {@code [start, end)}, its protection, its backing. */
  static final class Vma {
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

  private final TreeMap<Long, Vma> vmas = new TreeMap<>();
  private final long bytesThreshold;

  /** @param bytesThreshold mappings up to this size hold real bytes; larger ones hold pattern segments */
  Mappings(long bytesThreshold) {
    this.bytesThreshold = bytesThreshold;
  }

  /** Every VMA, in address order. */
  Collection<Vma> all() {
    return vmas.values();
  }

  List<AddressSpace.Mapping> list() {
    return vmas.values().stream().map(v -> new AddressSpace.Mapping(v.start, v.end, v.prot, v.backing.shared())).toList();
  }

  // --- mmap

  /**
   * {@code mmap(addr, length, prot, MAP_ANONYMOUS | MAP_PRIVATE or MAP_SHARED [| MAP_FIXED_NOREPLACE])}: the address,
   * or -EINVAL (length 0, unknown prot bits, an unaligned fixed address), -ENOMEM (no room, too long, too many
   * mappings), -EEXIST (a fixed range that overlaps a mapping), -EPERM (a fixed address below mmap_min_addr).
   */
  long mmap(long addr, long length, int prot, boolean shared, boolean fixed) {
    if (length <= 0 || (prot & ~(AddressSpace.PROT_READ | AddressSpace.PROT_WRITE | AddressSpace.PROT_EXEC)) != 0) {
      return Errno.EINVAL.negative();
    }
    long len = AddressSpace.pageUp(length);
    if (len <= 0 || len > AddressSpace.TASK_SIZE) {
      return Errno.ENOMEM.negative();
    }
    if (vmas.size() >= MAX_MAP_COUNT) {
      return Errno.ENOMEM.negative();
    }
    long start;
    if (fixed) {
      if (!AddressSpace.aligned(addr)) {
        return Errno.EINVAL.negative();
      }
      if (addr < MMAP_MIN) {
        return Errno.EPERM.negative();
      }
      if (addr > AddressSpace.TASK_SIZE - len) {
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

  // --- munmap, mprotect

  /** The parts of {@code [start, end)} covered by VMAs, in address order. */
  List<Vma> covering(long start, long end) {
    List<Vma> out = new ArrayList<>();
    Map.Entry<Long, Vma> first = vmas.lowerEntry(start);
    if (first != null && first.getValue().end > start) {
      out.add(first.getValue());
    }
    out.addAll(vmas.subMap(start, true, end, false).values());
    return out;
  }

  boolean hasHole(long start, long end) {
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

  /** An {@code event} invalidation per part of {@code [start, end)} that a VMA {@code which} accepts covers. */
  List<Invalidation> perVma(long start, long end, MmuEvent event, java.util.function.Predicate<Vma> which) {
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

  /** An {@code event} invalidation over each whole VMA that {@code which} accepts, in address order. */
  List<Invalidation> whole(MmuEvent event, java.util.function.Predicate<Vma> which) {
    return vmas.values().stream().filter(which).map(v -> new Invalidation(v.start, v.end, event)).toList();
  }

  /** munmap's VMA side: {@code [addr, end)} is no longer mapped (the VMAs that span its ends are split). */
  void unmap(long addr, long end) {
    splitAt(addr);
    splitAt(end);
    vmas.subMap(addr, true, end, false).clear();
  }

  /** mprotect's VMA side: {@code [addr, end)} gets protection {@code prot} (the VMAs that span its ends are split). */
  void protect(long addr, long end, int prot) {
    splitAt(addr);
    splitAt(end);
    vmas.subMap(addr, true, end, false).values().forEach(v -> v.prot = prot);
  }

  /** exit_mmap's VMA side: every mapping goes. */
  void clear() {
    vmas.clear();
  }

  // --- fork

  /** What the child inherits (copy_mm): the mappings, shared ones backed by the same memory, private ones by a copy. */
  Mappings copy() {
    Map<Backing, Backing> copies = new java.util.IdentityHashMap<>();
    Mappings out = new Mappings(bytesThreshold);
    for (Vma v : vmas.values()) {
      Backing b = v.backing.shared() ? v.backing
          : copies.computeIfAbsent(v.backing, old -> new Backing(old.content().copy(), old.origin(), false));
      out.vmas.put(v.start, new Vma(v.start, v.end, v.prot, b));
    }
    return out;
  }

  /** The child's side of fork: a mapping-less address space takes what it inherits; false if it has mappings. */
  boolean adopt(Mappings inherited) {
    if (!vmas.isEmpty()) {
      return false;
    }
    vmas.putAll(inherited.vmas);
    return true;
  }

  // --- content

  /** A CPU write of pattern {@code seed} (0: zeros) over the range (after {@link AddressSpace#planAccess} and a fault). */
  void write(long addr, long length, long seed) {
    forEachPart(addr, length, (v, s, e) -> v.backing.content().write(
        new Chunk.Pattern(s - v.backing.origin(), e - s, seed, s - addr)));
  }

  /** The checksum of the range's bytes, as a buffer's checksum ({@code crc32c:…/length}). */
  long checksum(long addr, long length) {
    Content out = new Content(length, bytesThreshold);
    forEachPart(addr, length, (v, s, e) -> {
      for (Chunk c : v.backing.content().read(s - v.backing.origin(), e - s, Content.PAGE)) {
        out.write(moved(c, c.offset() + v.backing.origin() - addr));
      }
    });
    return out.checksum();
  }

  /** The content of the range, addressed from {@code addr} (offset 0 is {@code addr}). */
  List<Chunk> read(long addr, long length, int maxBytes) {
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

  /** A mapped part {@code [start, end)} of a VMA. */
  interface Part {
    void accept(Vma v, long start, long end);
  }

  /** Each non-empty part of {@code [addr, addr + length)} that a VMA covers, in address order. */
  void forEachPart(long addr, long length, Part part) {
    long end = addr + length;
    for (Vma v : covering(addr, end)) {
      long s = Math.max(addr, v.start);
      long e = Math.min(end, v.end);
      if (s < e) {
        part.accept(v, s, e);
      }
    }
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
