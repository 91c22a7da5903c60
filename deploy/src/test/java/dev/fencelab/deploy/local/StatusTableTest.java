package dev.fencelab.deploy.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.coordinator.OpenWaits;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusTableTest {
  private static String printed(OpenWaits.Graph g) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StatusTable.printWaits(g, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theOpenWaitsAreListedPerNodeWithTheirAgeAndTheCycleAsADeadlock() {
    OpenWaits.Edge a = new OpenWaits.Edge("n1", 1, "job a", "fence b#1", "in-fence", 10_000);
    OpenWaits.Edge b = new OpenWaits.Edge("n2", 7, "fence b#1", "job a", "", 11_000);
    OpenWaits.Graph g = new OpenWaits.Graph(12_500, List.of(new OpenWaits.Node("n1", "pekko://x@h:1", true, 1, 1),
        new OpenWaits.Node("n2", "pekko://x@h:2", true, 1, 1), new OpenWaits.Node("?", "pekko://x@h:3", false, 0, 0)),
        List.of(a, b), List.of(new OpenWaits.Cycle("fence b#1 -> job a -> fence b#1", List.of(b, a))));
    String out = printed(g);
    assertTrue(out.contains("open waits: 2 (n1 1, n2 1, ? no answer)"), out);
    assertTrue(out.contains("n1   job a -> fence b#1 (in-fence, open 2.5 s)"), out);
    assertTrue(out.contains("n2   fence b#1 -> job a (wait, open 1.5 s)"), out);
    assertTrue(out.contains("DEADLOCK: 1 cycle of open waits"), out);
    assertTrue(out.contains("    on n2: fence b#1 waits for job a (wait)"), out);
  }

  @Test
  void noWaitMeansNoDeadlockAndManyWaitsAreCutWithACount() {
    assertTrue(printed(new OpenWaits.Graph(0, List.of(), List.of(), List.of())).contains("no deadlock"));
    List<OpenWaits.Edge> many = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      many.add(new OpenWaits.Edge("n1", i, "w" + i, "f" + i, "", 0));
    }
    String out = printed(new OpenWaits.Graph(0, List.of(new OpenWaits.Node("n1", "a", true, 60, 60)), many, List.of()));
    assertEquals(StatusTable.WAITS_SHOWN, out.lines().filter(l -> l.startsWith("  n1 ")).count());
    assertTrue(out.contains("... 10 more"), out);
    assertTrue(out.contains("no deadlock: no cycle among the open waits"), out);
  }
}
