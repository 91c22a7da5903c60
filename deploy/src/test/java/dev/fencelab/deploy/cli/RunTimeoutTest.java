package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RunTimeoutTest {
  @Test
  void aSmallScenarioIsBoundByTenMinutes() {
    assertEquals(Duration.ofMinutes(10), RunCommand.runTimeout(null, 2_000));
  }

  @Test
  void aLargeScenarioGetsTwentyMillisecondsPerStep() {
    assertEquals(Duration.ofSeconds(2_000), RunCommand.runTimeout(null, 100_000));
  }

  @Test
  void anExplicitRunTimeoutWinsWhateverTheSize() {
    assertEquals(Duration.ofMinutes(3), RunCommand.runTimeout("3m", 100_000));
  }
}
