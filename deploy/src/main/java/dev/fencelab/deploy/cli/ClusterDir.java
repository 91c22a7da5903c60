package dev.fencelab.deploy.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which local cluster a command means: {@code --name} (default {@code local}) or an explicit {@code --dir}. */
public final class ClusterDir {
  @Option(names = "--name", defaultValue = "local", description = "Cluster name (default: ${DEFAULT-VALUE}); its run directory is ./run/<name>.")
  String name;

  @Option(names = "--dir", paramLabel = "DIR", description = "Run directory (default: ./run/<name>): per-member logs, pids, ports, cluster.json.")
  Path dir;

  public String name() {
    return name;
  }

  public Path dir() {
    return dir != null ? dir : Path.of("run", name);
  }
}
