package dev.fencelab.deploy.cli;

import dev.fencelab.deploy.UserError;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code fencelab check SCENARIO...}: validates scenarios without a cluster — every field, reference, order, unit and
 * expectation problem of each, in one pass — and exits 0 when all are valid, 2 otherwise. Starts nothing.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {"Validates scenario files (or bundled scenarios by name) without starting a cluster.",
        "Every problem of each, with its file and line, in one pass. Exit 0: all valid; 2: a problem.", ""})
public final class CheckCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "SCENARIO", description = "scenario files (.yaml, .json) or bundled scenario names")
  List<String> scenarios;

  @Override
  public Integer call() {
    int bad = 0;
    for (String scenario : scenarios) {
      try {
        var loaded = RunCommand.load(scenario);
        var s = loaded.scenario();
        long withExpect = s.getStepsList().stream().filter(st -> st.hasExpect()).count();
        long protocol = s.getStepsList().stream().filter(ScenarioSteps::isProtocolStep).count();
        System.out.printf("ok: %s (%s): %d node(s), %d step(s), %d with an expect, %d through the step protocol%n", scenario,
            s.getName(), s.getNodesCount(), s.getStepsCount(), withExpect, protocol);
      } catch (UserError e) {
        System.err.println("error: " + e.getMessage());
        bad++;
      }
    }
    return bad == 0 ? 0 : 2;
  }
}
