package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The scenario library that ships with the CLI: every file of scenarios/, by its path under it. */
class BundledScenariosTest {
  @Test
  void aScenarioInASubdirectoryIsReadByItsBundledName() {
    assertTrue(BundledScenarios.read("conformance/st-dma-fence/test_error").isPresent());
    assertTrue(BundledScenarios.read("signalling/d1-mitigations.yaml").isPresent());
  }

  @Test
  void theListNamesSubdirectoriesButCountsTheConformanceSet() {
    List<String> names = BundledScenarios.list().stream().map(BundledScenarios.Entry::name).toList();
    assertTrue(names.contains("demo") && names.contains("signalling/d3-lock-around-wait"), names.toString());
    assertFalse(names.stream().anyMatch(n -> n.startsWith("conformance/")), names.toString());
    assertTrue(BundledScenarios.countUnder("conformance/") >= 90);
  }
}
