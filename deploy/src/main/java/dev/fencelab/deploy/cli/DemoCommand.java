package dev.fencelab.deploy.cli;

import dev.fencelab.deploy.local.LocalCluster;
import dev.fencelab.protocol.control.ClusterStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Launches a local 3-node cluster of real JVMs, checks that every node answers a protobuf ping",
      "from the coordinator, prints a verdict and stops the cluster.",
      "(The showcase scenario - a cross-node fence pipeline with a node killed mid-flight - replaces",
      "this foundation demo once the scenario runner exists.)",
      ""
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--dir", defaultValue = "run/demo", paramLabel = "DIR", description = "Run directory (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Mixin ClusterCommand.LaunchOptions launch;

  @Override
  public Integer call() throws IOException {
    PrintStream out = System.out;
    LocalCluster cluster = new LocalCluster(out);
    // up() stops whatever it started when it fails.
    LocalCluster.Started started = ClusterCommand.up("demo", dir, launch, out);
    ClusterStatus status = started.status();
    Path statusFile = dir.resolve("status.json");
    Files.writeString(statusFile, dev.fencelab.coordinator.CoordinatorApi.toJson(status));
    long answered = status.nodes().stream().filter(ClusterStatus.Node::responded).count();
    LocalCluster.Stopped stopped = cluster.down(dir, Duration.ofSeconds(15));
    out.printf("%nstopped %d members (%d killed after the grace period)%n", stopped.members(), stopped.killed().size());

    boolean pass = answered == launch.nodes && stopped.killed().isEmpty();
    out.printf("%nverdict: %s - %d/%d nodes joined and answered a protobuf ping; cluster formed in %.2f s%n",
        pass ? "PASS" : "FAIL", answered, launch.nodes, started.formation().toMillis() / 1000.0);
    out.printf("status:  %s%nlogs:    %s/*.log%n", statusFile, dir);
    return pass ? 0 : 1;
  }
}
