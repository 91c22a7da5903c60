package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScenarioLoaderTest {
  private static final String BASE = """
      name: t
      nodes: [{name: n1}, {name: n2}]
      devices: [{name: gpu, node: n1}]
      processes: [{name: p, node: n1}, {name: q, node: n2}]
      """;

  private static List<String> problems(String yaml) {
    return assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(yaml, "t.yaml", false)).problems();
  }

  @Test
  void shouldLoadAValidScenarioFromYaml() throws Exception {
    Scenario s = ScenarioLoader.parse(BASE + "steps:\n  - {id: a, process: p, submit: {device: gpu, duration: 1ms, out_fence: f}}\n"
        + "  - {id: b, process: p, wait: {fence: f, timeout: 1s}}\n", "t.yaml", false).scenario();
    assertEquals("gpu", s.getSteps(0).getSubmit().getDevice());
    assertEquals("f", s.getSteps(1).getWait().getFence());
  }

  @Test
  void shouldLoadTheSameScenarioFromJson() throws Exception {
    Scenario s = ScenarioLoader.parse("{\"name\": \"j\", \"nodes\": [{\"name\": \"n1\"}], \"processes\": [{\"name\": \"p\", \"node\": \"n1\"}],"
        + " \"steps\": [{\"process\": \"p\", \"timeline\": {\"name\": \"t\"}}]}", "t.json", true).scenario();
    assertEquals("t", s.getSteps(0).getTimeline().getName());
  }

  @Test
  void shouldNameTheLineOfAnUnknownField() {
    List<String> p = problems(BASE + "steps:\n  - id: a\n    wiat: {fence: f}\n");
    assertEquals(1, p.size(), p.toString());
    assertTrue(p.get(0).startsWith("t.yaml:7: unknown field 'steps[0].wiat'"), p.get(0));
  }

  @Test
  void shouldRejectAListWhereAMappingBelongs() {
    List<String> p = problems(BASE + "settings: [asap]\n");
    assertTrue(p.get(0).contains("'settings' must be a mapping"), p.toString());
  }

  @Test
  void shouldRejectAFenceUsedByAStepThatDoesNotComeAfterItsProducer() {
    List<String> p = problems(BASE + "steps:\n  - {id: w, process: p, wait: {fence: f}}\n"
        + "  - {id: s, start_at_once: true, process: p, submit: {device: gpu, out_fence: f}}\n");
    assertTrue(p.stream().anyMatch(x -> x.contains("uses fence 'f' but does not come after step 's'")), p.toString());
  }

  @Test
  void shouldRejectABufferWhoseProcessIsOnAnotherNode() {
    List<String> p = problems(BASE + "buffers: [{name: b, device: gpu, process: q, size: 1MiB}]\n");
    assertTrue(p.get(0).contains("process 'q' is on node n2, device 'gpu' on node n1"), p.toString());
  }

  @Test
  void shouldRejectAStepWithTwoActions() {
    List<String> p = problems(BASE + "steps:\n  - {id: x, pause: {duration: 1ms}, kill_node: {node: n1}}\n");
    assertTrue(p.get(0).contains("must have exactly one action"), p.toString());
  }

  @Test
  void shouldDrawTheSameRandomScheduleForTheSameSeedOnly() throws Exception {
    Scenario s = ScenarioLoader.parse(BASE + "steps: [{id: a, pause: {duration: 1ms}}]\nchaos:\n  random: {count: 3, kinds: [kill_node, hang],"
        + " targets: [n2, gpu], from: 10ms, to: 900ms}\n", "t.yaml", false).scenario();
    List<Fault> a = ChaosSchedule.plan(s, 11);
    assertEquals(a, ChaosSchedule.plan(s, 11));
    assertTrue(!a.equals(ChaosSchedule.plan(s, 12)), "another seed draws another schedule");
    for (Fault f : a) {
      assertTrue(f.getKillNode().equals("n2") || f.getHang().equals("gpu"), "kinds fit their targets: " + f);
    }
  }
}
