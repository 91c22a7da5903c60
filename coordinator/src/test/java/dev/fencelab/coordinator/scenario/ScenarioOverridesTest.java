package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** --set and the matrix: one field of one named object, checked like the rest of the scenario. */
class ScenarioOverridesTest {
  private static final String BASE = """
      name: t
      nodes: [{name: n1}]
      devices: [{name: gpu, node: n1}]
      processes: [{name: p, node: n1}]
      steps: [{id: s, process: p, mmap: {as: r, length: 4KiB}}]
      """;

  private static ScenarioLoader.Loaded base(String extra) throws ScenarioException {
    return ScenarioLoader.parse(BASE + extra, "t.yaml", false);
  }

  @Test
  void aSetChangesTheNamedDevicesFieldWithItsType() throws Exception {
    var s = ScenarioOverrides.with(base(""), List.of("gpu.run_job_allocates=nofs", "gpu.signalling_path_takes_resv=true",
        "gpu.engines=2", "settings.pace=realtime")).scenario();
    assertEquals("nofs", s.getDevices(0).getRunJobAllocates());
    assertTrue(s.getDevices(0).getSignallingPathTakesResv());
    assertEquals(2, s.getDevices(0).getEngines());
    assertEquals("realtime", s.getSettings().getPace());
  }

  @Test
  void aSetOfAnUnknownObjectOrFieldOrAMistypedValueIsAProblemEach() throws Exception {
    var loaded = base("");
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioOverrides.with(loaded, List.of("gpu9.engines=2",
        "gpu.colour=red", "gpu.no_page_tables=maybe", "=2"))).problems();
    assertEquals(4, p.size(), p.toString());
    assertTrue(p.get(0).contains("no device, node, process, buffer or host is named 'gpu9'"), p.toString());
    assertTrue(p.get(1).contains("has no field 'colour'"), p.toString());
    assertTrue(p.get(2).contains("'maybe' is not a value of no_page_tables"), p.toString());
    assertTrue(p.get(3).contains("write OBJECT.FIELD=VALUE"), p.toString());
  }

  @Test
  void aFieldWithoutAnObjectIsASettingsField() throws Exception {
    var loaded = base("");
    assertEquals("2020", ScenarioOverrides.with(loaded, List.of("resv_mode=2020")).scenario().getSettings().getResvMode());
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioOverrides.with(loaded, List.of("engines=2"))).problems();
    assertTrue(p.get(0).contains("has no field 'engines'"), p.toString());
  }

  @Test
  void aSetIsValidatedLikeTheFile() throws Exception {
    var loaded = base("");
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioOverrides.with(loaded, List.of("gpu.run_job_allocates=lots")))
        .problems();
    assertTrue(p.get(0).contains("run_job_allocates must be kernel, nofs, noio, atomic, nowait or none"), p.toString());
  }

  @Test
  void eachVariantIsTheScenarioWithItsSetsAndItsOwnExpectations() throws Exception {
    var variants = ScenarioOverrides.variants(base("""
        expect: {steps_fail: [s]}
        matrix:
          - {name: plain}
          - {name: atomic, set: [gpu.run_job_allocates=atomic], expect: {}}
        """), List.of());
    assertEquals(List.of("t[plain]", "t[atomic]"), variants.stream().map(v -> v.scenario().getName()).toList());
    assertEquals(List.of("s"), variants.get(0).scenario().getExpect().getStepsFailList());
    assertEquals("atomic", variants.get(1).scenario().getDevices(0).getRunJobAllocates());
    assertEquals(List.of(), variants.get(1).scenario().getExpect().getStepsFailList());
    assertEquals(0, variants.get(1).scenario().getMatrixCount());
  }

  @Test
  void aMatrixWithARepeatedNameOrABadSetIsRefusedWhenTheFileIsChecked() {
    List<String> p = assertThrows(ScenarioException.class, () -> base("""
        matrix:
          - {name: a}
          - {name: a, set: [gpu.nope=1]}
        """)).problems();
    assertTrue(p.stream().anyMatch(x -> x.contains("a second variant named 'a'")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.contains("has no field 'nope'")), p.toString());
  }
}
