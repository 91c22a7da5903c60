package dev.fencelab.deploy.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(
    name = "scenarios",
    mixinStandardHelpOptions = true,
    description = {"Lists the bundled scenarios (scenarios/*.yaml), one line each. Run one with: fencelab run NAME", ""})
public final class ScenariosCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    var list = BundledScenarios.list();
    int width = list.stream().mapToInt(e -> e.name().length()).max().orElse(10);
    for (BundledScenarios.Entry e : list) {
      System.out.printf("%-" + width + "s  %s%n", e.name(), e.description());
    }
    long conformance = BundledScenarios.countUnder("conformance/");
    if (conformance > 0) {
      System.out.printf("%nconformance/: %d kernel selftests translated into scenarios (st-dma-fence, st-dma-fence-chain, "
          + "st-dma-fence-unwrap, st-dma-resv, IGT sw_sync and dmabuf_sync_file); run them all on one cluster: fencelab run scenarios/conformance%n", conformance);
    }
    System.out.printf("%nrun one: fencelab run NAME [--seed N] [--out DIR]   (the files are in scenarios/ of the repository)%n");
    return 0;
  }
}
