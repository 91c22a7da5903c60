package dev.fencelab.deploy.cli;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.coordinator.scenario.RunReport;
import dev.fencelab.coordinator.scenario.ScenarioLoader;
import dev.fencelab.coordinator.scenario.ScenarioOverrides;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.local.LocalCluster;
import dev.fencelab.deploy.local.UpOptions;
import dev.fencelab.deploy.member.ClientMember;
import dev.fencelab.coordinator.scenario.run.NodeKiller;
import dev.fencelab.coordinator.scenario.run.ScenarioRun;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.RunRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;

/**
 * {@code fencelab run A B C…} (or a directory): several scenarios, one after the other, on one cluster — started once
 * with the union of their nodes, or the one {@code --cluster} names — through one client member. Each gets its own
 * run tag (names never clash), its own output directory ({@code OUT/<name>}) and verdict; the end is one line per
 * scenario and "N passed, M failed" (exit 0 when all pass, 1 otherwise, 2 for a bad scenario: nothing starts).
 * Scenarios that kill a node cannot share a cluster: they are refused here (run them alone).
 */
final class BatchRun {
  private BatchRun() {}

  /** The scenario files and bundled names in {@code args}, directories expanded (their *.yaml and *.json, sorted). */
  static List<String> expand(List<String> args) throws IOException {
    List<String> out = new ArrayList<>();
    for (String a : args) {
      Path p = Path.of(a);
      if (Files.isDirectory(p)) {
        try (Stream<Path> files = Files.walk(p)) {
          files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".json")).map(Path::toString).sorted().forEach(out::add);
        }
      } else {
        out.add(a);
      }
    }
    return out;
  }

  static int run(List<String> args, String cluster, String clientHost, Path outArg, String stepTimeoutArg, String runTimeoutArg,
      ClusterCommand.LaunchOptions launch, PrintStream out) throws IOException {
    List<String> problems = new ArrayList<>();
    List<ScenarioLoader.Loaded> scenarios = new ArrayList<>();
    for (String a : args) {
      try {
        ScenarioLoader.Loaded loaded = RunCommand.load(a);
        Scenario s = loaded.scenario();
        if (s.getStepsList().stream().anyMatch(st -> st.hasKillNode() || st.hasPauseNode() || st.hasPartition()
            || st.hasKillCoordinator()) || s.getChaos().getFaultsCount() > 0 || s.getChaos().hasRandom()) {
          problems.add(a + ": it kills nodes or injects chaos; run it alone (several scenarios share one cluster)");
        }
        if (s.getMatrixCount() > 0) {
          scenarios.addAll(ScenarioOverrides.variants(loaded, List.of())); // each variant is a scenario of the batch
        } else {
          scenarios.add(loaded);
        }
      } catch (dev.fencelab.coordinator.scenario.ScenarioException e) {
        problems.add(a + ": " + String.join("; ", e.problems()));
      } catch (UserError e) {
        problems.add(e.getMessage());
      }
    }
    TreeSet<String> modes = new TreeSet<>();
    scenarios.forEach(l -> modes.add(l.scenario().getSettings().getResvMode()));
    if (modes.size() > 1) {
      problems.add("the scenarios ask for different dma_resv modes " + modes + "; run each mode's scenarios together");
    }
    if (!problems.isEmpty()) {
      throw UserError.badInput(problems.size() + " of the scenarios cannot run:\n  " + String.join("\n  ", problems));
    }
    return runLoaded(scenarios, "asap", cluster, clientHost, outArg, stepTimeoutArg, runTimeoutArg, launch, out);
  }

  /**
   * Runs {@code scenarios} (loaded and valid; one dma_resv mode) one after the other at {@code pace} (the local nodes'
   * pacing; with {@code --cluster} the members' own applies), then one line per scenario with what it reported.
   */
  static int runLoaded(List<ScenarioLoader.Loaded> scenarios, String pace, String cluster, String clientHost, Path outArg, String stepTimeoutArg,
      String runTimeoutArg, ClusterCommand.LaunchOptions launch, PrintStream out) throws IOException {
    TreeSet<String> modes = new TreeSet<>();
    scenarios.forEach(l -> modes.add(l.scenario().getSettings().getResvMode()));
    TreeSet<String> nodes = new TreeSet<>();
    scenarios.forEach(l -> l.scenario().getNodesList().forEach(n -> nodes.add(n.getName())));
    Duration runTimeout = RunCommand.runTimeout(runTimeoutArg,
        scenarios.stream().mapToLong(l -> l.scenario().getStepsCount()).max().orElse(0)); // it bounds each run
    Path dir = (outArg != null ? outArg : Path.of("run", "batch")).toAbsolutePath().normalize();
    Files.createDirectories(dir);
    out.printf("%d scenarios on one cluster of nodes %s%n", scenarios.size(), nodes);
    LocalCluster.Started started = null;
    String seedAddress = cluster;
    List<String> lines = new ArrayList<>();
    int passed = 0;
    try {
      if (cluster == null) {
        List<String> jvm = new ArrayList<>();
        String mode = modes.isEmpty() ? "" : modes.first();
        if (!mode.isEmpty()) {
          jvm.add("-Dfencelab.resv.mode=" + mode);
        }
        jvm.add("-Dfencelab.device.pacing=" + pace);
        UpOptions options = launch.toUpOptions("run-batch", dir).withNodeNames(List.copyOf(nodes)).withJvmOptions(jvm);
        started = ClusterCommand.upOwned("run-batch", dir, options, out);
        seedAddress = LocalCluster.HOST + ":" + started.manifest().members().get(0).port();
      } else if (!cluster.matches("[^:]+:\\d+")) {
        throw UserError.badInput("--cluster must be HOST:PORT, not '" + cluster + "'");
      }
      try (ClientMember client = ClientMember.join(seedAddress, dir, nodes.size(), nodes, clientHost, Duration.ofSeconds(60),
          ConfigFactory.parseString("pekko.loglevel = ERROR"))) {
        Map<String, ActorRef<NodeControl>> agents = client.agents();
        for (String n : nodes) {
          if (!agents.containsKey(n)) {
            throw UserError.badInput("the cluster has no node member named '" + n + "' (it has: " + agents.keySet() + ")");
          }
        }
        int k = 0;
        for (ScenarioLoader.Loaded loaded : scenarios) {
          Scenario s = loaded.scenario();
          String name = s.getName().isEmpty() ? "scenario-" + k : s.getName();
          Path sub = dir.resolve(String.format("%03d-%s", k++, name.replaceAll("[^A-Za-z0-9_.-]", "_")));
          String stepTimeoutText = stepTimeoutArg != null ? stepTimeoutArg : s.getSettings().getStepTimeout().isEmpty() ? "30s"
              : s.getSettings().getStepTimeout();
          Duration stepTimeout = Durations.parse("--step-timeout", stepTimeoutText);
          String tag = Long.toString(System.nanoTime() % 1_000_000_000L, 36);
          long begin = System.nanoTime();
          CompletableFuture<RunRecord> result = new CompletableFuture<>();
          NodeKiller refuse = (node, agent) -> "not killed (several scenarios share this cluster)";
          client.system().systemActorOf(ScenarioRun.create(new ScenarioRun.Params(s, List.of(), 1, pace, tag, agents, refuse,
              line -> {}, stepTimeout, result)), "scenario-runner-" + tag, Props.empty());
          String line;
          try {
            RunRecord record = client.awaitWhileMember(result, runTimeout, "scenario " + name);
            RunReport.Result report = RunReport.write(s, RunCommand.withSources(record, loaded), sub);
            boolean pass = report.verdict().pass();
            passed += pass ? 1 : 0;
            line = String.format("%-4s %-40s %3d steps %6.2f s  %s", pass ? "PASS" : "FAIL", name, s.getStepsCount(),
                (System.nanoTime() - begin) / 1e9, loaded.source());
            java.util.Set<String> reported = new java.util.TreeSet<>();
            record.getEventsList().stream().filter(e -> e.getKind() == dev.fencelab.protocol.trace.v1.EventKind.VIOLATION)
                .forEach(e -> reported.add(e.getName()));
            line += "\n     reported: " + (reported.isEmpty() ? "nothing" : String.join(", ", reported));
            if (!pass) {
              line += "\n" + RunReport.summary(report.verdict()).indent(6).stripTrailing();
            }
          } catch (UserError e) {
            line = String.format("FAIL %-40s %s", name, e.getMessage());
          }
          out.println(line);
          out.flush();
          lines.add(line);
        }
      }
    } finally {
      if (started != null) {
        LocalCluster.Stopped stopped = new LocalCluster(out).down(dir, Duration.ofSeconds(15));
        ClusterCommand.released(dir);
        out.printf("stopped the local cluster (%d members)%n", stopped.members());
      }
    }
    out.printf("%noutputs: %s/NNN-<scenario>/ (verdict.json, report.html, trace.json)%n", dir);
    out.printf("%d passed, %d failed%n", passed, scenarios.size() - passed);
    return passed == scenarios.size() ? 0 : 1;
  }

}
