package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    assertEquals(before, mm.stale(a, 2 * PAGE, before));
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
    assertEquals(gpu, mm.stale(a, PAGE, gpu)); // the device's translation now names the child's page
  }

  @Test
  void aTranslationStaysValidWhileThePagesStay() {
    long a = map(4 * PAGE);
    List<Frames> t = mm.fault(a, 4 * PAGE, false);
    assertEquals(1, t.size());
    assertEquals(4, t.get(0).pages());
    mm.munmap(a + PAGE, PAGE);
    assertEquals(List.of(new Frames(a + PAGE, 1, t.get(0).pfn() + 1)), mm.stale(a, 4 * PAGE, t));
  }

  @Test
  void aDeviceWriteLandsInTheProcesssMemory() {
    long a = map(2 * PAGE);
    AddressSpace other = new AddressSpace(1 << 20);
    long b = other.mmap(0, 2 * PAGE, RW, false, false);
    other.write(b, 2 * PAGE, 7);
    mm.dmaWrite(a, other.read(b, 2 * PAGE, 4096));
    assertEquals(other.checksum(b, 2 * PAGE), mm.checksum(a, 2 * PAGE));
  }
}
