package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The checker fails a run that leaks: a job on n2 waits on a sw_sync point of n1 that nobody advances; the waiter on
 * n2 gives up (timeout). The verdict is FAIL (exit 1), and it explains the pending fence down to the timeline.
 */
class VerdictFailureIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void shouldFailARunThatLeaksAFenceAndExplainItsWaitForChain() throws Exception {
    Path out = logs.track(TestCluster.newRunDir("leak"));
    Path file = Files.createTempFile("leak", ".yaml");
    Files.writeString(file, """
        name: leak
        nodes: [{name: n1}, {name: n2}]
        devices: [{name: gpu, node: n2}]
        processes: [{name: p1, node: n1}, {name: p2, node: n2}]
        steps:
          - {id: tl, process: p1, timeline: {name: forgotten}}
          - {id: pt, process: p1, point: {timeline: forgotten, value: 1, as: never}}
          - {id: give, process: p1, pass: {name: never, to: p2}}
          - {id: job, process: p2, submit: {device: gpu, duration: 1ms, in_fences: [never], out_fence: blocked}}
          - {id: wait, process: p2, wait: {fence: blocked, timeout: 300ms}}
        expect:
          waits: [{step: wait, result: timeout}]
        """);
    LauncherIT.Run run = LauncherIT.fencelab("run", file.toString(), "--out", out.toString(), LauncherIT.SERIALIZE_ON);

    assertEquals(1, run.exitCode(), run.all());
    assertTrue(run.stdout().contains("verdict: FAIL"), run.all());
    JsonNode verdict = new ObjectMapper().readTree(out.resolve("verdict.json").toFile());
    boolean explained = false;
    for (JsonNode f : verdict.get("failures")) {
      if (f.get("check").asText().equals("no-pending-fence") && f.get("chain").toString().contains("waiting for 1 in-fence")
          && f.get("chain").toString().contains("sw_sync timeline")) {
        explained = true;
      }
    }
    assertTrue(explained, "the job's fence is explained down to the timeline: " + verdict.toPrettyString());
  }
}
