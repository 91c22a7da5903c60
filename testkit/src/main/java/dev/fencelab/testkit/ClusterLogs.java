package dev.fencelab.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * JUnit extension: tracks the run directories a test uses, stops their clusters after the test, and prints
 * their member logs only when the test failed (in the spirit of Aeron's {@code SystemTestWatcher}).
 *
 * <pre>{@code @RegisterExtension final ClusterLogs logs = new ClusterLogs();
 * ... TestCluster cluster = logs.track(TestCluster.builder("x").start());}</pre>
 */
public final class ClusterLogs implements AfterEachCallback, TestWatcher {
  private static final int TAIL_LINES = 80;

  private final List<TestCluster> clusters = new ArrayList<>();
  private final List<Path> dirs = new ArrayList<>();
  private final boolean stopAfterEach;

  /** Stops the tracked clusters after each test. */
  public ClusterLogs() {
    this(true);
  }

  /** @param stopAfterEach false for a cluster shared by a whole class (stopped by the class itself) */
  public ClusterLogs(boolean stopAfterEach) {
    this.stopAfterEach = stopAfterEach;
  }

  public TestCluster track(TestCluster cluster) {
    clusters.add(cluster);
    dirs.add(cluster.dir());
    return cluster;
  }

  /** Tracks a run directory whose cluster the test started some other way (e.g. through the CLI). */
  public Path track(Path dir) {
    dirs.add(dir);
    return dir;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (!stopAfterEach) {
      return;
    }
    for (TestCluster c : clusters) {
      c.close();
    }
    for (Path dir : dirs) {
      new dev.fencelab.deploy.local.LocalCluster(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
          .down(dir, java.time.Duration.ofSeconds(5));
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    for (Path dir : dirs) {
      System.err.println(render(dir));
    }
  }

  @Override
  public void testSuccessful(ExtensionContext context) {}

  @Override
  public void testAborted(ExtensionContext context, Throwable cause) {}

  @Override
  public void testDisabled(ExtensionContext context, Optional<String> reason) {}

  /** The tail of every log and console file in a run directory. */
  public static String render(Path dir) {
    StringBuilder b = new StringBuilder();
    b.append("\n===== member logs in ").append(dir).append(" =====\n");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".out")).sorted().toList()) {
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        b.append("----- ").append(f.getFileName()).append(" (last ").append(Math.min(TAIL_LINES, lines.size()))
            .append(" of ").append(lines.size()).append(" lines) -----\n");
        lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()).forEach(l -> b.append(l).append('\n'));
      }
    } catch (IOException e) {
      b.append("(cannot read: ").append(e.getMessage()).append(")\n");
    }
    return b.toString();
  }
}
