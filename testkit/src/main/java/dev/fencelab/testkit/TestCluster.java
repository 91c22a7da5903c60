package dev.fencelab.testkit;

import dev.fencelab.deploy.local.ClusterManifest;
import dev.fencelab.deploy.local.LocalCluster;
import dev.fencelab.deploy.local.StatusClient;
import dev.fencelab.deploy.local.UpOptions;
import dev.fencelab.protocol.control.ClusterStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/** A local cluster of real member JVMs for one test. Build with {@link #builder(String)}; close when done. */
public final class TestCluster implements AutoCloseable {
  private static final AtomicLong SEQ = new AtomicLong();

  private final Path dir;
  private final ClusterManifest manifest;
  private final ByteArrayOutputStream launcherOutput;
  private final Thread reaper;

  private TestCluster(Path dir, ClusterManifest manifest, ByteArrayOutputStream launcherOutput) {
    this.dir = dir;
    this.manifest = manifest;
    this.launcherOutput = launcherOutput;
    // If the test JVM dies without closing us, leave nothing running.
    this.reaper = new Thread(this::killAll, "test-cluster-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  public static Builder builder(String testName) {
    return new Builder(testName);
  }

  /** The fat jar under test ({@code -Dfencelab.jar}, set by the it-tests POM). */
  public static Path jar() {
    String jar = System.getProperty("fencelab.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("system property fencelab.jar must name the built fencelab jar, was " + jar);
    }
    return Path.of(jar);
  }

  /** Where tests put run directories ({@code -Dfencelab.it.dir}, else a temp directory). */
  public static Path runsDir() {
    String d = System.getProperty("fencelab.it.dir");
    try {
      return d != null ? Files.createDirectories(Path.of(d)) : Files.createTempDirectory("fencelab-it");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A fresh run directory for a test. */
  public static Path newRunDir(String testName) {
    return runsDir().resolve(testName + "-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
  }

  /**
   * The JIT of a test cluster's members (and of the members a test's {@code fencelab} command starts): C1 only. A test
   * cluster lives seconds; C2's compiles of the startup path took the CPU the other members needed to start (4 members
   * formed in 6.0–6.5 s instead of 8.5–10 s on 2 cores). Semantics do not depend on the JIT; benches run outside tests.
   */
  public static final String SHORT_LIVED_JIT = "-XX:TieredStopAtLevel=1";

  public static final class Builder {
    private final String testName;
    private int nodes = 3;
    private Duration timeout = Duration.ofSeconds(60);
    private final List<String> jvmOptions = new ArrayList<>(UpOptions.DEFAULT_JVM_OPTIONS);

    private Builder(String testName) {
      this.testName = testName;
      jvmOptions.add("-Dpekko.actor.serialize-messages=on");
      jvmOptions.add(SHORT_LIVED_JIT);
    }

    public Builder nodes(int n) {
      this.nodes = n;
      return this;
    }

    public Builder timeout(Duration t) {
      this.timeout = t;
      return this;
    }

    public Builder jvmOption(String option) {
      jvmOptions.add(option);
      return this;
    }

    public TestCluster start() {
      Path dir = newRunDir(testName);
      ByteArrayOutputStream output = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
      UpOptions options = new UpOptions(testName, nodes, null, dir, timeout, jar(),
          ProcessHandle.current().info().command().orElse("java"), jvmOptions, null).ownedBy(ProcessHandle.current().pid()); // a test JVM that dies takes its members
      try {
        LocalCluster.Started started = new LocalCluster(out).up(options);
        return new TestCluster(dir, started.manifest(), output);
      } catch (RuntimeException e) {
        throw new IllegalStateException("cluster did not start: " + e.getMessage() + "\n" + output.toString(StandardCharsets.UTF_8)
            + ClusterLogs.render(dir), e);
      }
    }
  }

  public Path dir() {
    return dir;
  }

  public ClusterManifest manifest() {
    return manifest;
  }

  public ClusterManifest.MemberEntry member(String name) {
    return manifest.members().stream().filter(m -> m.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no member " + name));
  }

  public ClusterStatus status(Duration pingTimeout) {
    return new StatusClient(manifest.httpHost(), manifest.httpPort()).status(pingTimeout);
  }

  /** SIGKILL: a hard crash of the member, as a hot-unplug of everything on it. */
  public void kill(String name) {
    ProcessHandle p = member(name).process().orElseThrow(() -> new IllegalStateException(name + " is not running"));
    p.destroyForcibly();
    try {
      p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(name + " did not die within 10 s of SIGKILL", e);
    }
  }

  public String launcherOutput() {
    return launcherOutput.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    new LocalCluster(new PrintStream(java.io.OutputStream.nullOutputStream())).down(dir, Duration.ofSeconds(10));
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // JVM already shutting down: the hook runs anyway
    }
  }

  private void killAll() {
    manifest.members().forEach(m -> m.process().ifPresent(ProcessHandle::destroyForcibly));
  }

  /** Every log and console file of the cluster, for diagnostics. */
  public List<Path> logFiles() {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".out")).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }
}
