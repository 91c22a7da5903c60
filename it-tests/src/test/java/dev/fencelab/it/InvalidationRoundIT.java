package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The mmu-notifier invalidation round across members (kernel-semantics §3.1), as users run it: the bundled
 * {@code userptr-notifier-waits} on three JVMs ({@code serialize-messages = on}) — P's mm on n3, GPU B's userptr
 * subscriber on n2, fence_A on n1, which is SIGKILLed while the third munmap waits. One run; each test reads one
 * behaviour from its verdict and trace.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class InvalidationRoundIT {
  private static JsonNode verdict;
  private static JsonNode trace;
  private static String output;

  @BeforeAll
  static void run() throws Exception {
    Path out = TestCluster.newRunDir("invalidation-round");
    LauncherIT.Run run = LauncherIT.fencelab("run", ScenarioLibraryIT.scenario("userptr-notifier-waits").toString(), "--out", out.toString(),
        LauncherIT.SERIALIZE_ON);
    output = run.all();
    assertEquals(0, run.exitCode(), output);
    ObjectMapper json = new ObjectMapper();
    verdict = json.readTree(out.resolve("verdict.json").toFile());
    trace = json.readTree(out.resolve("trace-wall.json").toFile());
  }

  private static JsonNode step(String id) {
    for (JsonNode s : verdict.get("steps")) {
      if (s.get("id").asText().equals(id)) {
        return s;
      }
    }
    throw new AssertionError("no step " + id + " in " + verdict.toPrettyString());
  }

  /** How fence {@code name} ended, as the verdict states it ("fence fenceA ended signaled as expected"). */
  private static String fence(String name) {
    for (JsonNode f : verdict.get("facts")) {
      String fact = f.asText();
      if (fact.startsWith("fence " + name + " ended ")) {
        return fact.substring(("fence " + name + " ended ").length()).split(" ")[0];
      }
    }
    throw new AssertionError("no fact about fence " + name + " in " + verdict.get("facts"));
  }

  /** When fence {@code name} signalled, on the trace's wall clock (us). */
  private static double signalTs(String name) {
    String id = null;
    for (JsonNode f : verdict.get("fences")) {
      if (f.get("name").asText().equals(name)) {
        id = f.get("fence").asText();
      }
    }
    for (JsonNode e : trace.get("traceEvents")) {
      if (e.get("ph").asText().equals("X") && e.get("name").asText().startsWith("signal ") && e.has("args")
          && e.get("args").has("fence") && e.get("args").get("fence").asText().equals(id)) {
        return e.get("ts").asDouble();
      }
    }
    throw new AssertionError("no signal of " + name + " (" + id + ") in the trace");
  }

  /** The ends of the munmap invalidation rounds, in time order (us). */
  private static List<Double> roundEnds() {
    List<Double> ends = new ArrayList<>();
    for (JsonNode e : trace.get("traceEvents")) {
      if (e.get("ph").asText().equals("X") && e.get("name").asText().startsWith("invalidate UNMAP (munmap)")) {
        ends.add(e.get("ts").asDouble() + e.get("dur").asDouble());
      }
    }
    ends.sort(Double::compare);
    return ends;
  }

  /** The invalidate-callback slices in the trace, by track (the subscriber), with their durations in ms. */
  private static Map<String, List<Double>> callbacks() {
    Map<Integer, String> threads = new HashMap<>();
    for (JsonNode e : trace.get("traceEvents")) {
      if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("thread_name")) {
        threads.put(e.get("tid").asInt(), e.get("args").get("name").asText());
      }
    }
    Map<String, List<Double>> out = new HashMap<>();
    for (JsonNode e : trace.get("traceEvents")) {
      if (e.get("ph").asText().equals("X") && e.get("name").asText().startsWith("invalidate callback")) {
        out.computeIfAbsent(threads.getOrDefault(e.get("tid").asInt(), "?"), k -> new ArrayList<>()).add(e.get("dur").asDouble() / 1000);
      }
    }
    return out;
  }

  @Test
  void theMunmapOnN3WaitsInTheN2CallbackUntilDeviceAOnN1Finishes() {
    assertEquals("PASS", verdict.get("verdict").asText(), output);
    double signalA = signalTs("fenceA");
    double firstRoundEnd = roundEnds().get(0);
    // Members' clocks are aligned to within a few ms; without the wait the round would end ~1 s before fence_A.
    assertTrue(firstRoundEnd >= signalA - 5_000, "the first munmap's round ended (" + firstRoundEnd + " us) only after fence_A on n1 "
        + "signalled (" + signalA + " us)");
    assertEquals("signaled", fence("fenceA"));
    assertEquals("signaled", fence("fenceB"));
    Map<String, List<Double>> slices = callbacks();
    assertTrue(slices.keySet().stream().anyMatch(t -> t.contains("gpuB")), "one slice per subscriber callback, on its track: " + slices);
  }

  @Test
  void aHungDeviceABoundsTheMunmapByItsJobTimeout() {
    assertEquals("ETIME", fence("fenceAH"));
    assertEquals("ETIME", fence("fenceBH"));
    assertEquals("ok", step("munmap2").get("status").asText());
  }

  @Test
  void killingDeviceAsNodeMidWaitEndsTheChainWithENODEVAndTheMunmapCompletes() {
    assertTrue(verdict.get("dead_nodes").toString().contains("n1"), verdict.get("dead_nodes").toString());
    assertEquals("ENODEV", fence("fenceAK"));
    assertEquals("ENODEV", fence("fenceBK"));
    assertEquals("ok", step("munmap3").get("status").asText());
  }

  @Test
  void theBytesDeviceBCopiedArriveInTheProcesssMemory() {
    assertTrue(verdict.get("facts").toString().contains("[shared, mem] equal"), verdict.get("facts").toString());
  }
}
