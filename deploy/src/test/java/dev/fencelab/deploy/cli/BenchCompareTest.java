package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.deploy.UserError;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two saved bench runs compared through their ratios against raw Pekko. */
class BenchCompareTest {
  @TempDir Path dir;

  private static BenchCompare.Figure figure(double ratio, boolean higherIsBetter) {
    return new BenchCompare.Figure("f", "us", 1, 1, ratio, higherIsBetter);
  }

  @Test
  void aRateWhoseRatioToRawDoubledIsTwiceAsGood() {
    assertEquals(2.0, BenchCompare.change(figure(0.25, true), figure(0.5, true)), 1e-9);
  }

  @Test
  void aLatencyWhoseRatioToRawHalvedIsTwiceAsGood() {
    assertEquals(2.0, BenchCompare.change(figure(4.0, false), figure(2.0, false)), 1e-9);
  }

  @Test
  void aFileWithoutFiguresIsBadInputNamingTheFile() throws Exception {
    Path f = Files.writeString(dir.resolve("x.json"), "{\"machine\": {}}");
    UserError e = assertThrows(UserError.class, () -> BenchCompare.read(f));
    assertTrue(e.getMessage().contains(f + " is not a bench --json file"), e.getMessage());
  }

  @Test
  void aFigureOfOnlyOneRunIsListedAsSuch() throws Exception {
    Path a = Files.writeString(dir.resolve("a.json"), "{\"figures\": [{\"name\": \"x.rate\", \"value\": 5, \"baseline\": 10, "
        + "\"ratio\": 0.5, \"higherIsBetter\": true}]}");
    Path b = Files.writeString(dir.resolve("b.json"), "{\"figures\": [{\"name\": \"y.rate\", \"value\": 5, \"baseline\": 10, "
        + "\"ratio\": 0.5, \"higherIsBetter\": true}]}");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BenchCompare.print(a, b, new PrintStream(out, true, StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("(only in A)") && text.contains("(only in B)"), text);
  }
}
