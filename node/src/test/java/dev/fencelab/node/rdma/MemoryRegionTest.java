package dev.fencelab.node.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.mm.Frames;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An ODP MR's translation: covered ranges, the zap of the invalidate callback, and faults mapping pages back. */
class MemoryRegionTest {
  private static final long PAGE = 4096;
  private final MemoryRegion mr = new MemoryRegion("mr", "pd", "n1/P", null, 0x10000, 8 * PAGE, Verbs.LOCAL_WRITE | Verbs.ON_DEMAND, true);

  @Test
  void nothingIsCoveredBeforeAFault() {
    assertFalse(mr.covers(0x10000, 1));
  }

  @Test
  void aFaultedRunCoversItsPagesOnly() {
    mr.map(List.of(new Frames(0x10000, 4, 100)));
    assertTrue(mr.covers(0x10000, 4 * PAGE));
    assertTrue(mr.covers(0x10000 + 100, 200));
    assertFalse(mr.covers(0x10000, 4 * PAGE + 1));
  }

  @Test
  void theZapDropsTheInvalidatedPagesAndKeepsTheOthers() {
    mr.map(List.of(new Frames(0x10000, 8, 100)));
    assertEquals(2, mr.zap(0x10000 + 2 * PAGE, 0x10000 + 4 * PAGE));
    assertEquals(List.of(new Frames(0x10000, 2, 100), new Frames(0x10000 + 4 * PAGE, 4, 104)), mr.translation());
    assertFalse(mr.covers(0x10000 + 2 * PAGE, 1));
    assertTrue(mr.covers(0x10000 + 4 * PAGE, 4 * PAGE));
  }

  @Test
  void aFaultAfterTheZapMapsTheNewFrames() {
    mr.map(List.of(new Frames(0x10000, 8, 100)));
    mr.zap(0x10000, 0x10000 + 8 * PAGE);
    mr.map(List.of(new Frames(0x10000, 8, 500)));
    assertEquals(List.of(new Frames(0x10000, 8, 500)), mr.translation());
  }

  @Test
  void containsChecksTheRegionsBounds() {
    assertTrue(mr.contains(0, 8 * PAGE));
    assertFalse(mr.contains(PAGE, 8 * PAGE));
    assertFalse(mr.contains(-1, 1));
  }
}
