package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.Errno;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The dmirror test driver's ioctls on an mm (lib/test_hmm.c; kernel-semantics §1.17): counters, errnos, the device page table. */
class MirrorsTest {
  private static final long PAGE = MmCalls.PAGE;
  private static MmCalls m;

  @BeforeAll
  static void start() {
    m = new MmCalls("mirrors");
  }

  @AfterAll
  static void stop() {
    m.close();
  }

  private static MmProtocol.Reply dmirror(ActorRef<MmProtocol.Command> mm, String op, long addr, long length) {
    return m.call(mm, r -> new MmProtocol.Dmirror(op, addr, length, "dmirror0", 5, null, r));
  }

  private static long mmap(ActorRef<MmProtocol.Command> mm, long length, int prot) {
    return m.mmap(mm, length, prot, false);
  }

  private static final int RW = MmCalls.RW;

  @Test
  void aReadFaultsTheMissingPagesOnceAndASecondReadNotAtAll() {
    var mm = m.mm();
    long a = mmap(mm, 16 * PAGE, RW);
    MmProtocol.Reply first = dmirror(mm, "read", a, 16 * PAGE);
    assertEquals(0, first.ret(), first.detail());
    assertEquals("16", first.out().get("cpages"));
    assertEquals("1", first.out().get("faults"));
    assertEquals("0", dmirror(mm, "read", a, 16 * PAGE).out().get("faults"));
  }

  @Test
  void anInvalidationOfTheRangeEmptiesTheMirrorSoTheNextReadFaultsAgain() {
    var mm = m.mm();
    long a = mmap(mm, 16 * PAGE, RW);
    dmirror(mm, "read", a, 16 * PAGE);
    assertEquals(0, m.call(mm, r -> new MmProtocol.Change(MmProtocol.Change.Kind.MPROTECT, a, 16 * PAGE, AddressSpace.PROT_READ, r)).ret());
    assertEquals("1", dmirror(mm, "read", a, 16 * PAGE).out().get("faults"));
  }

  @Test
  void aWriteThroughAReadOnlyMappingIsEpermAndAReadOfANoAccessOneEfault() {
    var mm = m.mm();
    long ro = mmap(mm, 4 * PAGE, AddressSpace.PROT_READ);
    long none = mmap(mm, 4 * PAGE, 0);
    assertEquals(Errno.EPERM.negative(), dmirror(mm, "write", ro, 4 * PAGE).ret());
    assertEquals(Errno.EFAULT.negative(), dmirror(mm, "read", none, 4 * PAGE).ret());
  }

  @Test
  void anUnalignedOrEmptyRangeIsEinval() {
    var mm = m.mm();
    long a = mmap(mm, 4 * PAGE, RW);
    assertEquals(Errno.EINVAL.negative(), dmirror(mm, "read", a + 1, PAGE).ret());
    assertEquals(Errno.EINVAL.negative(), dmirror(mm, "read", a, 0).ret());
  }

  @Test
  void theDevicesOwnMigrationKeepsItsMirrorAndReadingItsPrivatePagesFaultsNothing() {
    var mm = m.mm();
    long a = mmap(mm, 8 * PAGE, RW);
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 8 * PAGE, true, 3, r));
    MmProtocol.Reply migrated = dmirror(mm, "migrate_to_dev", a, 8 * PAGE);
    assertEquals(0, migrated.ret(), migrated.detail());
    assertEquals("8", migrated.out().get("cpages"));
    assertEquals("0", dmirror(mm, "read", a, 8 * PAGE).out().get("faults"));
  }

  @Test
  void aCpuReadOfMigratedPagesDropsThemFromTheMirror() {
    var mm = m.mm();
    long a = mmap(mm, 8 * PAGE, RW);
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 8 * PAGE, true, 3, r));
    dmirror(mm, "migrate_to_dev", a, 8 * PAGE);
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 4 * PAGE, false, 0, r)); // migrate_to_ram of the first half
    assertEquals("1", dmirror(mm, "read", a, 8 * PAGE).out().get("faults"));
  }

  @Test
  void migrateToSysCountsTheDevicesPagesItBroughtBack() {
    var mm = m.mm();
    long a = mmap(mm, 8 * PAGE, RW);
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 8 * PAGE, true, 3, r));
    dmirror(mm, "migrate_to_dev", a, 8 * PAGE);
    MmProtocol.Reply back = dmirror(mm, "migrate_to_sys", a, 8 * PAGE);
    assertEquals("8", back.out().get("cpages"));
    assertEquals("1", dmirror(mm, "read", a, 8 * PAGE).out().get("faults"));
  }

  @Test
  void aSnapshotGivesOneByteAPageWithoutFaulting() {
    var mm = m.mm();
    long a = mmap(mm, 4 * PAGE, RW);
    m.call(mm, r -> new MmProtocol.CpuAccess(a + PAGE, PAGE, true, 3, r)); // page 1 written
    m.call(mm, r -> new MmProtocol.CpuAccess(a + 2 * PAGE, PAGE, true, 3, r));
    dmirror(mm, "migrate_to_dev", a + 2 * PAGE, PAGE); // page 2 in the device's private memory
    long none = mmap(mm, PAGE, 0);
    assertEquals("00 02 22 00", dmirror(mm, "snapshot", a, 4 * PAGE).out().get("snapshot"));
    assertEquals("ff", dmirror(mm, "snapshot", none, PAGE).out().get("snapshot"));
  }

  @Test
  void exclusiveEntriesStayUntilTheCpuTouchesThePages() {
    var mm = m.mm();
    long a = mmap(mm, 4 * PAGE, RW);
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 4 * PAGE, true, 3, r));
    MmProtocol.Reply ex = dmirror(mm, "exclusive", a, 4 * PAGE);
    assertEquals("4", ex.out().get("cpages"));
    assertEquals(Errno.EPERM.negative(), dmirror(mm, "check_exclusive", a, 4 * PAGE).ret());
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 4 * PAGE, true, 4, r));
    assertEquals(0, dmirror(mm, "check_exclusive", a, 4 * PAGE).ret());
  }

  @Test
  void aReadOfNeverWrittenMemoryMapsTheZeroPageWhichAWriteReplaces() {
    var mm = m.mm();
    long a = mmap(mm, 2 * PAGE, RW);
    m.call(mm, r -> new MmProtocol.CpuAccess(a, 2 * PAGE, false, 0, r));
    assertEquals("11 11", dmirror(mm, "snapshot", a, 2 * PAGE).out().get("snapshot"));
    m.call(mm, r -> new MmProtocol.CpuAccess(a, PAGE, true, 3, r));
    assertEquals("02 11", dmirror(mm, "snapshot", a, 2 * PAGE).out().get("snapshot"));
  }

  @Test
  void aMigrationLeavesAnotherDevicesPrivatePagesWhereTheyAre() {
    var mm = m.mm();
    long a = mmap(mm, PAGE, RW);
    assertEquals("1", m.call(mm, r -> new MmProtocol.Dmirror("migrate_to_dev", a, PAGE, "dmirror1", 5, null, r)).out().get("cpages"));
    assertEquals(Errno.ENOENT.negative(), dmirror(mm, "migrate_to_dev", a, PAGE).ret());
  }
}
