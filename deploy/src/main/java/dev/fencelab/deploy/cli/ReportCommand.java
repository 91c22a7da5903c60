package dev.fencelab.deploy.cli;

import dev.fencelab.coordinator.scenario.RunReport;
import dev.fencelab.deploy.UserError;
import dev.fencelab.protocol.trace.v1.RunRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fencelab report DIR}: re-judges a kept run without a cluster. A run's {@code run.pb} holds everything the
 * checker read — the scenario as run, every node's events, the steps' outcomes, the checksums — so the verdict,
 * traces, latency tables and report are made again from it, by this fencelab's checker (a newer one, a fixed one).
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {"Re-judges a kept run from its run.pb, without a cluster.",
        "Verdict, traces, latencies and report are written again (into DIR, or --out) by this fencelab's checker.",
        "Exit 0: PASS; 1: FAIL; 2: not a run directory.", ""})
public final class ReportCommand implements Callable<Integer> {
  @Parameters(paramLabel = "DIR", description = "a run's output directory (it holds run.pb)")
  Path dir;

  @Option(names = "--out", paramLabel = "DIR", description = "Write the new files here instead of into DIR.")
  Path out;

  @Override
  public Integer call() throws IOException {
    return rejudge(dir, out == null ? dir : out, System.out);
  }

  static int rejudge(Path dir, Path out, PrintStream console) throws IOException {
    Path raw = dir.resolve("run.pb");
    if (!Files.isRegularFile(raw)) {
      throw UserError.badInput("no run.pb in " + dir + " (give the output directory of a fencelab run)");
    }
    RunRecord record;
    try {
      record = RunRecord.parseFrom(Files.readAllBytes(raw));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw UserError.badInput(raw + " is not a run record (" + e.getMessage() + ")");
    }
    if (!record.hasDefinition()) {
      throw UserError.badInput(raw + " was written by an older fencelab and does not hold its scenario; run it again");
    }
    RunReport.Result report = RunReport.write(record.getDefinition(), record, out);
    console.printf("re-judged %s (scenario %s, seed %d) from %s%n%n", dir, record.getScenario(), record.getSeed(), raw);
    console.print(RunReport.summary(report.verdict()));
    console.printf("%ntrace:   %s%nreport:  %s%nverdict: %s%n", out.resolve("trace.json"), out.resolve("report.html"),
        out.resolve("verdict.json"));
    return report.verdict().pass() ? 0 : 1;
  }
}
