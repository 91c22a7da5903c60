package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A bad scenario ends {@code fencelab run} with exit code 2 and an error naming the problem and its line, before any node starts. */
class MalformedScenarioIT {
  @TempDir Path dir;

  private static final String HEAD = """
      name: bad
      nodes:
        - {name: n1}
      devices:
        - {name: gpu, node: n1}
      processes:
        - {name: p, node: n1}
      """;

  private LauncherIT.Run run(String yaml) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, yaml);
    return LauncherIT.fencelab("run", file.toString(), "--out", dir.resolve("out").toString());
  }

  private void assertRejected(LauncherIT.Run run, String... fragments) {
    assertEquals(2, run.exitCode(), run.all());
    assertTrue(run.stderr().startsWith("error: ") && run.stderr().contains("bad.yaml"), run.all()); // one problem: one line
    for (String f : fragments) {
      assertTrue(run.stderr().contains(f), "expected '" + f + "' in:\n" + run.all());
    }
    assertFalse(Files.exists(dir.resolve("out").resolve("cluster.json")), "no node was started");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void shouldRejectAnUnknownFieldNamingItAndItsLine() throws Exception {
    assertRejected(run(HEAD + "steps:\n  - id: a\n    process: p\n    submitt: {device: gpu}\n"),
        "bad.yaml:11: unknown field 'steps[0].submitt'", "Step has:");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void shouldRejectAWrongTypeNamingTheFieldAndItsLine() throws Exception {
    assertRejected(run(HEAD + "steps:\n  - id: a\n    process: p\n    submit: {device: gpu, engine: two}\n"),
        "bad.yaml:11: 'steps[0].submit.engine' must be a whole number, not text \"two\"");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void shouldRejectAnUnknownDevice() throws Exception {
    assertRejected(run(HEAD + "steps:\n  - id: a\n    process: p\n    submit: {device: gpu9}\n"),
        "bad.yaml:11: unknown device 'gpu9'");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void shouldRejectCyclicStepDependenciesWithTheCycle() throws Exception {
    assertRejected(run(HEAD + """
        steps:
          - id: a
            after: [c]
            pause: {duration: 1ms}
          - id: b
            pause: {duration: 1ms}
          - id: c
            pause: {duration: 1ms}
        """), "step dependencies form a cycle: a -> b -> c -> a");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void shouldRejectADeviceOnAnUndeclaredNode() throws Exception {
    assertRejected(run(HEAD + "  - {name: q, node: n7}\n"),
        "bad.yaml:8: process 'q' is on node 'n7', which the scenario does not declare");
  }
}
