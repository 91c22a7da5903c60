package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class ChainSvgTest {
  private static final List<String> CHAIN = List.of(
      "fB is the out-fence of job consume on n2 gpuB/engine0, waiting for 2 in-fence(s):",
      "  fA belongs to node n1, killed at +1.20s",
      "  fX is the out-fence of job x on n3 gpuC/engine0, waiting for 1 in-fence(s):",
      "    cycle: fX -> fB -> fX");


  @Test
  void eachLinkIsABoxIndentedByItsDepth() throws Exception {
    List<Element> boxes = Svg.elements(ChainSvg.svg(CHAIN), "rect", "");
    assertEquals(4, boxes.size());
    assertEquals(List.of("8", "34", "34", "60"), boxes.stream().map(b -> b.getAttribute("x")).toList());
  }

  @Test
  void eachLinkBelowTheFirstIsJoinedToTheOneItExplains() throws Exception {
    List<Element> edges = Svg.elements(ChainSvg.svg(CHAIN), "path", "");
    assertEquals(3, edges.size());
    assertEquals("M44 80 V98 H60", edges.get(2).getAttribute("d"), "the cycle hangs under fX (row 2, bottom at 80), not under fA (52)");
  }

  @Test
  void aCycleIsMarkedAsOne() throws Exception {
    List<Element> boxes = Svg.elements(ChainSvg.svg(CHAIN), "rect", "");
    assertEquals(List.of("link", "link", "link", "link cycle"), boxes.stream().map(b -> b.getAttribute("class")).toList());
  }
}
