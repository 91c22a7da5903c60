package dev.fencelab.deploy.cli;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.coordinator.scenario.ChaosSchedule;
import dev.fencelab.coordinator.scenario.RunReport;
import dev.fencelab.coordinator.scenario.ScenarioException;
import dev.fencelab.coordinator.scenario.ScenarioLoader;
import dev.fencelab.coordinator.scenario.ScenarioOverrides;
import dev.fencelab.coordinator.scenario.ScenarioException;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.local.ClusterManifest;
import dev.fencelab.deploy.local.LocalCluster;
import dev.fencelab.deploy.local.UpOptions;
import dev.fencelab.deploy.member.ClientMember;
import dev.fencelab.coordinator.scenario.run.NodeKiller;
import dev.fencelab.coordinator.scenario.run.ScenarioRun;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a scenario file on a real cluster and prints a verdict (exit 0 PASS, 1 FAIL, 2 bad scenario or usage).",
      "",
      "Without --cluster it starts the scenario's nodes as local child JVMs on 127.0.0.1 (members named as "
          + "the scenario's nodes), runs it, collects every node's trace and stops them. With --cluster HOST:PORT"
          + " it joins a running cluster (the local one of 'cluster up', or a real one) whose node members carry "
          + "the scenario's node names. SCENARIO is a file (YAML or JSON) or the name of a bundled scenario (see "
          + "'fencelab scenarios').",
      "",
      "--out DIR receives trace.json (model time; opens in Perfetto), trace-wall.json, latency.txt, "
          + "latency.json, report.html, verdict.json and, in local mode, every member's log and raw trace.",
      "",
      "Several scenarios (or a directory of them) run one after the other on one cluster, each with its own"
          + " verdict and output directory, ending with 'N passed, M failed' (chaos and node kills are refused "
          + "there: run those alone).",
      "",
      "--set OBJECT.FIELD=VALUE changes one field of the scenario before it runs (OBJECT: a device, node, "
          + "process, buffer or host name, or settings), e.g. --set gpuA.run_job_allocates=atomic. A scenario "
          + "with a matrix: block runs each of its variants on one cluster, then prints which variant reported "
          + "what.",
      "",
      "Examples: fencelab run scenarios/pipeline-two-gpus.yaml",
      "          fencelab run scenarios/conformance            # the conformance library, on one cluster",
      "          fencelab run hot-unplug-exporter --seed 7 --out run/unplug-7",
      "          fencelab run my.yaml --cluster 127.0.0.1:25520 --pace realtime:0.5",
      ""
    })
public final class RunCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "SCENARIO", description = "Scenario file, bundled scenario name, or (several, or a "
      + "directory) a batch on one cluster.")
  List<String> scenarios;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Join this running cluster instead of starting local nodes.")
  String cluster;

  @Option(names = "--seed", paramLabel = "N", description = "Seed of the random chaos schedule (default: the scenario's settings.seed, else 1).")
  Long seed;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: run/<scenario name>).")
  Path out;

  @Option(names = "--host", paramLabel = "ADDRESS", description = "With --cluster on other machines: the address this runner's "
      + "client member binds and advertises (one they can reach; default 127.0.0.1, for a local cluster).")
  String host;

  @Option(names = "--bind-host", paramLabel = "ADDRESS", description = "With --host behind NAT or in a container: the local address "
      + "the client binds, while --host is the one it advertises (default: --host).")
  String bindHost;

  @Option(names = "--set", paramLabel = "OBJECT.FIELD=VALUE", description = "Change one field of the scenario (repeatable): a "
      + "device's, node's, process's, buffer's or host's by its name, or settings.FIELD.")
  List<String> sets = new ArrayList<>();

  @Option(names = "--pace", paramLabel = "asap|realtime[:SCALE]", description = "How model time maps to real time on the local "
      + "nodes (default: the scenario's settings.pace, else asap). With --cluster the members' own setting applies.")
  String pace;

  @Option(names = "--step-timeout", paramLabel = "DURATION", description = "Bound of every step's calls (default: the scenario's "
      + "settings.step_timeout, else 30s).")
  String stepTimeout;

  /** Without {@code --run-timeout}: 10 minutes, or {@value #MILLIS_PER_STEP} ms per step when that is longer. */
  static Duration runTimeout(String arg, long steps) {
    if (arg != null) {
      return Durations.parse("--run-timeout", arg);
    }
    Duration bySteps = Duration.ofMillis(steps * MILLIS_PER_STEP);
    return bySteps.compareTo(DEFAULT_RUN_TIMEOUT) > 0 ? bySteps : DEFAULT_RUN_TIMEOUT;
  }

  static final Duration DEFAULT_RUN_TIMEOUT = Duration.ofMinutes(10);
  static final long MILLIS_PER_STEP = 20;

  @Option(names = "--run-timeout", paramLabel = "DURATION", description = "Bound of the whole run (default: 10m, or 20 ms per step "
      + "when that is longer: a 100,000-step scenario ran its steps in 12 minutes at 6 ms each).")
  String runTimeout;

  @Mixin ClusterCommand.LaunchOptions launch;

  @Option(names = {"-q", "--quiet"}, description = "Print only the verdict and where the outputs are (errors still go to stderr).")
  boolean quiet;

  @Override
  public Integer call() throws IOException {
    List<String> all = BatchRun.expand(scenarios);
    if (all.size() == 1) {
      ScenarioLoader.Loaded loaded = load(all.get(0), sets);
      if (loaded.scenario().getMatrixCount() > 0) {
        if (seed != null) {
          throw UserError.badInput("--seed applies to one run; the variants of a matrix run without chaos");
        }
        List<ScenarioLoader.Loaded> variants = overridden(() -> ScenarioOverrides.variants(loaded, sets), all.get(0));
        String paceOf = pace != null ? pace : loaded.scenario().getSettings().getPace().isEmpty() ? "asap"
            : loaded.scenario().getSettings().getPace();
        return BatchRun.runLoaded(variants, paceOf, cluster, clientHost(), out, stepTimeout, runTimeout, launch, System.out);
      }
      return run(loaded, cluster, clientHost(), seed, out, pace, stepTimeout, runTimeout, launch, System.out, quiet);
    }
    if (all.isEmpty()) {
      throw UserError.badInput("no scenario in " + scenarios);
    }
    if (seed != null || pace != null || !sets.isEmpty()) {
      throw UserError.badInput("--seed, --pace and --set apply to one scenario; a batch runs asap without chaos");
    }
    return BatchRun.run(all, cluster, clientHost(), out, stepTimeout, runTimeout, launch, System.out);
  }

  private String clientHost() {
    if (bindHost != null) {
      if (host == null) {
        throw UserError.badInput("--bind-host is the local side of --host (the address the members see): give --host too");
      }
      checkAddress("--bind-host", bindHost);
      System.setProperty("pekko.remote.artery.bind.hostname", bindHost); // this process's client member binds there
      com.typesafe.config.ConfigFactory.invalidateCaches();
    }
    if (host == null) {
      return ClientMember.LOOPBACK;
    }
    if (cluster == null) {
      throw UserError.badInput("--host is the runner's address in a cluster it joins: give --cluster HOST:PORT too");
    }
    checkAddress("--host", host);
    return host;
  }

  /** An address without a port: blank or {@code host:port} (one colon, not a bracketed IPv6 address) is bad input. */
  private static void checkAddress(String option, String address) {
    if (address.isBlank() || address.contains(":") && !address.startsWith("[") && address.chars().filter(c -> c == ':').count() == 1) {
      throw UserError.badInput(option + " is an address without a port, not '" + address + "'");
    }
  }

  /** Loads a scenario file or bundled scenario; a bad one is a {@link UserError} (exit 2) listing every problem. */
  static ScenarioLoader.Loaded load(String nameOrPath) {
    Path file = Path.of(nameOrPath);
    try {
      if (Files.isRegularFile(file)) {
        return ScenarioLoader.load(file);
      }
      Optional<String> bundled = BundledScenarios.read(nameOrPath);
      if (bundled.isPresent()) {
        String name = nameOrPath.endsWith(".yaml") ? nameOrPath : nameOrPath + ".yaml";
        return ScenarioLoader.parse(bundled.get(), "scenarios/" + name, false);
      }
    } catch (ScenarioException e) {
      if (e.problems().size() == 1) { // one line: the problem names its file and line
        throw UserError.badInput(e.problems().get(0));
      }
      throw UserError.badInput("scenario " + nameOrPath + " is not valid (" + e.problems().size() + " problems):\n  "
          + String.join("\n  ", e.problems()));
    }
    throw UserError.badInput("no scenario file " + nameOrPath + " and no bundled scenario of that name (bundled: "
        + BundledScenarios.list().stream().map(BundledScenarios.Entry::name).toList() + ")");
  }

  /** {@link #load(String)} with {@code --set} overrides applied (and checked again). */
  static ScenarioLoader.Loaded load(String nameOrPath, List<String> sets) {
    ScenarioLoader.Loaded loaded = load(nameOrPath);
    return sets.isEmpty() ? loaded : overridden(() -> ScenarioOverrides.with(loaded, sets), nameOrPath);
  }

  private interface Overriding<T> {
    T get() throws ScenarioException;
  }

  private static <T> T overridden(Overriding<T> f, String nameOrPath) {
    try {
      return f.get();
    } catch (ScenarioException e) {
      throw UserError.badInput("scenario " + nameOrPath + " is not valid with its overrides (" + e.problems().size() + " problem"
          + (e.problems().size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", e.problems()));
    }
  }

  static int run(String scenarioArg, String cluster, Long seedArg, Path outArg, String paceArg, String stepTimeoutArg,
      String runTimeoutArg, ClusterCommand.LaunchOptions launch, PrintStream out) throws IOException {
    return run(load(scenarioArg), cluster, ClientMember.LOOPBACK, seedArg, outArg, paceArg, stepTimeoutArg, runTimeoutArg, launch, out);
  }

  static int run(ScenarioLoader.Loaded loaded, String cluster, String clientHost, Long seedArg, Path outArg, String paceArg, String stepTimeoutArg,
      String runTimeoutArg, ClusterCommand.LaunchOptions launch, PrintStream out) throws IOException {
    return run(loaded, cluster, clientHost, seedArg, outArg, paceArg, stepTimeoutArg, runTimeoutArg, launch, out, false);
  }

  /** {@code quiet}: only the verdict and where the outputs are; no header, formation, step lines or teardown. */
  static int run(ScenarioLoader.Loaded loaded, String cluster, String clientHost, Long seedArg, Path outArg, String paceArg, String stepTimeoutArg,
      String runTimeoutArg, ClusterCommand.LaunchOptions launch, PrintStream out, boolean quiet) throws IOException {
    PrintStream talk = quiet ? new PrintStream(java.io.OutputStream.nullOutputStream()) : out;
    if (seedArg != null && seedArg < 0) {
      throw UserError.badInput("--seed must be 0 or more (as settings.seed), was " + seedArg);
    }
    Scenario s = loaded.scenario();
    long seed = seedArg != null ? seedArg : s.getSettings().getSeed() != 0 ? s.getSettings().getSeed() : 1;
    String pace = paceArg != null ? paceArg : s.getSettings().getPace().isEmpty() ? "asap" : s.getSettings().getPace();
    if (!pace.matches("asap|realtime(:\\d+(\\.\\d+)?)?")) {
      throw UserError.badInput("--pace must be asap, realtime or realtime:SCALE, not '" + pace + "'");
    }
    String stepTimeoutText = stepTimeoutArg != null ? stepTimeoutArg : s.getSettings().getStepTimeout().isEmpty() ? "30s"
        : s.getSettings().getStepTimeout();
    Duration stepTimeout = Durations.parse("--step-timeout", stepTimeoutText);
    Duration runTimeout = runTimeout(runTimeoutArg, s.getStepsCount());
    String name = s.getName().isEmpty() ? "scenario" : s.getName();
    // without --out a run is kept: run/<scenario>/<time>-seed<N>/, and run/<scenario>/latest points at it
    Path dir = (outArg != null ? outArg : KeptRuns.next(Path.of("run", name), seed)).toAbsolutePath().normalize();
    List<Fault> schedule = ChaosSchedule.plan(s, seed);

    talk.printf("scenario %s: %d node(s), %d device(s), %d process(es), %d buffer(s), %d step(s); seed %d, pace %s%n", name,
        s.getNodesCount(), s.getDevicesCount(), s.getProcessesCount(), s.getBuffersCount(), s.getStepsCount(), seed, pace);
    if (cluster != null && !pace.equals("asap")) {
      talk.printf("note: with --cluster the members' own pace applies: they run this scenario %s only if started with --pace %s%n",
          pace, pace);
    }
    talk.println("fault schedule:" + (schedule.isEmpty() ? " none" : ""));
    for (int i = 0; i < schedule.size(); i++) {
      talk.printf("  #%d %s%n", i + 1, ChaosSchedule.describe(schedule.get(i)));
    }
    clean(dir);
    List<String> nodes = s.getNodesList().stream().map(n -> n.getName()).toList();
    LocalCluster.Started started = null;
    String seedAddress = cluster;
    java.util.concurrent.CompletableFuture<Void> reportWritten = new java.util.concurrent.CompletableFuture<>();
    try {
      if (cluster == null) {
        List<String> jvm = new ArrayList<>();
        jvm.add("-Dfencelab.device.pacing=" + pace);
        if (!s.getSettings().getResvMode().isEmpty()) {
          jvm.add("-Dfencelab.resv.mode=" + s.getSettings().getResvMode());
        }
        UpOptions options = launch.toUpOptions("run-" + name, dir).withNodeNames(nodes).withJvmOptions(jvm);
        started = ClusterCommand.upOwned("run-" + name, dir, options, talk);
        seedAddress = LocalCluster.HOST + ":" + started.manifest().members().get(0).port();
      } else if (!cluster.matches("[^:]+:\\d+")) {
        throw UserError.badInput("--cluster must be HOST:PORT, not '" + cluster + "'");
      }
      RunRecord record;
      ClusterManifest manifest = started == null ? null : started.manifest();
      try (ClientMember client = ClientMember.join(seedAddress, dir, nodes.size(), nodes, clientHost, Duration.ofSeconds(60),
          ConfigFactory.parseString("pekko.loglevel = ERROR"))) {
        Map<String, ActorRef<NodeControl>> agents = client.agents();
        for (String n : nodes) {
          if (!agents.containsKey(n)) {
            throw UserError.badInput("the cluster has no node member named '" + n + "' (it has: " + agents.keySet()
                + "); name the scenario's nodes after the cluster's members");
          }
        }
        CompletableFuture<RunRecord> result = new CompletableFuture<>();
        NodeKiller killer = new LocalKiller(manifest);
        String tag = cluster == null ? "" : Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        talk.printf("%nrunning %s ...%n", name);
        var runner = client.system().systemActorOf(ScenarioRun.create(new ScenarioRun.Params(s, schedule, seed, pace, tag, agents, killer,
            line -> {
              talk.println(line);
              talk.flush();
            }, stepTimeout, result)), "scenario-runner", Props.empty());
        ClusterCommand.interruptible(runner, reportWritten);
        try {
          record = client.awaitWhileMember(result, runTimeout, "the scenario run");
        } catch (UserError e) {
          throw UserError.runtime(e.getMessage());
        }
      }
      if (manifest != null) {
        record = withFiles(record, dir);
      }
      String invocation = dev.fencelab.deploy.Fencelab.invocation();
      record = record.toBuilder().setCommand(invocation).setVersion(dev.fencelab.deploy.Fencelab.build())
          .setReplay(KeptRuns.replay(invocation, seed, loaded.source())).build();
      RunReport.Result report = RunReport.write(s, withSources(record, loaded), dir);
      if (outArg == null) {
        KeptRuns.latest(dir);
      }
      reportWritten.complete(null);
      talk.println();
      out.print(RunReport.summary(report.verdict()));
      out.printf("%ntrace:   %s  (model time; open in https://ui.perfetto.dev)%n", dir.resolve("trace.json"));
      out.printf("         %s  (wall time)%n", dir.resolve("trace-wall.json"));
      out.printf("report:  %s%n", dir.resolve("report.html"));
      out.printf("latency: %s, latency.json%n", dir.resolve("latency.txt"));
      out.printf("verdict: %s%n", dir.resolve("verdict.json"));
      if (manifest != null) {
        out.printf("logs:    %s/*.log%n", dir);
      }
      return report.verdict().pass() ? 0 : 1;
    } finally {
      reportWritten.complete(null); // an interrupt waits for the report only as long as there may be one
      ClusterCommand.interruptible(null, null);
      if (started != null) {
        LocalCluster.Stopped stopped = new LocalCluster(talk).down(dir, Duration.ofSeconds(15));
        ClusterCommand.released(dir);
        talk.printf("%nstopped the local cluster (%d members)%n", stopped.members());
      }
    }
  }

  /** Adds the events of members that died (SIGKILL) from their trace files: the collector could not ask them. */
  private static RunRecord withFiles(RunRecord record, Path dir) throws IOException {
    RunRecord.Builder b = record.toBuilder();
    for (String node : record.getDeadNodesList()) {
      java.util.Set<Long> streamed = new java.util.HashSet<>(); // what the run collected before the kill is there already
      record.getEventsList().stream().filter(e -> e.getNode().equals(node)).forEach(e -> streamed.add(e.getSeq()));
      Path file = dir.resolve(node + ".trace");
      if (!Files.isRegularFile(file)) {
        b.addNotes("no trace file for killed node " + node + " (" + file + ")");
        continue;
      }
      int n = 0;
      try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
        TraceEvent e;
        while (true) {
          try {
            e = TraceEvent.parseDelimitedFrom(in);
          } catch (IOException torn) {
            b.addNotes("the trace file of " + node + " ends with a torn event (the member was killed mid-write)");
            break;
          }
          if (e == null) {
            break;
          }
          if (streamed.add(e.getSeq())) {
            b.addEvents(e);
            n++;
          }
        }
      }
      b.addNotes("read " + n + " more events of killed node " + node + " from " + file.getFileName());
    }
    return b.build();
  }

  /** Removes the outputs of an earlier run in {@code dir} (never a running cluster's files: up() refuses those). */
  private static void clean(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    if (ClusterManifest.read(dir).map(m -> !m.liveMembers().isEmpty()).orElse(false)) {
      return; // LocalCluster.up explains
    }
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (n.endsWith(".trace") || n.endsWith(".log") || n.endsWith(".out") || n.endsWith(".pid") || n.endsWith(".ports") || n.startsWith("trace")
            || n.startsWith("latency.") || n.equals("report.html") || n.equals("verdict.json") || n.equals("run.pb")) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  /** The record with each step's place in the scenario file, for the verdict's messages. */
  static dev.fencelab.protocol.trace.v1.RunRecord withSources(dev.fencelab.protocol.trace.v1.RunRecord record, ScenarioLoader.Loaded loaded) {
    var b = record.toBuilder();
    java.util.Map<String, Integer> index = new java.util.HashMap<>();
    for (int i = 0; i < loaded.scenario().getStepsCount(); i++) {
      index.put(dev.fencelab.protocol.scenario.ScenarioSteps.id(loaded.scenario(), i), i);
    }
    for (var step : b.getStepsBuilderList()) {
      Integer i = index.get(step.getId());
      if (i != null) {
        step.setSource(loaded.at("steps[" + i + "]"));
      }
    }
    return b.build();
  }
}
