package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Device-private memory in an address space (kernel-semantics §1.17: migrate_vma, migrate_to_ram, hmm_range_fault's owner rule). */
class DevicePrivateTest {
  private static final long PAGE = AddressSpace.PAGE;
  private static final int RW = AddressSpace.PROT_READ | AddressSpace.PROT_WRITE;
  private final AddressSpace mm = new AddressSpace(1 << 20);

  private long map(long length, int prot, boolean shared) {
    long addr = mm.mmap(0, length, prot, shared, false);
    assertTrue(addr > 0, "mmap: " + addr);
    return addr;
  }

  @Test
  void migratingPrivateAnonymousMemoryAnnouncesMigrateAndCollectsEveryPage() {
    long a = map(4 * PAGE, RW, false);
    mm.fault(a, 2 * PAGE, true); // two present, two absent: migrate_vma collects the holes of an anonymous mapping too
    assertEquals(List.of(new Invalidation(a, a + 4 * PAGE, MmuEvent.MIGRATE)), mm.planMigrate(a, 4 * PAGE).ranges());
    assertEquals(4, mm.toDevice(a, 4 * PAGE, "gpu0", "gpu0"));
    assertEquals(Map.of("gpu0", 4L), mm.devicePrivatePages());
  }

  @Test
  void aSharedMappingCannotMoveToDevicePrivateMemory() {
    long a = map(2 * PAGE, RW, true);
    assertEquals(Errno.ENOENT.negative(), mm.planMigrate(a, 2 * PAGE).errno());
  }

  @Test
  void aHoleAProtNoneMappingOrAnUnalignedRangeIsEinval() {
    long a = map(2 * PAGE, RW, false);
    assertEquals(Errno.EINVAL.negative(), mm.planMigrate(a, 3 * PAGE).errno(), "past the mapping: a hole");
    long none = map(PAGE, 0, false);
    assertEquals(Errno.EINVAL.negative(), mm.planMigrate(none, PAGE).errno());
    assertEquals(Errno.EINVAL.negative(), mm.planMigrate(a + 1, PAGE).errno());
  }

  @Test
  void theContentSurvivesTheTripToTheDeviceAndBack() {
    long a = map(4 * PAGE, RW, false);
    mm.fault(a, 4 * PAGE, true);
    mm.write(a, 4 * PAGE, 99);
    long sum = mm.checksum(a, 4 * PAGE);
    mm.toDevice(a, 4 * PAGE, "gpu0", "gpu0");
    assertEquals(4, mm.toRam(a, 4 * PAGE, null));
    assertEquals(sum, mm.checksum(a, 4 * PAGE));
    assertTrue(mm.devicePrivatePages().isEmpty());
  }

  @Test
  void pagesAlreadyOnTheDeviceAreNotCollectedAgain() {
    long a = map(2 * PAGE, RW, false);
    mm.toDevice(a, 2 * PAGE, "gpu0", "gpu0");
    assertEquals(0, mm.toDevice(a, 2 * PAGE, "gpu0", "gpu0"));
  }

  @Test
  void hmmRangeFaultReportsItsOwnDevicePrivatePagesAsValidDevicePfns() {
    long a = map(4 * PAGE, RW, false);
    mm.toDevice(a, 4 * PAGE, "hive", "hive");
    assertEquals(new AddressSpace.HmmView(4, 4, 4, 0, 0), mm.hmmView(a, 4 * PAGE, "hive"));
  }

  @Test
  void anotherOwnersDevicePrivatePagesAreNotValidInASnapshot() {
    long a = map(4 * PAGE, RW, false);
    mm.toDevice(a, 4 * PAGE, "gpu0", "gpu0");
    assertEquals(new AddressSpace.HmmView(0, 0, 0, 0, 4), mm.hmmView(a, 4 * PAGE, "gpu1"));
  }

  @Test
  void migrateToRamOfOneOwnerLeavesAnothersPages() {
    long a = map(4 * PAGE, RW, false);
    mm.toDevice(a, 2 * PAGE, "gpu0", "gpu0");
    mm.toDevice(a + 2 * PAGE, 2 * PAGE, "gpu1", "gpu1");
    assertEquals(2, mm.toRam(a, 4 * PAGE, "gpu0"));
    assertEquals(Map.of("gpu1", 2L), mm.devicePrivatePages());
  }

  @Test
  void aPageOutsideAnyReadableMappingIsAnErrorInASnapshotAndEfaultWithAFaultRequest() {
    long a = map(PAGE, RW, false);
    assertEquals(1, mm.hmmView(a, 2 * PAGE, "gpu0").error());
    assertEquals(Errno.EFAULT.negative(), mm.planHmmFault(a, 2 * PAGE, false).errno());
  }

  @Test
  void aWriteRequestOnAReadOnlyMappingIsEperm() {
    long a = map(PAGE, AddressSpace.PROT_READ, false);
    assertEquals(Errno.EPERM.negative(), mm.planHmmFault(a, PAGE, true).errno());
  }

  @Test
  void aSystemPageSharedCopyOnWriteIsValidButNotWritable() {
    long a = map(2 * PAGE, RW, false);
    mm.fault(a, 2 * PAGE, true);
    mm.fork();
    assertEquals(new AddressSpace.HmmView(2, 0, 0, 0, 0), mm.hmmView(a, 2 * PAGE, "gpu0"));
  }

  @Test
  void pagesInTheMemoryOfADeviceThatDiedAreLostAndReportedAsErrors() {
    long a = map(4 * PAGE, RW, false);
    mm.toDevice(a, 2 * PAGE, "gpu0", "gpu0");
    mm.toDevice(a + 2 * PAGE, 2 * PAGE, "gpu1", "gpu1");
    assertEquals(2, mm.lose("gpu0"));
    assertEquals(2, mm.lost(a, 4 * PAGE));
    assertEquals(0, mm.toRam(a, 2 * PAGE, null), "nothing left to migrate back");
    assertEquals(2, mm.hmmView(a, 4 * PAGE, "gpu9").error());
    assertEquals(2, mm.onDevice("gpu1"));
  }

  @Test
  void underThe2025RfcAReachablePeersPagesAreValidAsPeerToPeerPfns() {
    long a = map(4 * PAGE, RW, false);
    mm.toDevice(a, 4 * PAGE, "gpu0", "gpu0");
    assertEquals(new AddressSpace.HmmView(4, 4, 0, 0, 0, 4), mm.hmmView(a, 4 * PAGE, "nic0", java.util.Set.of("gpu0")));
    assertEquals(new AddressSpace.HmmView(0, 0, 0, 0, 4, 0), mm.hmmView(a, 4 * PAGE, "nic1", java.util.Set.of()), "mainline: not valid");
  }
}
