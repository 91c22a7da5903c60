package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.protocol.Errno;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The address space's calls, with the kernel's return values and the invalidations each announces. */
class AddressSpaceTest {
  private static final long PAGE = AddressSpace.PAGE;
  private static final int RW = AddressSpace.PROT_READ | AddressSpace.PROT_WRITE;
  private final AddressSpace mm = new AddressSpace(1 << 20);

  private long map(long length) {
    long addr = mm.mmap(0, length, RW, false, false);
    assertTrue(addr > 0, "mmap: " + addr);
    return addr;
  }

  @Test
  void mmapPlacesMappingsTopDownPageAligned() {
    long a = map(3 * PAGE);
    long b = map(100);
    assertEquals(0, a % PAGE);
    assertEquals(a - PAGE, b);
  }

  @Test
  void mmapOfLengthZeroOrUnknownProtIsEINVAL() {
    assertEquals(-22, mm.mmap(0, 0, RW, false, false));
    assertEquals(-22, mm.mmap(0, PAGE, 8, false, false));
  }

  @Test
  void fixedMmapOverAMappingIsEEXISTAndUnalignedIsEINVAL() {
    long a = map(2 * PAGE);
    assertEquals(-17, mm.mmap(a + PAGE, PAGE, RW, false, true));
    assertEquals(-22, mm.mmap(a + 7, PAGE, RW, false, true));
    assertEquals(-1, mm.mmap(PAGE, PAGE, RW, false, true)); // below mmap_min_addr: -EPERM
  }

  @Test
  void munmapChecksAlignmentAndLengthAndAnnouncesUnmapPerVma() {
    long a = map(4 * PAGE);
    assertEquals(-22, mm.planMunmap(a + 1, PAGE).errno());
    assertEquals(-22, mm.planMunmap(a, 0).errno());
    AddressSpace.Plan p = mm.planMunmap(a + PAGE, 2 * PAGE);
    assertEquals(List.of(new Invalidation(a + PAGE, a + 3 * PAGE, MmuEvent.UNMAP)), p.ranges());
    mm.munmap(a + PAGE, 2 * PAGE);
    assertEquals(2, mm.mappings().size());
  }

  @Test
  void munmapOfAnUnmappedRangeSucceedsAndInvalidatesNothing() {
    long a = map(PAGE);
    AddressSpace.Plan p = mm.planMunmap(a - 16 * PAGE, PAGE);
    assertEquals(0, p.errno());
    assertTrue(p.ranges().isEmpty());
  }

  @Test
  void mprotectOverAHoleIsENOMEMAndOnlyPresentPagesAreInvalidated() {
    long a = map(2 * PAGE);
    assertEquals(-12, mm.planMprotect(a, 4 * PAGE, AddressSpace.PROT_READ).errno());
    assertTrue(mm.planMprotect(a, 2 * PAGE, AddressSpace.PROT_READ).ranges().isEmpty());
    mm.fault(a, PAGE, true);
    assertEquals(List.of(new Invalidation(a, a + 2 * PAGE, MmuEvent.PROTECTION_VMA)),
        mm.planMprotect(a, 2 * PAGE, AddressSpace.PROT_READ).ranges());
  }

  @Test
  void aCpuWriteToAReadOnlyMappingIsEFAULTAndAFaultForWriteIsEPERM() {
    long a = mm.mmap(0, PAGE, AddressSpace.PROT_READ, false, false);
    assertEquals(-14, mm.planAccess(a, 8, true, Errno.EFAULT).errno());
    assertEquals(-1, mm.planAccess(a, 8, true, Errno.EPERM).errno());
    assertEquals(0, mm.planAccess(a, 8, false, Errno.EPERM).errno());
  }

  @Test
  void accessToUnmappedOrProtNoneMemoryIsEFAULT() {
    long a = mm.mmap(0, PAGE, 0, false, false);
    assertEquals(-14, mm.planAccess(a, 8, false, Errno.EPERM).errno());
    assertEquals(-14, mm.planAccess(a - 8 * PAGE, 8, false, Errno.EPERM).errno());
  }

  @Test
  void dontneedZerosPrivateMemoryAndGivesNewFramesOnTheNextTouch() {
    long a = map(2 * PAGE);
    long zeros = mm.checksum(a, 2 * PAGE);
    List<Frames> before = mm.fault(a, 2 * PAGE, true);
    mm.write(a, 2 * PAGE, 42);
    assertNotEquals(zeros, mm.checksum(a, 2 * PAGE));
    assertEquals(List.of(new Invalidation(a, a + 2 * PAGE, MmuEvent.CLEAR)), mm.planDontneed(a, 2 * PAGE).ranges());
    mm.dontneed(a, 2 * PAGE);
    assertEquals(zeros, mm.checksum(a, 2 * PAGE));
    assertEquals(before, DeviceDma.stale(mm, a, 2 * PAGE, before));
    List<Frames> after = mm.fault(a, 2 * PAGE, false);
    assertNotEquals(before.get(0).pfn(), after.get(0).pfn());
  }

  @Test
  void dontneedOverAHoleReturnsENOMEMAfterDoingTheMappedPart() {
    long a = map(PAGE);
    assertEquals(-12, mm.dontneedResult(a, 2 * PAGE));
    assertEquals(0, mm.dontneedResult(a, PAGE));
  }

  @Test
  void forkWriteProtectsPopulatedPrivateMemoryAndTheParentsNextWriteMovesToNewFrames() {
    long a = map(PAGE);
    long untouched = map(PAGE);
    List<Frames> gpu = mm.fault(a, PAGE, true);
    assertEquals(List.of(new Invalidation(a, a + PAGE, MmuEvent.PROTECTION_PAGE)), mm.planFork().ranges());
    mm.fork();
    assertEquals(List.of(new Invalidation(a, a + PAGE, MmuEvent.CLEAR)), mm.planAccess(a, 8, true, Errno.EFAULT).ranges());
    assertTrue(mm.planAccess(untouched, 8, true, Errno.EFAULT).ranges().isEmpty());
    mm.fault(a, 8, true);
    assertEquals(gpu, DeviceDma.stale(mm, a, PAGE, gpu)); // the device's translation now names the child's page
  }

  @Test
  void aTranslationStaysValidWhileThePagesStay() {
    long a = map(4 * PAGE);
    List<Frames> t = mm.fault(a, 4 * PAGE, false);
    assertEquals(1, t.size());
    assertEquals(4, t.get(0).pages());
    mm.munmap(a + PAGE, PAGE);
    assertEquals(List.of(new Frames(a + PAGE, 1, t.get(0).pfn() + 1)), DeviceDma.stale(mm, a, 4 * PAGE, t));
  }

  @Test
  void aDeviceWriteLandsInTheProcesssMemory() {
    long a = map(2 * PAGE);
    AddressSpace other = new AddressSpace(1 << 20);
    long b = other.mmap(0, 2 * PAGE, RW, false, false);
    other.write(b, 2 * PAGE, 7);
    List<Frames> t = mm.fault(a, 2 * PAGE, true);
    DeviceDma.Result dma = DeviceDma.write(mm, a, other.read(b, 2 * PAGE, 4096), t);
    assertEquals(other.checksum(b, 2 * PAGE), mm.checksum(a, 2 * PAGE));
    assertEquals(List.of(), dma.lost());
    assertEquals(0, dma.keptBytes());
  }

  @Test
  void aDeviceWriteThroughAStaleUnpinnedTranslationIsLostAndDropped() {
    long a = map(2 * PAGE);
    mm.write(a, 2 * PAGE, 5);
    long before = mm.checksum(a, 2 * PAGE);
    List<Frames> t = mm.fault(a, 2 * PAGE, true);
    mm.reclaim(a, 2 * PAGE);
    DeviceDma.Result dma = DeviceDma.write(mm, a, List.of(new dev.fencelab.node.memory.Chunk.Pattern(0, 2 * PAGE, 9, 0)), t);
    assertEquals(List.of(new Frames(a, 2, t.get(0).pfn())), dma.lost());
    assertEquals(before, mm.checksum(a, 2 * PAGE));
  }

  @Test
  void aPinnedPageSharesWritesWithTheProcessWhileMapped() {
    long a = map(PAGE);
    List<Frames> t = mm.fault(a, PAGE, true);
    mm.pin(t);
    DeviceDma.Result dma = DeviceDma.write(mm, a, List.of(new dev.fencelab.node.memory.Chunk.Pattern(0, PAGE, 9, 0)), t);
    assertEquals(0, dma.keptBytes());
    AddressSpace other = new AddressSpace(1 << 20);
    long b = other.mmap(0, PAGE, RW, false, false);
    other.write(b, PAGE, 9);
    assertEquals(other.checksum(b, PAGE), mm.checksum(a, PAGE));
  }

  @Test
  void aPinnedPageKeepsItsOldContentAfterMunmapAndRemap() {
    long a = map(2 * PAGE);
    mm.write(a, 2 * PAGE, 3);
    List<Chunk> old = mm.read(a, 2 * PAGE, 4096);
    List<Frames> t = mm.fault(a, 2 * PAGE, true);
    mm.pin(t);
    mm.munmap(a, 2 * PAGE);
    assertEquals(a, mm.mmap(a, 2 * PAGE, RW, false, true));
    mm.write(a, 2 * PAGE, 4);
    DeviceDma.Result dma = DeviceDma.read(mm, a, 2 * PAGE, t);
    assertEquals(2 * PAGE, dma.keptBytes());
    assertEquals(List.of(), dma.lost());
    assertEquals(checksum(old), checksum(dma.data()));
  }

  @Test
  void aDeviceWriteThroughAPinAfterMunmapLandsInTheOldPagesNotTheNewMapping() {
    long a = map(PAGE);
    List<Frames> t = mm.fault(a, PAGE, true);
    mm.pin(t);
    mm.munmap(a, PAGE);
    assertEquals(a, mm.mmap(a, PAGE, RW, false, true));
    long fresh = mm.checksum(a, PAGE);
    List<Chunk> data = List.of(new Chunk.Pattern(0, PAGE, 11, 0));
    DeviceDma.Result dma = DeviceDma.write(mm, a, data, t);
    assertEquals(PAGE, dma.keptBytes());
    assertEquals(fresh, mm.checksum(a, PAGE), "the process's new mapping does not see the write");
    assertEquals(checksum(data), checksum(DeviceDma.read(mm, a, PAGE, t).data()), "the pinned old page holds it");
  }

  @Test
  void unpinningReportsThePagesAndForgetsTheKeptContent() {
    long a = map(2 * PAGE);
    List<Frames> t = mm.fault(a, 2 * PAGE, true);
    long pin = mm.pin(t);
    mm.munmap(a, 2 * PAGE);
    assertEquals(2, mm.unpin(pin));
    assertEquals(0, mm.unpin(pin));
    assertEquals(List.of(new Frames(a, 2, t.get(0).pfn())), DeviceDma.read(mm, a, 2 * PAGE, t).lost());
  }

  @Test
  void absentCountsThePagesAFaultWouldAllocate() {
    long a = map(4 * PAGE);
    mm.fault(a, PAGE, false);
    assertEquals(3, mm.absent(a, 4 * PAGE));
    assertEquals(0, mm.absent(a, PAGE));
  }

  private static long checksum(List<Chunk> chunks) {
    long length = chunks.stream().mapToLong(c -> c.offset() + c.length()).max().orElse(0);
    dev.fencelab.node.memory.Content c = new dev.fencelab.node.memory.Content(length, 1 << 20);
    chunks.forEach(c::write);
    return c.checksum();
  }

  @Test
  void aMigrationGivesThePresentPagesNewFramesAndKeepsTheirContent() {
    long a = map(4 * PAGE);
    mm.write(a, 2 * PAGE, 6);
    long before = mm.checksum(a, 4 * PAGE);
    List<Frames> t = mm.fault(a, 2 * PAGE, false);
    assertEquals(2, mm.migrate(a, 4 * PAGE));
    assertEquals(2, mm.absent(a, 4 * PAGE), "absent pages stay absent");
    assertEquals(t, DeviceDma.stale(mm, a, 2 * PAGE, t), "the old translation is stale");
    assertEquals(before, mm.checksum(a, 4 * PAGE));
  }
}
