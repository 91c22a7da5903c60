package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.lockdep.LockClass;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One test per rule of kernel-semantics §1.18 (each V and each allowed case), over the members' LOCK_DEP sightings. */
class LockOrderTest {
  private static final String MAP = LockClass.DMA_FENCE_MAP;
  private final List<TraceEvent> events = new ArrayList<>();
  private Map<String, String> hosts = Map.of();

  private LockOrderTest dep(String node, String task, String from, String to, int status) {
    events.add(TraceEvent.newBuilder().setKind(EventKind.LOCK_DEP).setNode(node).setTrack(task).setSubject(from).setName(to)
        .setStatus(status).setDetail("step " + events.size()).setWallNanos(events.size() + 1L).build());
    return this;
  }

  private List<LockOrder.Finding> check() {
    return LockOrder.check(events, n -> hosts.getOrDefault(n, ""), TraceEvent::getWallNanos);
  }

  private List<String> kinds() {
    return check().stream().map(LockOrder.Finding::kind).toList();
  }

  @Test
  void anAllocationThatMayReclaimInsideASectionIsV1() {
    dep("n1", "kthread t", MAP, LockClass.FS_RECLAIM, LockOrder.IN_SECTION);
    assertEquals(List.of("SIGNALLING_ALLOC"), kinds());
  }

  @Test
  void aNofsAllocationInsideASectionIsV1ThroughTheNotifierMap() {
    dep("n1", "kthread t", MAP, LockClass.MMU_NOTIFIER, LockOrder.IN_SECTION);
    assertEquals(List.of("SIGNALLING_ALLOC"), kinds());
  }

  @Test
  void aResvLockInsideASectionIsV2() {
    dep("n1", "gpu.ring0 run_job", MAP, LockClass.RESV, LockOrder.IN_SECTION);
    assertEquals(List.of("SIGNALLING_RESV"), kinds());
  }

  @Test
  void mmapLockInsideASectionIsV3() {
    dep("n1", "gpu.ring0 run_job", MAP, LockClass.MMAP_LOCK, LockOrder.IN_SECTION);
    assertEquals(List.of("SIGNALLING_MMAP_LOCK"), kinds());
  }

  @Test
  void aLockHeldAcrossAWaitAndThenTakenInASectionIsV4AtTheSection() {
    dep("n1", "kthread B", "L", MAP, 0).dep("n1", "kthread A", MAP, "L", LockOrder.IN_SECTION);
    List<LockOrder.Finding> f = check();
    assertEquals(List.of("SIGNALLING_LOCK"), f.stream().map(LockOrder.Finding::kind).toList());
    assertEquals("kthread A", f.get(0).at().getTrack());
  }

  @Test
  void aLockTakenInASectionAndThenHeldAcrossAWaitIsV4AtTheWait() {
    dep("n1", "kthread A", MAP, "L", LockOrder.IN_SECTION).dep("n1", "kthread B", "L", MAP, 0);
    List<LockOrder.Finding> f = check();
    assertEquals(List.of("SIGNALLING_LOCK"), f.stream().map(LockOrder.Finding::kind).toList());
    assertEquals("kthread B", f.get(0).at().getTrack());
  }

  @Test
  void aLockTakenInASectionAndHeldAcrossReclaimElsewhereIsV4() {
    dep("n1", "kthread A", MAP, "L", LockOrder.IN_SECTION).dep("n1", "kthread B", "L", LockClass.FS_RECLAIM, 0);
    assertEquals(List.of("SIGNALLING_LOCK"), kinds());
  }

  @Test
  void aWaitHoldingALockTakenInTheSameSectionIsV5() {
    dep("n1", "kthread t", MAP, "L", LockOrder.IN_SECTION)
        .dep("n1", "kthread t", "L", MAP, LockOrder.IN_SECTION | LockOrder.FROM_IN_SECTION);
    assertEquals(List.of("SIGNALLING_WAIT_HOLDING"), kinds());
  }

  @Test
  void anInversionWithoutTheFenceMapIsAPlainLockOrderReport() {
    dep("n1", "kthread a", "A", "B", 0).dep("n1", "kthread b", "B", "A", 0);
    assertEquals(List.of("LOCK_ORDER"), kinds());
  }

  @Test
  void aGfpKernelAllocationUnderTheResvLockIsAllowed() {
    dep("n1", "submit ioctl", LockClass.RESV, LockClass.FS_RECLAIM, 0);
    assertEquals(List.of(), kinds());
  }

  @Test
  void aWaitHoldingTheResvLockIsAllowed() {
    dep("n1", "kthread t", LockClass.RESV, MAP, 0);
    assertEquals(List.of(), kinds());
  }

  @Test
  void aWaitInsideAnMmuNotifierHoldingItsOwnLockIsAllowed() {
    dep("n1", "gpu userptr notifier", LockClass.MMU_NOTIFIER, LockClass.NOTIFIER_LOCK, 0)
        .dep("n1", "gpu userptr notifier", LockClass.NOTIFIER_LOCK, MAP, 0)
        .dep("n1", "submit ioctl", LockClass.RESV, LockClass.NOTIFIER_LOCK, 0);
    assertEquals(List.of(), kinds());
  }

  @Test
  void theNotifierLockInASectionIsV4OnceTheCallbackWaitedHoldingIt() {
    dep("n2", "gpu.ring0 run_job", MAP, LockClass.NOTIFIER_LOCK, LockOrder.IN_SECTION)
        .dep("n2", "gpu userptr notifier", LockClass.MMU_NOTIFIER, LockClass.NOTIFIER_LOCK, 0)
        .dep("n2", "gpu userptr notifier", LockClass.NOTIFIER_LOCK, MAP, 0);
    assertEquals(List.of("SIGNALLING_LOCK"), kinds());
  }

  @Test
  void halvesSeenOnTwoMembersOfOneHostCloseOneCycle() {
    dep("n1", "kthread B", "L", MAP, 0).dep("n2", "kthread A", MAP, "L", LockOrder.IN_SECTION);
    assertEquals(List.of("SIGNALLING_LOCK"), kinds());
  }

  @Test
  void halvesSeenOnTwoHostsAreTwoMachinesAndNoCycle() {
    hosts = Map.of("n1", "h1", "n2", "h2");
    dep("n1", "kthread B", "L", MAP, 0).dep("n2", "kthread A", MAP, "L", LockOrder.IN_SECTION);
    assertEquals(List.of(), kinds());
  }

  @Test
  void aCycleIsReportedOnceEvenWhenAnotherMemberSeesTheSameDependency() {
    dep("n1", "gpuA.ring0 run_job", MAP, LockClass.FS_RECLAIM, LockOrder.IN_SECTION)
        .dep("n2", "gpuB.ring0 run_job", MAP, LockClass.FS_RECLAIM, LockOrder.IN_SECTION);
    assertEquals(List.of("SIGNALLING_ALLOC"), kinds());
  }

  @Test
  void theSightingsAreOrderedByAlignedTimeNotByArrival() {
    events.add(TraceEvent.newBuilder().setKind(EventKind.LOCK_DEP).setNode("n2").setTrack("kthread A").setSubject(MAP).setName("L")
        .setStatus(LockOrder.IN_SECTION).setWallNanos(200).build());
    events.add(TraceEvent.newBuilder().setKind(EventKind.LOCK_DEP).setNode("n1").setTrack("kthread B").setSubject("L").setName(MAP)
        .setWallNanos(100).build());
    List<LockOrder.Finding> f = check();
    assertEquals("kthread A", f.get(0).at().getTrack()); // B's wait came first: A's lock closed the cycle
  }

  @Test
  void theReportGivesTheNewDependencyAndTheExistingChainWithWhereEachLinkWasFirstSeen() {
    dep("n1", "kthread B", "L", MAP, 0).dep("n2", "kthread A", MAP, "L", LockOrder.IN_SECTION);
    String d = check().get(0).detail();
    assertTrue(d.contains("§1.18 V4"), d);
    assertTrue(d.contains("new dependency dma_fence_map -> L: first seen on n2 in kthread A"), d);
    assertTrue(d.contains("#0 L -> dma_fence_map: first seen on n1 in kthread B"), d);
  }

  @Test
  void theReportOfV1NamesThePrimingChainItClosed() {
    dep("n1", "kthread t", MAP, LockClass.FS_RECLAIM, LockOrder.IN_SECTION);
    String d = check().get(0).detail();
    assertTrue(d.contains("fs_reclaim -> mmu_notifier_invalidate_range_start: taught at boot"), d);
    assertTrue(d.contains("mmu_notifier_invalidate_range_start -> dma_fence_map: taught at boot"), d);
  }
}
