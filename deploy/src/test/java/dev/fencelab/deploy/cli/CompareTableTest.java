package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompareTableTest {
  @Test
  void rowsWhoseVariantsDifferAreMarkedAndCounted() {
    Map<String, List<String>> rows = CompareTable.rows();
    rows.put("verdict", List.of("FAIL", "PASS"));
    rows.put("steps", List.of("12", "12"));
    String table = CompareTable.render(List.of("resv_mode=2020", "resv_mode=modern"), rows);
    List<String> lines = table.lines().toList();
    assertTrue(lines.get(1).startsWith("* verdict"), table);
    assertTrue(lines.get(2).startsWith("  steps"), table);
    assertEquals("1 row(s) differ (*)", lines.get(3));
  }

  @Test
  void columnsLineUpUnderTheirVariant() {
    Map<String, List<String>> rows = CompareTable.rows();
    rows.put("violations", List.of("RESV_REPLACE_HAZARD", "-"));
    List<String> lines = CompareTable.render(List.of("a", "b"), rows).lines().toList();
    assertEquals(lines.get(0).indexOf("b"), lines.get(1).indexOf("-"));
  }

  @Test
  void identicalVariantsSaySo() {
    Map<String, List<String>> rows = CompareTable.rows();
    rows.put("verdict", List.of("PASS", "PASS"));
    assertTrue(CompareTable.render(List.of("a", "b"), rows).endsWith("no differences\n"));
  }

  @Test
  void aRowWithTheWrongNumberOfCellsIsRefused() {
    Map<String, List<String>> rows = CompareTable.rows();
    rows.put("verdict", List.of("PASS"));
    assertThrows(IllegalArgumentException.class, () -> CompareTable.render(List.of("a", "b"), rows));
  }
}
