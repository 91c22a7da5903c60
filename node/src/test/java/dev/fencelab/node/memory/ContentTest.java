package dev.fencelab.node.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ContentTest {
  private static final long SMALL = 1 << 20;

  @Test
  void shouldReadZerosFromUntouchedBuffer() {
    Content c = new Content(100_000, SMALL);

    byte[] data = ((Chunk.Bytes) c.read(70_000, 16, 64).get(0)).data();

    assertArrayEquals(new byte[16], data);
  }

  @Test
  void shouldHaveSameChecksumForSameBytesWhateverTheRepresentation() {
    Content bytes = new Content(300_000, SMALL);
    Content segments = new Content(300_000, 0);
    bytes.fill(1000, 200_000, 42);
    segments.fill(1000, 200_000, 42);

    assertTrue(bytes.holdsBytes());
    assertEquals(bytes.checksum(), segments.checksum());
  }

  @Test
  void shouldChangeChecksumWhenOneRangeIsRewrittenWithAnotherSeed() {
    Content a = new Content(100_000, SMALL);
    a.fill(0, 100_000, 7);
    long before = a.checksum();

    a.fill(50_000, 10, 8);

    assertNotEquals(before, a.checksum());
  }

  @Test
  void shouldReproduceContentWhenCopiedChunkByChunkToAnotherOffset() {
    Content src = new Content(1 << 22, 0); // segments
    src.fill(0, 1 << 22, 99);
    src.write(new Chunk.Bytes(12345, new byte[] {1, 2, 3, 4}));
    Content dst = new Content(1 << 22, SMALL * 8); // bytes
    Content reference = new Content(1 << 22, SMALL * 8);

    for (Chunk c : src.read(0, 1 << 22, 65536)) {
      dst.write(c);
    }
    reference.fill(0, 1 << 22, 99);
    reference.write(new Chunk.Bytes(12345, new byte[] {1, 2, 3, 4}));

    assertEquals(reference.checksum(), dst.checksum());
    assertEquals(src.checksum(), dst.checksum());
  }

  @Test
  void shouldSplitSegmentsOnPartialOverwrite() {
    Content c = new Content(1L << 40, 0); // 1 TiB of segments: costs nothing until written
    c.fill(0, 1L << 40, 5);
    c.write(new Chunk.Bytes(4096, new byte[] {9}));

    List<Chunk> pieces = c.read(4000, 200, 65536);

    assertEquals(3, pieces.size());
    assertEquals(new Chunk.Pattern(4000, 96, 5, 4000), pieces.get(0));
    assertEquals(new Chunk.Bytes(4096, new byte[] {9}), pieces.get(1));
    assertEquals(new Chunk.Pattern(4097, 103, 5, 4097), pieces.get(2));
  }

  @Test
  void shouldRefuseAccessOutsideTheBuffer() {
    Content c = new Content(4096, SMALL);

    assertThrows(IndexOutOfBoundsException.class, () -> c.fill(4000, 97, 1));
  }

  @Test
  void shouldDeriveDifferentPatternsFromDifferentSeeds() {
    byte[] a = new byte[64];
    byte[] b = new byte[64];

    Content.pattern(Content.seed(1, 2), 0, a, 0, 64);
    Content.pattern(Content.seed(1, 3), 0, b, 0, 64);

    assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
  }

  @Test
  void aBytesBufferIsLaidOutAsOneBytesExtent() {
    Content c = new Content(1 << 20, 16 << 20);
    assertEquals(java.util.List.of(new Content.Extent(4096, 8192, true)), c.layout(4096, 8192));
  }

  @Test
  void aSegmentBufferIsLaidOutAsItsPatternRunsBytesAndGaps() {
    Content c = new Content(64L << 30, 16 << 20); // 64 GiB: segments
    c.fill(0, 32L << 30, 7);
    c.write(new Chunk.Bytes(1L << 30, new byte[4096]));
    assertEquals(java.util.List.of(
        new Content.Extent(0, 1L << 30, false),
        new Content.Extent(1L << 30, 4096, true),
        new Content.Extent((1L << 30) + 4096, (31L << 30) - 4096, false),
        new Content.Extent(32L << 30, 32L << 30, false)), c.layout(0, 64L << 30), "pattern, bytes, pattern, then a gap of zeros");
  }

  @Test
  void aWholePageReadOutKeepsItsBytesWhenTheBufferIsWrittenAfter() {
    Content c = new Content(2 * Content.PAGE, SMALL);
    c.fill(0, 2 * Content.PAGE, 5);
    byte[] handedOut = ((Chunk.Bytes) c.read(0, Content.PAGE, Content.PAGE).get(0)).data();
    byte[] before = handedOut.clone();

    c.fill(100, 10, 6);

    assertArrayEquals(before, handedOut, "the page was handed out whole: the write copied it first");
    assertNotEquals(before[100], ((Chunk.Bytes) c.read(100, 1, 1).get(0)).data()[0]);
  }

  @Test
  void aWholePageChunkWrittenInIsNotChangedByALaterWriteToTheBuffer() {
    Content c = new Content(2 * Content.PAGE, SMALL);
    byte[] chunk = new byte[Content.PAGE];
    java.util.Arrays.fill(chunk, (byte) 7);

    c.write(new Chunk.Bytes(Content.PAGE, chunk));
    c.fill(Content.PAGE + 10, 10, 3);

    assertEquals(7, chunk[15], "the adopted chunk was copied before the write");
    assertEquals(7, ((Chunk.Bytes) c.read(Content.PAGE + 5, 1, 1).get(0)).data()[0]);
  }
}
