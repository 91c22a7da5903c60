package dev.fencelab.deploy.cli;

import dev.fencelab.node.device.Pacing;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.local.ClusterManifest;
import dev.fencelab.deploy.local.LocalCluster;
import dev.fencelab.deploy.local.StatusClient;
import dev.fencelab.deploy.local.StatusTable;
import dev.fencelab.deploy.local.UpOptions;
import dev.fencelab.deploy.member.MemberConfig;
import dev.fencelab.protocol.control.ClusterStatus;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = "A long-lived local cluster: member JVMs on 127.0.0.1, one coordinator and N nodes.",
    subcommands = {ClusterCommand.Up.class, ClusterCommand.Status.class, ClusterCommand.Down.class})
public final class ClusterCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: up, status or down");
  }

  /** The options every command that starts a local cluster shares. */
  public static final class LaunchOptions {
    public LaunchOptions() {}

    @Option(names = "--nodes", defaultValue = "3", description = "Node members to start (default: ${DEFAULT-VALUE}), plus one coordinator member.")
    int nodes;

    @Option(names = "--base-port", paramLabel = "PORT", description = "Use PORT (coordinator), PORT+1.. (nodes), PORT+N+1 (HTTP API) instead of free ephemeral ports.")
    Integer basePort;

    @Option(names = "--timeout", defaultValue = "90s", paramLabel = "DURATION", description = "How long formation may take before up fails (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file passed to every member (overrides the bundled local profile).")
    Path config;

    @Option(names = "--jvm-opt", paramLabel = "OPT", description = "Extra JVM option for every member, repeatable (also: env FENCELAB_MEMBER_JAVA_OPTS).")
    List<String> jvmOptions = new ArrayList<>();

    Path tls;

    /** Mutual TLS for every member and for this command's own client member. */
    @Option(names = "--tls", paramLabel = "DIR", description = "Mutual-TLS Artery with the certificates of DIR (fencelab certs): each "
        + "member presents DIR/<name>.p12, this command's client DIR/client.p12.")
    void tls(Path dir) {
      if (!Files.isDirectory(dir)) {
        throw UserError.badInput("--tls " + dir + " is not a directory (make one: fencelab certs --out " + dir + ")");
      }
      tls = dir.toAbsolutePath().normalize();
      System.setProperty("fencelab.tls.dir", tls.toString()); // the client member of this process
    }

    public UpOptions toUpOptions(String name, Path dir) {
      List<String> jvm = new ArrayList<>(UpOptions.DEFAULT_JVM_OPTIONS);
      String env = System.getenv("FENCELAB_MEMBER_JAVA_OPTS");
      if (env != null && !env.isBlank()) {
        jvm.addAll(List.of(env.trim().split("\\s+")));
      }
      jvm.addAll(jvmOptions);
      if (tls != null) {
        jvm.add("-Dfencelab.tls.dir=" + tls);
      }
      if (config != null) {
        MemberConfig.parseFile(config); // fail here, with exit 2, rather than in every member
      }
      return new UpOptions(name, nodes, basePort, dir, Durations.parse("--timeout", timeout), ownJar(),
          ProcessHandle.current().info().command().orElse("java"), jvm, config);
    }
  }

  /** The fat jar this CLI runs from: members run the same one. */
  static Path ownJar() {
    try {
      Path jar = Path.of(ClusterCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!jar.toString().endsWith(".jar")) {
        throw UserError.runtime("fencelab must run from its jar to launch members (running from " + jar + "); use ./fencelab");
      }
      return jar;
    } catch (URISyntaxException e) {
      throw UserError.runtime("cannot locate the fencelab jar: " + e.getMessage());
    }
  }

  static LocalCluster.Started up(String name, Path dir, LaunchOptions launch, PrintStream out) {
    return up(name, dir, launch.toUpOptions(name, dir), out);
  }

  static LocalCluster.Started up(String name, Path dir, UpOptions options, PrintStream out) {
    int nodeCount = options.nodes();
    out.printf("starting local cluster '%s': 1 coordinator + %d node%s on %s, run directory %s%n",
        name, nodeCount, nodeCount == 1 ? "" : "s", LocalCluster.HOST, dir);
    LocalCluster.Started started = new LocalCluster(out).up(options);
    out.printf("cluster '%s' is Up: %d members formed in %.2f s%n%n",
        name, started.manifest().members().size(), started.formation().toMillis() / 1000.0);
    StatusTable.print(started.status(), names(started.manifest()), out);
    return started;
  }

  /**
   * A local cluster owned by this command ({@code run}, {@code demo}, {@code bench}): every member leaves when this
   * process is gone, however it went (SIGKILL included), and a SIGINT or SIGTERM stops the members before this
   * process exits. {@code cluster up} members are not owned: they stay until {@code cluster down}.
   */
  static LocalCluster.Started upOwned(String name, Path dir, UpOptions options, PrintStream out) {
    synchronized (OWNED) {
      hook();
      OWNED.add(dir);
    }
    return up(name, dir, options.ownedBy(ProcessHandle.current().pid()), out);
  }

  /** The owned cluster in {@code dir} was stopped by its command: nothing for the shutdown hook to do there. */
  static void released(Path dir) {
    synchronized (OWNED) {
      OWNED.remove(dir);
    }
  }

  private static final java.util.Set<Path> OWNED = new java.util.HashSet<>();
  private static boolean hooked;

  private static volatile org.apache.pekko.actor.typed.ActorRef<dev.fencelab.coordinator.scenario.run.ScenarioRun.Msg> running;
  private static volatile java.util.concurrent.CompletableFuture<Void> runReport;

  /**
   * The run in progress ({@code null}: none): on SIGINT/SIGTERM it is interrupted first, and its report is written
   * (waited for at most 30 s) before the clusters stop.
   */
  static void interruptible(org.apache.pekko.actor.typed.ActorRef<dev.fencelab.coordinator.scenario.run.ScenarioRun.Msg> run,
      java.util.concurrent.CompletableFuture<Void> report) {
    synchronized (OWNED) {
      if (run != null) {
        hook();
      }
      running = run;
      runReport = report;
    }
  }

  /** The shutdown hook, registered once. Callers hold the OWNED lock. */
  private static void hook() {
    if (!hooked) {
      hooked = true;
      Runtime.getRuntime().addShutdownHook(new Thread(ClusterCommand::stopOwned, "fencelab-stop-local-clusters"));
    }
  }

  /** On SIGINT/SIGTERM: interrupts the run in progress (its record and report are written), then stops every owned cluster. */
  private static void stopOwned() {
    var run = running;
    var report = runReport;
    if (run != null && report != null && !report.isDone()) {
      System.err.println("fencelab: interrupted: ending the run and writing what it has");
      run.tell(new dev.fencelab.coordinator.scenario.run.ScenarioRun.Interrupt("interrupted (SIGINT or SIGTERM)"));
      try {
        report.get(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("fencelab: the run's report could not be written before exit: " + e);
      }
    }
    List<Path> dirs;
    synchronized (OWNED) {
      dirs = List.copyOf(OWNED);
    }
    for (Path dir : dirs) {
      LocalCluster.Stopped stopped = new LocalCluster(new PrintStream(java.io.OutputStream.nullOutputStream())).down(dir,
          java.time.Duration.ofSeconds(5));
      if (stopped.wasRunning()) {
        System.err.printf("fencelab: interrupted: stopped the local cluster (%d members); its logs are in %s%n", stopped.members(), dir);
      }
    }
  }

  static Function<String, Optional<String>> names(ClusterManifest manifest) {
    return manifest::nameOf;
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = {"Starts a coordinator and N node members as separate JVMs and returns once all are Up.", "",
          "Example: fencelab cluster up --nodes 3", ""})
  static final class Up implements Callable<Integer> {
    @Mixin ClusterDir cluster;
    @Mixin LaunchOptions launch;

    @Option(names = "--pace", paramLabel = "asap|realtime[:SCALE]", description = "How the members' devices map model time to real time "
        + "(default: asap). Runs with --cluster use it: start with realtime for scenarios that say pace: realtime (the demo).")
    String pace;

    @Override
    public Integer call() {
      PrintStream out = System.out;
      if (pace != null) {
        launch.jvmOptions.add("-Dfencelab.device.pacing=" + checkedPace(pace));
      }
      up(cluster.name(), cluster.dir(), launch, out);
      out.printf("%nstatus: fencelab cluster status%s   stop: fencelab cluster down%s%n",
          suffix(cluster), suffix(cluster));
      return 0;
    }
  }

  /** {@code --pace} as the members parse it; anything else is bad input before a member starts. */
  static String checkedPace(String pace) {
    try {
      dev.fencelab.node.device.Pacing.parse(pace);
      return pace;
    } catch (IllegalArgumentException e) {
      throw UserError.badInput("--pace must be asap, realtime or realtime:SCALE, not '" + pace + "'");
    }
  }

  static String suffix(ClusterDir cluster) {
    if (cluster.dir != null) return " --dir " + cluster.dir;
    return cluster.name().equals("local") ? "" : " --name " + cluster.name();
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = {"Members, roles, addresses, reachability, Up/Down, and a protobuf ping round trip to every node.", "",
          "Examples: fencelab cluster status      fencelab cluster status --json      fencelab cluster status --waits",
          "          fencelab cluster status --api 10.0.0.1:8560   (any cluster's coordinator API)", ""})
  static final class Status implements Callable<Integer> {
    @Mixin ClusterDir cluster;

    @Option(names = "--json", description = "Print the coordinator's status as JSON.")
    boolean json;

    @Option(names = "--api", paramLabel = "HOST:PORT", description = "Ask this coordinator API instead of the local cluster's.")
    String api;

    @Option(names = "--ping-timeout", defaultValue = "2s", paramLabel = "DURATION", description = "How long to wait for each node's pong (default: ${DEFAULT-VALUE}).")
    String pingTimeout;

    @Option(names = "--token-file", paramLabel = "FILE", description = "The API's bearer token (the coordinator's --http-token-file).")
    Path tokenFile;

    @Option(names = "--waits", description = "Also the waits open now on every node, as a wait-for graph, and any cycle among them "
        + "(a deadlock while it lasts).")
    boolean waits;

    @Override
    public Integer call() throws Exception {
      StatusClient client;
      String token = "";
      if (tokenFile != null) {
        try {
          token = Files.readString(tokenFile).strip();
        } catch (java.io.IOException e) {
          throw UserError.badInput("cannot read --token-file " + tokenFile + ": " + e.getMessage());
        }
      }
      Optional<ClusterManifest> manifest = Optional.empty();
      if (api != null) {
        int colon = api.lastIndexOf(':');
        if (colon <= 0) {
          throw UserError.badInput("--api must be HOST:PORT, was " + api);
        }
        try {
          client = new StatusClient(api.substring(0, colon), Integer.parseInt(api.substring(colon + 1)), token);
        } catch (NumberFormatException e) {
          throw UserError.badInput("--api must be HOST:PORT, was " + api);
        }
      } else {
        manifest = ClusterManifest.read(cluster.dir().toAbsolutePath());
        ClusterManifest m = manifest.orElseThrow(() -> UserError.runtime(
            "no cluster in " + cluster.dir() + " (start one with: fencelab cluster up" + suffix(cluster) + ")"));
        if (m.liveMembers().isEmpty()) {
          throw UserError.runtime("cluster '" + m.name() + "' in " + cluster.dir() + " is not running (state: " + m.state() + ")");
        }
        client = new StatusClient(m.httpHost(), m.httpPort(), token);
      }
      var timeout = Durations.parse("--ping-timeout", pingTimeout);
      if (json) {
        System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsString(client.statusJson(timeout, waits)));
        return 0;
      }
      var tree = client.statusJson(timeout, waits);
      ObjectMapper mapper = new ObjectMapper().configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
      ClusterStatus status = mapper.convertValue(tree, ClusterStatus.class);
      Function<String, Optional<String>> names = manifest.isPresent() ? names(manifest.get()) : a -> Optional.empty();
      StatusTable.print(status, names, System.out);
      if (waits) {
        if (tree.has("waits")) {
          StatusTable.printWaits(mapper.convertValue(tree.get("waits"), dev.fencelab.coordinator.OpenWaits.Graph.class), System.out);
        } else {
          System.out.println("\nopen waits: the node agents did not answer in time");
        }
      }
      if (manifest.isPresent()) {
        List<ClusterManifest.MemberEntry> dead = manifest.get().members().stream()
            .filter(e -> e.process().isEmpty()).toList();
        for (ClusterManifest.MemberEntry e : dead) {
          System.out.printf("%nmember %s (pid %d) is not running; log: %s%n", e.name(), e.pid(), e.log());
        }
      }
      return 0;
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true,
      description = {"Stops every member: SIGTERM (leave the cluster, exit), then SIGKILL after the grace period.", "",
          "Example: fencelab cluster down --grace 5s", ""})
  static final class Down implements Callable<Integer> {
    @Mixin ClusterDir cluster;

    @Option(names = "--grace", defaultValue = "15s", paramLabel = "DURATION", description = "How long members may take to stop before they are killed (default: ${DEFAULT-VALUE}).")
    String grace;

    @Override
    public Integer call() {
      long t0 = System.nanoTime();
      LocalCluster.Stopped stopped = new LocalCluster(System.out).down(cluster.dir(), Durations.parse("--grace", grace));
      if (!stopped.wasRunning()) {
        System.out.printf("no running cluster in %s (already down)%n", cluster.dir());
        return 0;
      }
      System.out.printf("stopped %d members in %.2f s: %d cleanly%s%n",
          stopped.members(), (System.nanoTime() - t0) / 1e9, stopped.members() - stopped.killed().size(),
          stopped.killed().isEmpty() ? "" : ", " + stopped.killed().size() + " killed after the " + grace
              + " grace period (" + String.join(", ", stopped.killed()) + ")");
      return 0;
    }
  }
}
