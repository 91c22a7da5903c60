package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The conformance library ({@code scenarios/conformance/}: the kernel's st-dma-fence, st-dma-fence-chain,
 * st-dma-fence-unwrap, st-dma-resv and IGT sw_sync and dmabuf_sync_file tests translated into scenarios, their
 * expectations taken from the kernel) run
 * as a user runs it — {@code fencelab run scenarios/conformance} — on one local cluster of real JVMs with
 * {@code serialize-messages = on}: every scenario passes, and each has its own verdict.
 */
class ConformanceIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void everyConformanceScenarioPassesOnOneCluster() throws Exception {
    Path library = ScenarioLibraryIT.scenario("conformance/x").getParent();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(library)) {
      files = walk.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertTrue(files.size() >= 70, "the library has the translated test functions: " + files.size());
    Path out = logs.track(TestCluster.newRunDir("conformance"));

    LauncherIT.Run run = LauncherIT.fencelab("run", library.toString(), "--out", out.toString(), LauncherIT.SERIALIZE_ON);

    assertEquals(0, run.exitCode(), run.all());
    assertTrue(run.stdout().contains(files.size() + " passed, 0 failed"), run.all());
    ObjectMapper json = new ObjectMapper();
    int verdicts = 0;
    try (Stream<Path> dirs = Files.list(out)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        JsonNode verdict = json.readTree(d.resolve("verdict.json").toFile());
        assertEquals("PASS", verdict.get("verdict").asText(), d + ": " + verdict.toPrettyString());
        verdicts++;
      }
    }
    assertEquals(files.size(), verdicts, "one verdict per scenario");
  }
}
