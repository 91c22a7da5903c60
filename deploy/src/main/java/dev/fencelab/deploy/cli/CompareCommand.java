package dev.fencelab.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.coordinator.scenario.ScenarioException;
import dev.fencelab.coordinator.scenario.ScenarioLoader;
import dev.fencelab.coordinator.scenario.ScenarioOverrides;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.member.ClientMember;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fencelab compare SCENARIO --set A --set B …}: one run per variant — the scenario with that one override — and
 * a table of what each showed, side by side, the rows that differ marked. Variants of one dma_resv semantics share a
 * local cluster (the mode is a member setting); each other mode gets its own.
 */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description = {
      "Runs variants of one scenario, each --set a variant, and prints their verdicts, violations, failed checks, "
          + "fences ended with an error and model-time latencies side by side, marking the rows that differ.",
      "Variants with the same dma_resv semantics share one local cluster; each other semantics gets its own.",
      "Exit 0 when every variant ran to a verdict (whatever it was), 1 otherwise, 2 for bad input.",
      "",
      "Examples:",
      "  fencelab compare resv-replace-hazard --set resv_mode=2020 --set resv_mode=modern",
      "  fencelab compare pipeline-two-gpus --set gpuB.engines=1 --set gpuB.engines=4",
      ""
    })
public final class CompareCommand implements Callable<Integer> {
  /** Variants in one comparison at most: each is a run. */
  static final int MAX_VARIANTS = 8;

  @Parameters(index = "0", paramLabel = "SCENARIO", description = "Scenario file or bundled scenario name.")
  String scenario;

  @Option(names = "--set", paramLabel = "OBJECT.FIELD=VALUE", required = true, description = "One variant: an override as for "
      + "'run --set' (a settings field may be written FIELD=VALUE); give two or more.")
  List<String> sets = new ArrayList<>();

  @Option(names = "--out", paramLabel = "DIR", description = "Where the variants' runs go (default run/compare/<scenario>).")
  Path out;

  @Option(names = "--step-timeout", paramLabel = "DURATION", description = "Bound of every step's calls (default: the "
      + "scenario's settings.step_timeout, else 30s).")
  String stepTimeout;

  @Option(names = "--run-timeout", defaultValue = "10m", paramLabel = "DURATION", description = "Bound of each run (default: ${DEFAULT-VALUE}).")
  String runTimeout;

  @Mixin ClusterCommand.LaunchOptions launch;

  @Override
  public Integer call() throws IOException {
    if (sets.size() < 2 || sets.size() > MAX_VARIANTS) {
      throw UserError.badInput("compare takes 2 to " + MAX_VARIANTS + " variants (--set), not " + sets.size());
    }
    if (new TreeSet<>(sets).size() != sets.size()) {
      throw UserError.badInput("two --set variants are the same: " + sets);
    }
    ScenarioLoader.Loaded base = RunCommand.load(scenario);
    if (base.scenario().getMatrixCount() > 0) {
      throw UserError.badInput(scenario + " has a matrix: run it with 'fencelab run', which runs its variants");
    }
    if (base.scenario().hasChaos() && (base.scenario().getChaos().getFaultsCount() > 0 || base.scenario().getChaos().hasRandom())) {
      throw UserError.badInput(scenario + " injects chaos: compare runs variants side by side without it (use 'fencelab chaos')");
    }
    List<ScenarioLoader.Loaded> variants = new ArrayList<>();
    for (String set : sets) {
      try {
        ScenarioLoader.Loaded v = ScenarioOverrides.with(base, List.of(set));
        variants.add(new ScenarioLoader.Loaded(v.scenario().toBuilder().setName(base.scenario().getName() + "[" + set + "]").build(),
            v.source(), v.lines()));
      } catch (ScenarioException e) {
        throw UserError.badInput(String.join("; ", e.problems()));
      }
    }
    String name = base.scenario().getName();
    Path dir = (out != null ? out : Path.of("run", "compare", name)).toAbsolutePath().normalize();
    Map<String, List<Integer>> byMode = new TreeMap<>(); // a cluster per dma_resv semantics
    for (int i = 0; i < variants.size(); i++) {
      String mode = variants.get(i).scenario().getSettings().getResvMode();
      byMode.computeIfAbsent(mode.isEmpty() ? "modern" : mode, k -> new ArrayList<>()).add(i);
    }
    String pace = base.scenario().getSettings().getPace().isEmpty() ? "asap" : base.scenario().getSettings().getPace();
    Path[] runDirs = new Path[variants.size()];
    for (Map.Entry<String, List<Integer>> group : byMode.entrySet()) {
      Path groupDir = dir.resolve("resv-" + group.getKey());
      deleteRuns(groupDir);
      List<ScenarioLoader.Loaded> members = group.getValue().stream().map(variants::get).toList();
      System.out.printf("%n== dma_resv semantics %s: %s%n", group.getKey(), members.stream().map(l -> l.scenario().getName()).toList());
      BatchRun.runLoaded(members, pace, null, ClientMember.LOOPBACK, groupDir, stepTimeout, runTimeout, launch, System.out);
      List<Path> subs;
      try (Stream<Path> list = Files.list(groupDir)) {
        subs = list.filter(Files::isDirectory).filter(p -> p.getFileName().toString().matches("\\d{3}-.*")).sorted().toList();
      }
      for (int k = 0; k < group.getValue().size() && k < subs.size(); k++) {
        runDirs[group.getValue().get(k)] = subs.get(k);
      }
    }
    Map<String, List<String>> rows = CompareTable.rows();
    boolean allRan = true;
    List<Result> results = new ArrayList<>();
    for (Path d : runDirs) {
      Result r = d == null ? null : Result.read(d);
      allRan &= r != null;
      results.add(r);
    }
    rows.put("verdict", results.stream().map(r -> r == null ? "did not run" : r.verdict()).toList());
    rows.put("violations", results.stream().map(r -> r == null ? "" : r.violations().isEmpty() ? "-" : String.join(", ", r.violations()))
        .toList());
    rows.put("failed checks", results.stream().map(r -> r == null ? "" : r.failedChecks().isEmpty() ? "-" : String.join(", ", r.failedChecks()))
        .toList());
    rows.put("fences ended with an error", results.stream().map(r -> r == null ? "" : Long.toString(r.fenceErrors())).toList());
    TreeSet<String> kinds = new TreeSet<>();
    results.stream().filter(r -> r != null).forEach(r -> kinds.addAll(r.latencies().keySet()));
    for (String kind : kinds) {
      rows.put(kind + " p50 / p99 (model)", results.stream().map(r -> r == null ? "" : r.latencies().getOrDefault(kind, "-")).toList());
    }
    System.out.printf("%n%s: %d variants%n%n", name, variants.size());
    System.out.print(CompareTable.render(sets, rows));
    System.out.printf("%nruns: %s/resv-<semantics>/NNN-<variant>/ (verdict.json, report.html, trace.json)%n", dir);
    return allRan ? 0 : 1;
  }

  /** What one variant's run showed, read back from its output directory. */
  record Result(String verdict, List<String> violations, List<String> failedChecks, long fenceErrors, Map<String, String> latencies) {
    static Result read(Path dir) throws IOException {
      Path verdictFile = dir.resolve("verdict.json");
      Path raw = dir.resolve("run.pb");
      if (!Files.isRegularFile(verdictFile) || !Files.isRegularFile(raw)) {
        return null;
      }
      ObjectMapper json = new ObjectMapper();
      JsonNode verdict = json.readTree(verdictFile.toFile());
      List<String> failed = new ArrayList<>();
      verdict.path("failures").forEach(f -> failed.add(f.path("check").asText()));
      RunRecord record = RunRecord.parseFrom(Files.readAllBytes(raw));
      TreeSet<String> violations = new TreeSet<>();
      long fenceErrors = 0;
      for (TraceEvent e : record.getEventsList()) {
        if (e.getKind() == EventKind.VIOLATION) {
          violations.add(e.getName());
        } else if (e.getKind() == EventKind.FENCE_SIGNALED && e.getStatus() < 0) {
          fenceErrors++;
        }
      }
      Map<String, String> latencies = new TreeMap<>();
      Path latency = dir.resolve("latency.json");
      if (Files.isRegularFile(latency)) {
        for (JsonNode l : json.readTree(latency.toFile()).path("latencies")) {
          if (l.path("clock").asText().equals("model")) {
            latencies.put(l.path("kind").asText(), dev.fencelab.protocol.scenario.Units.human(l.path("p50_ns").asLong()) + " / "
                + dev.fencelab.protocol.scenario.Units.human(l.path("p99_ns").asLong()));
          }
        }
      }
      return new Result(verdict.path("verdict").asText("?"), List.copyOf(violations), List.copyOf(new TreeSet<>(failed)), fenceErrors, latencies);
    }
  }

  /** A previous comparison's runs go: their numbering would mix with this one's. */
  private static void deleteRuns(Path groupDir) throws IOException {
    if (!Files.isDirectory(groupDir)) {
      return;
    }
    try (Stream<Path> list = Files.list(groupDir)) {
      for (Path p : list.filter(Files::isDirectory).filter(p -> p.getFileName().toString().matches("\\d{3}-.*")).toList()) {
        try (Stream<Path> walk = Files.walk(p)) {
          for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(f);
          }
        }
      }
    }
  }
}
