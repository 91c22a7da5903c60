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
  void shouldLoadAYamlScenarioLargerThanTheYamlParsersOwnLimit() throws Exception {
    StringBuilder yaml = new StringBuilder(BASE).append("steps:\n");
    int steps = 0;
    while (yaml.length() < 4 << 20) { // over SnakeYAML's default 3 MiB of code points, under our 8 MiB
      yaml.append("- {process: p, submit: {device: gpu, duration: 1ms}}\n");
      steps++;
    }
    assertEquals(steps, ScenarioLoader.parse(yaml.toString(), "big.yaml", false).scenario().getStepsCount());
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
  void shouldRejectAStepWithTwoOldStyleActions() {
    List<String> p = problems(BASE + "steps:\n  - {id: x, pause: {duration: 1ms}, kill_node: {node: n1}}\n");
    assertTrue(p.get(0).contains("a step does one thing; it already has 'pause'"), p.toString());
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

  // --- scenario engine v2: actions as a oneof, expectations, protocol steps

  @Test
  void shouldRejectAStepWithTwoActions() {
    List<String> p = problems(BASE + "steps:\n  - {id: a, fence: {as: f}, signal: {fence: f}}\n");
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:6: 'steps[0].signal': a step does one thing; it already has 'fence'")), p.toString());
  }

  @Test
  void shouldReadAnExpectWithScalarsNullListsAndNamedOutputs() throws Exception {
    Scenario s = ScenarioLoader.parse(BASE + "steps:\n  - {id: a, fence: {as: f}, expect: {ret: 0, value: 3}}\n"
        + "  - {id: b, find_seqno: {fence: f, seqno: 1}, expect: {value: null}}\n"
        + "  - {id: c, unwrap: {fence: f}, expect: {values: [f], count: 1}}\n"
        + "  - {id: d, process: p, sync_file: {fence: f, as: sf}}\n"
        + "  - {id: e, process: p, file_info: {fd: sf}, expect: {out: {num_fences: 1, status: 0}}}\n", "t.yaml", false).scenario();
    assertEquals("3", s.getSteps(0).getExpect().getValue());
    assertEquals("null", s.getSteps(1).getExpect().getValue());
    assertEquals(List.of("f"), s.getSteps(2).getExpect().getValuesList());
    assertEquals(1, s.getSteps(2).getExpect().getCount());
    assertEquals("1", s.getSteps(4).getExpect().getOutMap().get("num_fences"));
  }

  @Test
  void shouldTakeALiteralFdNumberAsAnFdNotAName() throws Exception {
    Scenario s = ScenarioLoader.parse(BASE + "steps:\n  - {id: a, process: p, close: {fd: -1}, expect: {errno: EBADF}}\n", "t.yaml", false)
        .scenario();
    assertEquals("-1", s.getSteps(0).getClose().getFd());
  }

  @Test
  void shouldRejectACallbackUsedBeforeItIsAdded() {
    List<String> p = problems(BASE + "steps:\n  - {id: a, fence: {as: f}}\n  - {id: b, callback_seen: {callback: cb}}\n"
        + "  - {id: c, add_callback: {fence: f, as: cb}}\n");
    assertTrue(p.stream().anyMatch(x -> x.contains("uses callback 'cb' but does not come after step 'c'")), p.toString());
  }

  @Test
  void shouldRejectAnUnknownErrnoInAnExpect() {
    List<String> p = problems(BASE + "steps:\n  - {id: a, fence: {as: f}, expect: {errno: ENOTANERRNO}}\n");
    assertTrue(p.stream().anyMatch(x -> x.contains("unknown errno 'ENOTANERRNO'")), p.toString());
  }

  @Test
  void shouldListFieldReferenceAndOrderProblemsInOnePass() {
    List<String> p = problems(BASE + "steps:\n  - {id: a, after: [b], get_status: {fence: nope}}\n  - {id: b, after: [a], stub: {as: s}}\n"
        + "  - {id: c, wiat: {fence: s}}\n");
    assertTrue(p.stream().anyMatch(x -> x.contains("unknown field 'steps[2].wiat'")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.contains("unknown fence 'nope'")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.contains("form a cycle")), p.toString());
    assertEquals(3, p.size(), p.toString());
  }

  @Test
  void nestingDeeperThanTheLimitIsRefusedWithItsLine() {
    List<String> p = problems("name: d\nnodes: " + "[".repeat(100) + "]".repeat(100) + "\n");
    assertEquals(List.of("t.yaml:2: not valid YAML: nested deeper than 64 levels"), p);
  }

  @Test
  void moreNodesThanTheLimitIsOneProblem() {
    StringBuilder nodes = new StringBuilder();
    for (int i = 0; i < 65; i++) {
      nodes.append(i == 0 ? "" : ", ").append("{name: n").append(i).append("}");
    }
    assertEquals(List.of("t.yaml:2: at most 64 nodes, not 65"), problems("name: d\nnodes: [" + nodes + "]\n"));
  }

  @Test
  void aNameLongerThanTheLimitIsReportedCut() {
    List<String> p = problems(BASE.replace("{name: gpu,", "{name: " + "g".repeat(200) + ","));
    assertTrue(p.stream().anyMatch(x -> x.contains("a name is at most 128 characters ('ggggg") && x.contains("...' has 200)")), p.toString());
  }

  @Test
  void aThousandProblemsAreListedAsFiftyAndACount() {
    StringBuilder steps = new StringBuilder("steps:\n");
    for (int i = 0; i < 1000; i++) {
      steps.append("  - {process: p, wait: {fence: ghost").append(i).append(", timeout: 1s}}\n");
    }
    List<String> p = problems(BASE + steps);
    assertEquals(51, p.size());
    assertEquals("… and 950 more problems", p.get(50));
  }

  @Test
  void aFileThatIsNotUtf8TextIsRefusedAsSuch(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file = dir.resolve("bin.yaml");
    java.nio.file.Files.write(file, new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xfa});
    ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioLoader.load(file));
    assertEquals(List.of(file + ": not UTF-8 text (a binary file?); a scenario is YAML or JSON"), e.problems());
  }

  @Test
  void aYamlSyntaxErrorIsOneLineWithWhatWasExpectedAndWhere() {
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioLoader.parse("name: x\nnodes: [{name: n1}\nsteps: [}\n", "t.yaml",
        false)).problems();
    assertEquals(1, p.size(), p.toString());
    assertTrue(!p.get(0).contains("\n") && p.get(0).startsWith("t.yaml:") && p.get(0).contains("expected ',' or ']'"), p.get(0));
  }
}
