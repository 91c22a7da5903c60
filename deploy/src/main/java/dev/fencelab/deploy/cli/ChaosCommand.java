package dev.fencelab.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.member.ClientMember;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = {
      "A chaos campaign: a scenario run once per seed, each on a fresh local cluster.",
      "Each run gets that seed's random fault schedule. Prints a table of verdicts, the aggregated figures "
          + "(hung waits, fences completed twice, damaged buffers, kill-to-resolved latency) and the replay "
          + "command of every failing seed.",
      "Exit 1 if any run failed.",
      "",
      "Examples: fencelab chaos hot-unplug-exporter --runs 100",
      "          fencelab chaos demo --seeds 40..59 --parallel 2",
      "          fencelab chaos demo --runs 20 --cluster 10.0.0.1:25520 --host 10.0.0.4   (members restarted when killed)",
      ""
    })
public final class ChaosCommand implements Callable<Integer> {
  static final int MAX_RUNS = 10_000;

  @Parameters(index = "0", paramLabel = "SCENARIO", description = "Scenario file or bundled scenario name.")
  String scenario;

  @Option(names = "--runs", paramLabel = "N", description = "Number of runs, seeds 1..N (default 10; with --seeds, its length).")
  Integer runs;

  @Option(names = "--seeds", paramLabel = "A..B", description = "The seeds to run, inclusive.")
  String seeds;

  @Option(names = "--parallel", defaultValue = "1", paramLabel = "K", description = "Runs at the same time, each its own cluster "
      + "(default ${DEFAULT-VALUE}; every run starts a member JVM per node plus a coordinator).")
  int parallel;

  @Option(names = "--out", paramLabel = "DIR", description = "Campaign directory: one run directory per seed and summary.json "
      + "(default run/chaos/<scenario>).")
  Path out;

  @Option(names = "--step-timeout", paramLabel = "DURATION", description = "Bound of every step's calls (as for run).")
  String stepTimeout;

  @Option(names = "--run-timeout", defaultValue = "10m", paramLabel = "DURATION", description = "Bound of each run (default: ${DEFAULT-VALUE}).")
  String runTimeout;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Run the campaign on this running cluster, one run at a time, "
      + "instead of a local cluster per run. A node a run kills must come back before the next run needs it (within a minute): "
      + "members restarted by their supervisor, e.g. a Kubernetes StatefulSet or systemd's Restart=always.")
  String cluster;

  @Option(names = "--host", paramLabel = "ADDRESS", description = "With --cluster on other machines: the address the runs' client "
      + "member binds and advertises (default 127.0.0.1).")
  String host;

  @Mixin ClusterCommand.LaunchOptions launch;

  /** One run's outcome, as the campaign reports it. */
  record Result(long seed, String verdict, double seconds, List<String> failures, Path dir, Map<String, Integer> byCheck,
      double resolvedP50Ms, double resolvedMaxMs) {}

  @Override
  public Integer call() throws Exception {
    List<Long> list = seedList();
    if (parallel < 1 || parallel > 16) {
      throw UserError.badInput("--parallel must be between 1 and 16, was " + parallel);
    }
    if (parallel > 1 && launch.basePort != null) {
      throw UserError.badInput("--base-port gives every run the same ports: use it with --parallel 1 only");
    }
    if (cluster != null && parallel > 1) {
      throw UserError.badInput("--cluster runs one run at a time on the one cluster: drop --parallel");
    }
    if (host != null && cluster == null) {
      throw UserError.badInput("--host is the runner's address in a cluster it joins: give --cluster HOST:PORT too");
    }
    var loaded = RunCommand.load(scenario); // bad input ends here, before any cluster starts
    String name = loaded.scenario().getName().isEmpty() ? "scenario" : loaded.scenario().getName();
    Path dir = (out != null ? out : Path.of("run", "chaos", name)).toAbsolutePath().normalize();
    Files.createDirectories(dir);
    PrintStream console = System.out;
    console.printf("chaos campaign: %s, %d run(s) (seeds %d..%d), %d at a time; out %s%n", name, list.size(), list.get(0),
        list.get(list.size() - 1), parallel, dir);
    long t0 = System.nanoTime();
    List<Result> results = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
      Thread t = new Thread(r, "fencelab-chaos-run");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Result>> futures = new ArrayList<>();
      for (long seed : list) {
        futures.add(pool.submit(() -> runOne(seed, dir.resolve("seed-" + seed))));
      }
      for (Future<Result> f : futures) {
        Result r = f.get();
        results.add(r);
        console.printf("  seed %-6d %-5s %7.1f s  %s%n", r.seed(), r.verdict(), r.seconds(),
            r.failures().isEmpty() ? "" : r.failures().get(0) + (r.failures().size() > 1 ? " (+" + (r.failures().size() - 1) + " more)" : ""));
      }
    } finally {
      pool.shutdownNow();
    }
    return summarize(name, results, (System.nanoTime() - t0) / 1e9, dir, console);
  }

  private List<Long> seedList() {
    List<Long> list = new ArrayList<>();
    if (seeds != null) {
      if (!seeds.matches("\\d{1,12}\\.\\.\\d{1,12}")) {
        throw UserError.badInput("--seeds must be A..B (non-negative integers), not '" + seeds + "'");
      }
      long a = Long.parseLong(seeds.substring(0, seeds.indexOf("..")));
      long b = Long.parseLong(seeds.substring(seeds.indexOf("..") + 2));
      if (a > b || b - a + 1 > MAX_RUNS) {
        throw UserError.badInput("--seeds " + seeds + ": from a seed to a larger one, at most " + MAX_RUNS + " runs");
      }
      if (runs != null && runs != b - a + 1) {
        throw UserError.badInput("--runs " + runs + " but --seeds " + seeds + " is " + (b - a + 1) + " runs");
      }
      for (long s = a; s <= b; s++) {
        list.add(s);
      }
      return list;
    }
    int n = runs == null ? 10 : runs;
    if (n < 1 || n > MAX_RUNS) {
      throw UserError.badInput("--runs must be between 1 and " + MAX_RUNS + ", was " + n);
    }
    for (long s = 1; s <= n; s++) {
      list.add(s);
    }
    return list;
  }

  /** One seeded run on its own local cluster; its console goes to {@code dir/console.txt}. */
  private Result runOne(long seed, Path dir) throws IOException {
    Files.createDirectories(dir);
    long begin = System.nanoTime();
    String verdict;
    List<String> failures = new ArrayList<>();
    try (OutputStream file = Files.newOutputStream(dir.resolve("console.txt"));
        PrintStream runOut = new PrintStream(file, true, StandardCharsets.UTF_8)) {
      try {
        int code = RunCommand.run(RunCommand.load(scenario), cluster, host == null ? ClientMember.LOOPBACK : host, seed, dir, null,
            stepTimeout, runTimeout, launch, runOut);
        verdict = code == 0 ? "PASS" : "FAIL";
      } catch (UserError e) {
        runOut.println("error: " + e.getMessage());
        verdict = "ERROR";
        failures.add("error: " + e.getMessage().lines().findFirst().orElse(""));
      } catch (RuntimeException e) {
        e.printStackTrace(runOut);
        verdict = "ERROR";
        failures.add("error: " + e);
      }
    }
    Map<String, Integer> byCheck = new LinkedHashMap<>();
    Path verdictFile = dir.resolve("verdict.json");
    if (Files.isRegularFile(verdictFile)) {
      JsonNode v = new ObjectMapper().readTree(verdictFile.toFile());
      for (JsonNode f : v.path("failures")) {
        String check = f.path("check").asText();
        byCheck.merge(check, 1, Integer::sum);
        failures.add("[" + check + "] " + f.path("message").asText());
      }
    }
    double[] resolved = resolvedLatency(dir.resolve("latency.json"));
    return new Result(seed, verdict, (System.nanoTime() - begin) / 1e9, failures, dir, byCheck, resolved[0], resolved[1]);
  }

  /** The run's unplug/kill → resolved latency, wall clock: p50 and max in ms (NaN when it had none). */
  private static double[] resolvedLatency(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return new double[] {Double.NaN, Double.NaN};
    }
    for (JsonNode l : new ObjectMapper().readTree(file.toFile()).path("latencies")) {
      if (l.path("kind").asText().equals("unplug_to_resolved") && l.path("clock").asText().equals("wall") && l.path("count").asLong() > 0) {
        return new double[] {l.path("p50_ns").asDouble() / 1e6, l.path("max_ns").asDouble() / 1e6};
      }
    }
    return new double[] {Double.NaN, Double.NaN};
  }

  private int summarize(String name, List<Result> results, double seconds, Path dir, PrintStream console) throws IOException {
    long passed = results.stream().filter(r -> r.verdict().equals("PASS")).count();
    int hung = sum(results, "every-wait-ends") + sum(results, "no-pending-fence");
    int twice = sum(results, "signal-once");
    int damaged = sum(results, "surviving-data");
    List<Double> p50s = results.stream().map(Result::resolvedP50Ms).filter(d -> !d.isNaN()).sorted().toList();
    double max = results.stream().mapToDouble(Result::resolvedMaxMs).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
    console.printf("%n%d run(s): %d PASS, %d not PASS, in %.1f s%n", results.size(), passed, results.size() - passed, seconds);
    console.printf("hung waits or pending fences: %d; fences completed twice: %d; buffers damaged on survivors: %d%n", hung, twice, damaged);
    if (!p50s.isEmpty()) {
      console.printf("kill/unplug -> every waiter resolved (wall): median of the runs' p50 %.1f ms, worst %.1f ms (%d runs)%n",
          p50s.get(p50s.size() / 2), max, p50s.size());
    }
    List<Result> failing = results.stream().filter(r -> !r.verdict().equals("PASS")).toList();
    if (!failing.isEmpty()) {
      console.println("replay a failing seed:");
      for (Result r : failing) {
        console.printf("  fencelab run %s --seed %d     # %s; %s%n", scenario, r.seed(), r.verdict(), r.dir());
      }
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("scenario", name);
    summary.put("runs", results.size());
    summary.put("passed", passed);
    summary.put("seconds", seconds);
    summary.put("hung_waits_or_pending_fences", hung);
    summary.put("fences_completed_twice", twice);
    summary.put("buffers_damaged_on_survivors", damaged);
    summary.put("results", results.stream().map(r -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("seed", r.seed());
      m.put("verdict", r.verdict());
      m.put("seconds", r.seconds());
      m.put("failures", r.failures());
      m.put("dir", r.dir().toString());
      m.put("replay", "fencelab run " + scenario + " --seed " + r.seed());
      return m;
    }).toList());
    Path file = dir.resolve("summary.json");
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), summary);
    console.printf("results: %s%n", file);
    return passed == results.size() ? 0 : 1;
  }

  private static int sum(List<Result> results, String check) {
    return results.stream().mapToInt(r -> r.byCheck().getOrDefault(check, 0)).sum();
  }
}
