package dev.fencelab.deploy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Runs are kept: a run without {@code --out} gets a directory of its own, {@code run/<scenario>/<time>-seed<N>/}, and
 * {@code run/<scenario>/latest} is a symbolic link to the newest. Each run's record says how to run it again.
 */
final class KeptRuns {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private KeptRuns() {}

  /** A new directory under {@code base} for a run with {@code seed} (a suffix when two start in the same second). */
  static Path next(Path base, long seed) {
    String stem = LocalDateTime.now().format(TIME) + "-seed" + Long.toUnsignedString(seed);
    Path dir = base.resolve(stem);
    for (int i = 2; Files.exists(dir); i++) {
      dir = base.resolve(stem + "-" + i);
    }
    return dir;
  }

  /** Points {@code <parent>/latest} at {@code dir} (replaced atomically; a file system without links keeps none). */
  static void latest(Path dir) {
    Path link = dir.getParent().resolve("latest");
    Path tmp = dir.getParent().resolve(".latest-" + ProcessHandle.current().pid());
    try {
      Files.deleteIfExists(tmp);
      Files.createSymbolicLink(tmp, dir.getFileName());
      Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UnsupportedOperationException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // nothing more to undo
      }
    }
  }

  /**
   * The command that runs it again: a {@code run} or {@code demo} command line with its seed pinned; for a run of a
   * campaign ({@code chaos}), {@code fencelab run SCENARIO --seed N}.
   */
  static String replay(String invocation, long seed, String scenarioSource) {
    String seedText = Long.toUnsignedString(seed);
    if (!invocation.startsWith("fencelab run ") && !invocation.startsWith("fencelab demo")) {
      boolean file = Files.isRegularFile(Path.of(scenarioSource));
      String scenario = file ? scenarioSource : scenarioSource.replaceFirst("^scenarios/", "").replaceFirst("\\.yaml$", "");
      return "fencelab run " + scenario + " --seed " + seedText;
    }
    if (invocation.matches(".*\\s--seed(\\s|=).*")) {
      return invocation;
    }
    return invocation + " --seed " + seedText;
  }
}
