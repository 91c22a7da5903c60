package dev.fencelab.deploy.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the showcase scenario (scenarios/demo.yaml) on a local 3-node cluster of real JVMs.",
      "A cross-node GPU pipeline through a shared dma-buf, checked end to end, then the exporter's node "
          + "killed (SIGKILL) while the next frame is in flight. Prints the verdict and where the trace and the "
          + "report are, and stops the cluster.",
      "The same as: fencelab run demo",
      ""
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: a new run/demo/<time>-seed<N>/, "
      + "run/demo/latest pointing at it).")
  Path out;

  @Option(names = "--seed", paramLabel = "N", description = "Seed of the chaos schedule (default: the scenario's).")
  Long seed;

  @Mixin ClusterCommand.LaunchOptions launch;

  @Override
  public Integer call() throws IOException {
    return RunCommand.run("demo", null, seed, out, null, null, "10m", launch, System.out);
  }
}
