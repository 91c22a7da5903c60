package dev.fencelab.deploy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.ConfigFactory;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.local.LocalCluster;
import dev.fencelab.deploy.member.ClientMember;
import dev.fencelab.node.bench.BenchFigure;
import dev.fencelab.node.cluster.FenceControl;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measures fencelab against raw Pekko doing the same shape of work, in the same run, on a local cluster.",
      "Figures, not assertions: each with its raw baseline and the ratio.",
      "",
      "Suites: 'fences' (fence signal/wait latency and rates, heap per fence) and 'devices' (jobs per "
          + "second through one engine with a remote in-fence; copy throughput between GPUs on two nodes; "
          + "invalidation rounds with 1 and 100 notifier subscribers on the peer) and 'rdma' (RDMA WRITE "
          + "throughput and the small-message rate between NICs on two nodes, against raw Pekko moving the same "
          + "bytes) and 'scale' (--pending fences held pending across all --nodes, with the heap each member needs; "
          + "a --chain of that many points waited on from n2: sizes and times, no raw twin).",
      "",
      "Example: fencelab bench fences --nodes 2 --json run/bench/fences.json",
      "         fencelab bench devices --jobs 20000 --copy-mib 16 --copies 32",
      "         fencelab bench rdma --rdma-mib 16 --rdma-writes 16 --small 20000",
      "         fencelab bench scale --nodes 3 --pending 10000000 --chain 1000000 --member-heap 6g",
      "         fencelab bench compare run/bench/before.json run/bench/after.json",
      "         fencelab bench rdma --tls-cost        (plaintext, then mutual TLS: what TLS costs)",
      ""
    })
public final class BenchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SUITE", description = "Benchmark suite: fences, devices or rdma; or compare A.json B.json.")
  String suite;

  @Parameters(index = "1..*", paramLabel = "FILE", arity = "0..2", description = "compare: two files written by --json.")
  List<Path> files = new java.util.ArrayList<>();

  @Option(names = "--nodes", defaultValue = "2", description = "Node members (default: ${DEFAULT-VALUE}); n1 runs the bench, n2 is the cross-node peer.")
  int nodes;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
  Path json;

  @Option(names = "--dir", defaultValue = "run/bench", paramLabel = "DIR", description = "Run directory of the bench cluster (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--iterations", defaultValue = "5000", description = "Latency samples per local figure; ten times as many "
      + "fences a round of the created+signalled and pipelined figures (default: ${DEFAULT-VALUE}).")
  int iterations;

  /** Fences a round of the created+signalled and pipelined figures: ten times {@code --iterations} (50,000 by default), at most 1,000,000. */
  static int createSignalBatch(int iterations) {
    return (int) Math.min(10L * iterations, 1_000_000);
  }

  @Option(names = "--waiters", defaultValue = "1000", description = "Waiters of one fence in the fan-out figure (default: ${DEFAULT-VALUE}).")
  int waiters;

  @Option(names = "--cross", defaultValue = "2000", description = "Cross-node samples (default: ${DEFAULT-VALUE}).")
  int cross;

  @Option(names = "--pending", defaultValue = "1000000", description = "Pending fences for the heap figure (scale: across all nodes); 0 "
      + "skips it (default: ${DEFAULT-VALUE}).")
  int pending;

  @Option(names = "--chain", defaultValue = "100000", description = "scale: points of the fence chain waited on from n2 (default: "
      + "${DEFAULT-VALUE}).")
  int chain;

  @Option(names = "--jobs", defaultValue = "20000", description = "devices: jobs in the remote in-fence figure (default: ${DEFAULT-VALUE}).")
  int jobs;

  @Option(names = "--copy-mib", defaultValue = "16", description = "devices: size of the copied buffer in MiB, at most the bytes threshold "
      + "so that it holds real bytes (default: ${DEFAULT-VALUE}).")
  int copyMib;

  @Option(names = "--copies", defaultValue = "32", description = "devices: copy jobs of the whole buffer (default: ${DEFAULT-VALUE}).")
  int copies;

  @Option(names = "--rdma-mib", defaultValue = "16", description = "rdma: size of each RDMA WRITE in MiB, real bytes (default: ${DEFAULT-VALUE}).")
  int rdmaMib;

  @Option(names = "--rdma-writes", defaultValue = "16", description = "rdma: RDMA WRITEs in the throughput figure (default: ${DEFAULT-VALUE}).")
  int rdmaWrites;

  @Option(names = "--small", defaultValue = "20000", description = "rdma: 64-byte RDMA WRITEs in the rate figure (default: ${DEFAULT-VALUE}).")
  int small;

  @Option(names = "--member-heap", defaultValue = "3g", description = "Heap of each member JVM (default: ${DEFAULT-VALUE}).")
  String memberHeap;

  @Option(names = "--lockdep", defaultValue = "on", paramLabel = "on|off", description = "The dma-fence signalling annotations and "
      + "lock classes in the members (default: ${DEFAULT-VALUE}, as in scenarios); compare the two to see their cost.")
  String lockdep;

  /** Mutual TLS for the bench cluster and its client (as {@code cluster up --tls}). */
  @Option(names = "--tls", paramLabel = "DIR", description = "Run over mutual-TLS Artery with the certificates of DIR (fencelab certs "
      + "--members coordinator,n1,n2,client): fencelab and raw Pekko alike.")
  Path tls;

  @Option(names = "--tls-cost", description = "Run the suite twice, over plaintext and over mutual-TLS Artery (certificates made for "
      + "the run), and print what TLS costs each figure, fencelab's and raw Pekko's.")
  boolean tlsCost;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Measure on this running cluster (its nodes n1 and n2) instead of "
      + "starting a local one: figures of the machines and network it runs on.")
  String cluster;

  @Option(names = "--host", paramLabel = "ADDRESS", description = "With --cluster on other machines: the address the bench's client "
      + "member binds and advertises (default 127.0.0.1).")
  String host;

  @Override
  public Integer call() throws IOException {
    if (suite.equals("compare")) {
      if (files.size() != 2) {
        throw UserError.badInput("bench compare needs two files written by --json: fencelab bench compare A.json B.json");
      }
      return BenchCompare.print(files.get(0), files.get(1), System.out);
    }
    if (!files.isEmpty()) {
      throw UserError.badInput("unexpected argument '" + files.get(0) + "' (only bench compare takes files)");
    }
    if (!List.of("fences", "devices", "rdma", "scale").contains(suite)) {
      throw UserError.badInput("unknown benchmark suite '" + suite + "' (known: fences, devices, rdma, scale)");
    }
    if (chain < 0) {
      throw UserError.badInput("--chain must be at least 0");
    }
    if (rdmaMib < 1 || rdmaMib > 16 || rdmaWrites < 1 || small < 1) {
      throw UserError.badInput("--rdma-mib must be 1..16 (real bytes), --rdma-writes and --small positive");
    }
    if (nodes < 1 || iterations < 1 || waiters < 1 || cross < 1 || pending < 0 || jobs < 1 || copies < 1) {
      throw UserError.badInput("--nodes, --iterations, --waiters, --cross, --jobs and --copies must be positive; --pending at least 0");
    }
    if (copyMib < 1 || copyMib > 16) {
      throw UserError.badInput("--copy-mib must be 1..16 (buffers above the 16 MiB bytes threshold hold pattern segments, not bytes)");
    }
    if (!lockdep.equals("on") && !lockdep.equals("off")) {
      throw UserError.badInput("--lockdep must be on or off, not '" + lockdep + "'");
    }
    if (!suite.equals("fences") && !suite.equals("scale") && nodes < 2) {
      throw UserError.badInput("the " + suite + " suite needs --nodes 2 or more (a transfer between two nodes)");
    }
    PrintStream out = System.out;
    if (cluster != null && tlsCost) {
      throw UserError.badInput("--tls-cost starts its own clusters (plaintext, then TLS); a running cluster's transport is its own");
    }
    if (host != null && cluster == null) {
      throw UserError.badInput("--host is the bench's address in a cluster it joins: give --cluster HOST:PORT too");
    }
    if (tlsCost && tls != null) {
      throw UserError.badInput("--tls-cost makes its own certificates for the TLS run; give either --tls DIR or --tls-cost");
    }
    List<BenchFigure> plaintext = null;
    Path tlsDir = tls;
    if (tlsCost) {
      out.println("--tls-cost: the suite runs twice, over plaintext Artery, then over mutual-TLS Artery (certificates of this run)");
      plaintext = measure(null, out);
      tlsDir = benchCertificates(dir.resolve("tls-certs"));
    }
    List<BenchFigure> figures = measure(tlsDir, out);
    if (tlsDir != null) {
      out.printf("%n(over mutual-TLS Artery: fencelab and raw Pekko alike)%n");
    }
    print(figures, out);
    if (suite.equals("fences") || suite.equals("devices")) {
      out.printf("%nRates are each side's median over its measured rounds, fencelab's and raw's alternating after warm-up rounds, "
          + "each round after a full GC; the round trips (local 1-waiter, cross-node) alternate sample by sample. n1's log lists every round%s.%n",
          cluster == null ? " (" + dir.resolve("n1.log") + ")" : "");
    }
    if (plaintext != null) {
      printTlsCost(plaintext, figures, out);
    }
    if (json != null) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("machine", machine());
      doc.put("lockdep", lockdep);
      doc.put("transport", tlsDir == null ? "tcp" : "tls-tcp");
      doc.put("figures", figures);
      if (plaintext != null) {
        doc.put("plaintextFigures", plaintext);
      }
      if (json.toAbsolutePath().getParent() != null) {
        java.nio.file.Files.createDirectories(json.toAbsolutePath().getParent());
      }
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
      out.printf("%nJSON: %s%n", json);
    }
    for (BenchFigure f : figures) { // a bench that could not go on says why in a figure of its own, and stops there
      if (f.name().startsWith("failed: ")) {
        throw UserError.runtime("the " + suite + " benchmark " + f.name());
      }
    }
    return 0;
  }

  /** One bench cluster (over TLS with {@code tlsDir}'s certificates when not null), the suite on it, the cluster down. */
  private List<BenchFigure> measure(Path tlsDir, PrintStream out) throws IOException {
    if (cluster != null) {
      return onRunningCluster(tlsDir, out);
    }
    ClusterCommand.LaunchOptions launch = new ClusterCommand.LaunchOptions();
    if (tlsDir != null) {
      launch.tls(tlsDir);
    } else {
      System.clearProperty("fencelab.tls.dir"); // this process's client member speaks as the members do
    }
    ConfigFactory.invalidateCaches(); // the client's configuration reads the system properties again
    launch.nodes = nodes;
    launch.timeout = "120s";
    launch.jvmOptions.addAll(List.of("-Xms" + memberHeap, "-Xmx" + memberHeap, // fixed size: no resizing mid-measurement
        // A benchmark is not a chaos test: full GCs over a million actors must not get a member downed.
        "-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=60s",
        "-Dpekko.cluster.split-brain-resolver.stable-after=60s",
        // Figures of the emulation itself: the trace buffer would count in the heap figure and its file in the rates.
        "-Dfencelab.trace.enabled=off",
        "-Dfencelab.lockdep.enabled=" + lockdep.equals("on")));
    LocalCluster.Started started = ClusterCommand.upOwned("bench", dir, launch.toUpOptions("bench", dir), out);
    try (ClientMember client = ClientMember.join(LocalCluster.HOST + ":" + started.manifest().members().get(0).port(), dir,
        nodes, Duration.ofSeconds(60), ConfigFactory.parseString( // the client's observations count for the SBR too
            "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 60s\n"
            + "pekko.cluster.split-brain-resolver.stable-after = 60s"))) {
      out.printf("%nrunning '%s' on n1%s, lockdep annotations %s%s ...%n", suite, nodes > 1 ? " (cross-node peer: n2)" : "", lockdep,
          tlsDir == null ? "" : ", mutual-TLS Artery");
      var answer = ask(client);
      ProcessHandle n1Process = started.manifest().members().get(1).process()
          .orElseThrow(() -> UserError.runtime("member n1 is not running; log: " + started.manifest().members().get(1).log()));
      while (!answer.isDone()) {
        if (!n1Process.isAlive()) {
          throw UserError.runtime("member n1 died during the benchmark; log: " + started.manifest().members().get(1).log());
        }
        ClientMember.awaitQuietly(answer, Duration.ofSeconds(1));
      }
      return ClientMember.await(answer, Duration.ofSeconds(1), "the " + suite + " benchmark").figures();
    } finally {
      new LocalCluster(out).down(dir, Duration.ofSeconds(15));
      ClusterCommand.released(dir);
    }
  }

  /** The suite on a cluster this command did not start: its nodes n1 (and n2) by name, the members left as they are. */
  private List<BenchFigure> onRunningCluster(Path tlsDir, PrintStream out) throws IOException {
    if (tlsDir != null) {
      ClusterCommand.LaunchOptions launch = new ClusterCommand.LaunchOptions();
      launch.tls(tlsDir);
    }
    ConfigFactory.invalidateCaches();
    java.nio.file.Files.createDirectories(dir);
    List<String> names = suite.equals("scale") ? java.util.stream.IntStream.rangeClosed(1, nodes).mapToObj(i -> "n" + i).toList()
        : nodes > 1 ? List.of("n1", "n2") : List.of("n1");
    try (ClientMember client = ClientMember.join(cluster, dir, names.size(), names, host == null ? ClientMember.LOOPBACK : host,
        Duration.ofSeconds(60), ConfigFactory.empty())) {
      out.printf("running '%s' on n1 of %s%s, lockdep annotations as the members run them ...%n", suite, cluster,
          nodes > 1 ? " (cross-node peer: n2)" : "");
      var answer = ask(client);
      return ClientMember.await(answer, askTimeout(), "the " + suite + " benchmark").figures();
    }
  }

  private java.util.concurrent.CompletableFuture<FenceControl.BenchReport> ask(ClientMember client) {
    var n1 = client.agent("n1");
    var peer = nodes > 1 ? client.agent("n2") : null;
    List<org.apache.pekko.actor.typed.ActorRef<dev.fencelab.protocol.control.NodeControl>> members = suite.equals("scale")
        ? java.util.stream.IntStream.rangeClosed(1, nodes).mapToObj(i -> client.agent("n" + i)).toList() : List.of();
    return AskPattern.<dev.fencelab.protocol.control.NodeControl, FenceControl.BenchReport>ask(n1,
        replyTo -> switch (suite) {
          case "fences" -> new FenceControl.RunFenceBench(iterations, waiters, 20, createSignalBatch(iterations), cross, pending, peer,
              replyTo);
          case "scale" -> new FenceControl.RunScaleBench(pending, chain, members, replyTo);
          case "rdma" -> new dev.fencelab.node.cluster.DeviceControl.RunRdmaBench((long) rdmaMib << 20, rdmaWrites, small, peer, replyTo);
          default -> new dev.fencelab.node.cluster.DeviceControl.RunDeviceBench(jobs, copyMib << 20, copies, peer, replyTo);
        },
        askTimeout(), client.system().scheduler()).toCompletableFuture();
  }

  /** How long the suite may take: the scale suite makes millions of actors. */
  private Duration askTimeout() {
    return suite.equals("scale") ? Duration.ofMinutes(60) : Duration.ofMinutes(15);
  }

  /** A throwaway authority and keystores for the bench cluster's members and its client (valid one day). */
  private Path benchCertificates(Path certs) {
    try {
      var ca = dev.fencelab.deploy.tls.ClusterCerts.open(certs, Duration.ofDays(1));
      ca.member("coordinator", Duration.ofDays(1));
      ca.member("client", Duration.ofDays(1));
      for (int i = 1; i <= nodes; i++) {
        ca.member("n" + i, Duration.ofDays(1));
      }
      return certs;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw UserError.runtime("cannot make the TLS run's certificates in " + certs + ": " + e.getMessage());
    }
  }

  /**
   * What TLS costs, figure by figure: TLS's value against plaintext's, for fencelab and for raw Pekko over the same
   * transport, oriented so that above 1 means TLS is slower (a rate divided by the TLS rate, a latency by the plaintext one).
   */
  static void printTlsCost(List<BenchFigure> plaintext, List<BenchFigure> tls, PrintStream out) {
    out.printf("%nTLS AGAINST PLAINTEXT (cost: how many times slower over TLS; 1.00 = no cost)%n");
    out.printf("%-46s %14s %14s %8s %14s %14s %8s%n", "FIGURE", "PLAIN", "TLS", "COST", "RAW PLAIN", "RAW TLS", "RAW COST");
    for (BenchFigure p : plaintext) {
      BenchFigure t = tls.stream().filter(f -> f.name().equals(p.name())).findFirst().orElse(null);
      if (t == null) {
        continue;
      }
      out.printf("%-46s %14s %14s %8.2f %14s %14s %8.2f%n", p.name(), num(p.value()), num(t.value()),
          cost(p.value(), t.value(), p.higherIsBetter()), num(p.baseline()), num(t.baseline()),
          cost(p.baseline(), t.baseline(), p.higherIsBetter()));
    }
  }

  /** How many times worse {@code tls} is than {@code plain}: above 1 slower, NaN when a figure is 0. */
  static double cost(double plain, double tls, boolean higherIsBetter) {
    if (plain <= 0 || tls <= 0) {
      return Double.NaN;
    }
    return higherIsBetter ? plain / tls : tls / plain;
  }

  private Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("memoryBytes", ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize());
    m.put("java", Runtime.version().toString());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
    m.put("memberHeap", memberHeap);
    m.put("nodes", nodes);
    return m;
  }

  static void print(List<BenchFigure> figures, PrintStream out) {
    out.printf("%n%-46s %14s %14s %8s  %s%n", "FIGURE", "FENCELAB", "RAW PEKKO", "RATIO", "UNIT (better)");
    for (BenchFigure f : figures) {
      if (f.baseline() == 0) { // a size or a time of its own (the scale suite): no raw twin, no ratio
        out.printf("%-46s %14s %14s %8s  %s%n", f.name(), num(f.value()), "-", "-", f.unit());
        continue;
      }
      out.printf("%-46s %14s %14s %8.2f  %s (%s)%n", f.name(), num(f.value()), num(f.baseline()), f.ratio(), f.unit(),
          f.higherIsBetter() ? "higher" : "lower");
    }
  }

  private static String num(double v) {
    return v >= 1000 ? String.format("%,.0f", v) : String.format("%.2f", v);
  }
}
