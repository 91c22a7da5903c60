package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The run's wait-for graph: cycles found when their last edge arrives, reported once, and reported broken. */
class WaitForGraphTest {
  private final WaitForGraph g = new WaitForGraph();
  private long ids;

  private WaitForGraph.Edge edge(String node, String from, String to) {
    return new WaitForGraph.Edge(node, ++ids, from, to, "waits");
  }

  /** The D4 cycle of §3.5, edge by edge, on the members that see each wait. */
  private List<WaitForGraph.Edge> d4() {
    return List.of(edge("n3", "P munmap", "gpuB/u invalidate"), edge("n2", "gpuB/u invalidate", "fenceB"),
        edge("n2", "fenceB", "gpuB job consume"), edge("n2", "gpuB job consume", "mmap_lock P"), edge("n3", "mmap_lock P", "P munmap"));
  }

  @Test
  void aChainWithoutACycleIsNotADeadlock() {
    assertNull(g.add(edge("n1", "a", "b")));
    assertNull(g.add(edge("n2", "b", "c")));
    assertNull(g.add(edge("n1", "x", "b")));
  }

  @Test
  void theEdgeThatClosesACrossNodeCycleReportsTheWholeChainInOrder() {
    List<WaitForGraph.Edge> cycle = d4();
    for (int i = 0; i < cycle.size() - 1; i++) {
      assertNull(g.add(cycle.get(i)));
    }
    WaitForGraph.Cycle found = g.add(cycle.get(cycle.size() - 1));
    assertNotNull(found);
    assertEquals(5, found.edges().size());
    assertEquals("mmap_lock P -> P munmap -> gpuB/u invalidate -> fenceB -> gpuB job consume -> mmap_lock P", found.path());
    assertTrue(found.chain().contains("(waits, on n2)") && found.chain().contains("(waits, on n3)"), found.chain());
  }

  @Test
  void aCycleIsReportedOnceEvenWhenAnEdgeIsReAdded() {
    List<WaitForGraph.Edge> cycle = d4();
    cycle.forEach(g::add);
    assertNull(g.add(cycle.get(2)));
  }

  @Test
  void removingAnEdgeOfAReportedCycleReportsItBrokenByThatEdge() {
    List<WaitForGraph.Edge> cycle = d4();
    cycle.forEach(g::add);
    List<WaitForGraph.Broken> broken = g.remove(cycle.get(2).key());
    assertEquals(1, broken.size());
    assertEquals("fenceB", broken.get(0).edge().from());
    assertTrue(g.remove(cycle.get(3).key()).isEmpty(), "reported broken once");
  }

  @Test
  void aDeadMembersEdgesAreAllItsOwn() {
    d4().forEach(g::add);
    assertEquals(3, g.keysOf("n2").size());
  }

  @Test
  void aSelfWaitIsACycleOfOneEdge() {
    WaitForGraph.Cycle c = g.add(edge("n1", "remove N", "remove N"));
    assertNotNull(c);
    assertEquals(1, c.edges().size());
  }
}
