package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a run without --out is kept, and how it is run again. */
class KeptRunsTest {
  @TempDir Path base;

  @Test
  void aRunIsKeptInADirectoryNamedByItsTimeAndSeedNeverReused() throws Exception {
    Path first = KeptRuns.next(base, 7);
    assertTrue(first.getFileName().toString().matches("\\d{8}-\\d{6}-seed7"), first.toString());
    Files.createDirectories(first);
    assertNotEquals(first, KeptRuns.next(base, 7), "a second run in the same second gets its own directory");
  }

  @Test
  void latestPointsAtTheNewestRun() throws Exception {
    Path a = Files.createDirectories(base.resolve("a"));
    Path b = Files.createDirectories(base.resolve("b"));
    KeptRuns.latest(a);
    KeptRuns.latest(b);
    assertEquals(b.toRealPath(), base.resolve("latest").toRealPath());
  }

  @Test
  void theReplayOfARunPinsItsSeed() {
    assertEquals("fencelab run demo --pace realtime --seed 42", KeptRuns.replay("fencelab run demo --pace realtime", 42, "scenarios/demo.yaml"));
    assertEquals("fencelab run demo --seed 3", KeptRuns.replay("fencelab run demo --seed 3", 3, "scenarios/demo.yaml"));
  }

  @Test
  void theReplayOfACampaignRunIsASingleRunOfItsSeed() {
    assertEquals("fencelab run hot-unplug-exporter --seed 9",
        KeptRuns.replay("fencelab chaos hot-unplug-exporter --runs 100", 9, "scenarios/hot-unplug-exporter.yaml"));
  }
}
