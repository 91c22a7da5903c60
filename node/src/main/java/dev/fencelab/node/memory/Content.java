package dev.fencelab.node.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * What one buffer holds (see the package documentation). Not thread-safe: the owning driver actor is its only user.
 */
public final class Content {
  /** Page size of bytes-mode buffers (allocation granule, not the emulated MMU page size). */
  public static final int PAGE = 64 * 1024;

  private final long size;
  private final byte[][] pages; // bytes mode; null entries read as zeros
  /**
   * Bytes mode: the page's array is referenced outside this buffer — handed out whole by a read, or adopted whole from a
   * written chunk — so it is copied before it is written (copy on write). A chunk's bytes are never changed once made.
   */
  private final boolean[] shared;
  private final TreeMap<Long, Chunk> segments; // segment mode; gaps read as zeros

  /** @param bytesThreshold buffers up to this size hold real bytes; larger ones hold segments */
  public Content(long size, long bytesThreshold) {
    if (size < 0) {
      throw new IllegalArgumentException("negative size " + size);
    }
    this.size = size;
    if (size <= bytesThreshold) {
      this.pages = new byte[(int) ((size + PAGE - 1) / PAGE)][];
      this.shared = new boolean[pages.length];
      this.segments = null;
    } else {
      this.pages = null;
      this.shared = null;
      this.segments = new TreeMap<>();
    }
  }

  public long size() {
    return size;
  }

  /**
   * A copy with the same bytes (fork's copy of private memory). Content may be shared by the address spaces of two
   * processes (a MAP_SHARED mapping after fork), each an actor: its reads and writes are synchronized.
   */
  public synchronized Content copy() {
    Content c = new Content(size, pages != null ? size : 0);
    for (Chunk chunk : read(0, size, PAGE)) {
      c.write(chunk);
    }
    return c;
  }

  public boolean holdsBytes() {
    return pages != null;
  }

  /** Fills {@code [offset, offset + length)} with pattern {@code seed} (positions are buffer offsets). */
  public synchronized void fill(long offset, long length, long seed) {
    write(new Chunk.Pattern(offset, length, seed, offset));
  }

  public synchronized void write(Chunk chunk) {
    check(chunk.offset(), chunk.length());
    if (chunk.length() == 0) {
      return;
    }
    if (pages != null) {
      writeBytes(chunk);
    } else {
      writeSegment(chunk);
    }
  }

  private void writeBytes(Chunk chunk) {
    long pos = chunk.offset();
    long end = pos + chunk.length();
    while (pos < end) {
      int page = (int) (pos / PAGE);
      int inPage = (int) (pos % PAGE);
      int n = (int) Math.min(PAGE - inPage, end - pos);
      long from = pos - chunk.offset();
      int pageLength = (int) Math.min(PAGE, size - (long) page * PAGE);
      if (chunk instanceof Chunk.Bytes whole && inPage == 0 && from == 0 && n == pageLength && whole.data().length == pageLength) {
        pages[page] = whole.data(); // the chunk is exactly this page: adopted, not copied
        shared[page] = true;
        pos += n;
        continue;
      }
      if (pages[page] == null) {
        pages[page] = new byte[pageLength];
      } else if (shared[page]) {
        pages[page] = pages[page].clone();
        shared[page] = false;
      }
      if (chunk instanceof Chunk.Bytes b) {
        System.arraycopy(b.data(), (int) from, pages[page], inPage, n);
      } else {
        Chunk.Pattern p = (Chunk.Pattern) chunk;
        pattern(p.seed(), p.patternOffset() + from, pages[page], inPage, n);
      }
      pos += n;
    }
  }

  private void writeSegment(Chunk chunk) {
    long start = chunk.offset();
    long end = start + chunk.length();
    // Cut every overlapping segment down to the parts outside [start, end).
    Map.Entry<Long, Chunk> floor = segments.floorEntry(start);
    List<Chunk> overlapping = new ArrayList<>();
    if (floor != null && floor.getKey() + floor.getValue().length() > start) {
      overlapping.add(floor.getValue());
    }
    overlapping.addAll(segments.subMap(start, true, end, false).values());
    for (Chunk old : overlapping) {
      segments.remove(old.offset());
      long oldEnd = old.offset() + old.length();
      if (old.offset() < start) {
        Chunk left = slice(old, old.offset(), start - old.offset());
        segments.put(left.offset(), left);
      }
      if (oldEnd > end) {
        Chunk right = slice(old, end, oldEnd - end);
        segments.put(right.offset(), right);
      }
    }
    segments.put(start, chunk);
  }

  /** The part of {@code c} at {@code [from, from + length)} (buffer offsets). */
  private static Chunk slice(Chunk c, long from, long length) {
    long skip = from - c.offset();
    if (c instanceof Chunk.Bytes b) {
      byte[] out = new byte[(int) length];
      System.arraycopy(b.data(), (int) skip, out, 0, (int) length);
      return new Chunk.Bytes(from, out);
    }
    Chunk.Pattern p = (Chunk.Pattern) c;
    return new Chunk.Pattern(from, length, p.seed(), p.seed() == 0 ? 0 : p.patternOffset() + skip);
  }

  /**
   * The content of {@code [offset, offset + length)}: bytes chunks of at most {@code maxBytes} each for a bytes
   * buffer; pattern ranges (any length) and bytes pieces (at most {@code maxBytes}) for a segment buffer.
   */
  public synchronized List<Chunk> read(long offset, long length, int maxBytes) {
    check(offset, length);
    List<Chunk> out = new ArrayList<>();
    long end = offset + length;
    if (pages != null) {
      for (long pos = offset; pos < end; ) {
        int n = (int) Math.min(maxBytes, end - pos);
        int page = (int) (pos / PAGE);
        if (pos % PAGE == 0 && pages[page] != null && pages[page].length == n) { // a whole page: handed out, not copied
          shared[page] = true;
          out.add(new Chunk.Bytes(pos, pages[page]));
          pos += n;
          continue;
        }
        byte[] data = new byte[n];
        readBytes(pos, data, 0, n);
        out.add(new Chunk.Bytes(pos, data));
        pos += n;
      }
      return out;
    }
    walk(offset, end, (pos, n) -> out.add(new Chunk.Pattern(pos, n, 0, 0)), (c, from, to) -> { // gaps read as zeros
      for (long p = from; p < to; ) {
        long n = c instanceof Chunk.Bytes ? Math.min(maxBytes, to - p) : to - p;
        out.add(slice(c, p, n));
        p += n;
      }
    });
    return out;
  }

  /** True when every byte of {@code [offset, offset + length)} is zero (nothing written there, or zeros written). */
  public synchronized boolean isZero(long offset, long length) {
    check(offset, length);
    if (pages != null) {
      byte[] buf = new byte[(int) Math.min(length, PAGE)];
      for (long pos = offset; pos < offset + length; pos += buf.length) {
        int n = (int) Math.min(buf.length, offset + length - pos);
        int page = (int) (pos / PAGE);
        if (pages[page] == null && (pos % PAGE) + n <= PAGE) {
          continue;
        }
        readBytes(pos, buf, 0, n);
        for (int i = 0; i < n; i++) {
          if (buf[i] != 0) {
            return false;
          }
        }
      }
      return true;
    }
    boolean[] zero = {true};
    walk(offset, offset + length, (pos, n) -> {}, (c, from, to) -> {
      if (c instanceof Chunk.Bytes || ((Chunk.Pattern) c).seed() != 0) {
        zero[0] = false;
      }
    });
    return zero[0];
  }

  /** A run of a buffer's content: real bytes, or pattern ranges (which travel as a few numbers, whatever their length). */
  public record Extent(long offset, long length, boolean bytes) {}

  /**
   * How {@code [offset, offset + length)} is held, in order: one bytes extent for a bytes buffer; for a segment buffer an
   * extent per segment (or gap of zeros), so that a copy moves a pattern range in one message and bytes in chunks.
   */
  public synchronized List<Extent> layout(long offset, long length) {
    check(offset, length);
    if (pages != null) {
      return length == 0 ? List.of() : List.of(new Extent(offset, length, true));
    }
    List<Extent> out = new ArrayList<>();
    walk(offset, offset + length, (pos, n) -> out.add(new Extent(pos, n, false)),
        (c, from, to) -> out.add(new Extent(from, to - from, c instanceof Chunk.Bytes)));
    return out;
  }

  private interface Gap {
    void at(long pos, long length);
  }

  private interface Part {
    void of(Chunk segment, long from, long to);
  }

  /** A segment buffer's {@code [offset, end)} in order: each gap (zeros) and each part of a segment inside the range. */
  private void walk(long offset, long end, Gap gap, Part part) {
    long pos = offset;
    Map.Entry<Long, Chunk> floor = segments.floorEntry(offset);
    List<Chunk> candidates = new ArrayList<>();
    if (floor != null) {
      candidates.add(floor.getValue());
    }
    candidates.addAll(segments.subMap(offset, false, end, false).values());
    for (Chunk c : candidates) {
      long cStart = Math.max(c.offset(), offset);
      long cEnd = Math.min(c.offset() + c.length(), end);
      if (cEnd <= cStart) {
        continue;
      }
      if (cStart > pos) {
        gap.at(pos, cStart - pos);
      }
      part.of(c, cStart, cEnd);
      pos = cEnd;
    }
    if (pos < end) {
      gap.at(pos, end - pos);
    }
  }

  private void readBytes(long pos, byte[] dst, int dstOff, int n) {
    while (n > 0) {
      int page = (int) (pos / PAGE);
      int inPage = (int) (pos % PAGE);
      int k = Math.min(PAGE - inPage, n);
      if (pages[page] == null) {
        java.util.Arrays.fill(dst, dstOff, dstOff + k, (byte) 0);
      } else {
        System.arraycopy(pages[page], inPage, dst, dstOff, k);
      }
      pos += k;
      dstOff += k;
      n -= k;
    }
  }

  /** CRC32C over every byte in order, then the size: independent of representation. */
  public synchronized long checksum() {
    return checksum(0, size);
  }

  /** The checksum of {@code [offset, offset + length)}, as {@link #checksum()} of a buffer holding just those bytes. */
  public synchronized long checksum(long offset, long length) {
    CRC32C crc = new CRC32C();
    byte[] buf = new byte[PAGE];
    for (Chunk c : read(offset, length, PAGE)) {
      if (c instanceof Chunk.Bytes b) {
        crc.update(b.data());
      } else {
        Chunk.Pattern p = (Chunk.Pattern) c;
        for (long done = 0; done < p.length(); ) {
          int n = (int) Math.min(buf.length, p.length() - done);
          pattern(p.seed(), p.patternOffset() + done, buf, 0, n);
          crc.update(buf, 0, n);
          done += n;
        }
      }
    }
    long value = crc.getValue();
    return (value << 32) ^ length;
  }

  /** Formats a checksum as users see it: {@code crc32c:1a2b3c4d/size}. */
  public static String format(long checksum) {
    return String.format("crc32c:%08x/%d", checksum >>> 32, checksum & 0xFFFFFFFFL);
  }

  /** The bytes of pattern {@code seed} at positions {@code [position, position + n)} into {@code dst}. */
  public static void pattern(long seed, long position, byte[] dst, int dstOff, int n) {
    if (seed == 0) {
      java.util.Arrays.fill(dst, dstOff, dstOff + n, (byte) 0);
      return;
    }
    long word = position >>> 3;
    long bits = mix(seed, word);
    int shift = (int) (position & 7);
    for (int i = 0; i < n; i++) {
      if (shift == 8) {
        bits = mix(seed, ++word);
        shift = 0;
      }
      dst[dstOff + i] = (byte) (bits >>> (shift * 8));
      shift++;
    }
  }

  /** A seed derived from parts (a job id, an input checksum…); never 0, which means zeros. */
  public static long seed(long... parts) {
    long h = 0x51ED27A3F1C4B5D9L;
    for (long p : parts) {
      h = mix(h, p);
    }
    return h == 0 ? 1 : h;
  }

  private static long mix(long seed, long word) {
    long z = seed * 0x9E3779B97F4A7C15L + word + 0x632BE59BD9B4E019L; // splitmix64 finaliser
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private void check(long offset, long length) {
    if (offset < 0 || length < 0 || offset > size - length) {
      throw new IndexOutOfBoundsException("[" + offset + ", +" + length + ") outside a buffer of " + size + " bytes");
    }
  }
}
