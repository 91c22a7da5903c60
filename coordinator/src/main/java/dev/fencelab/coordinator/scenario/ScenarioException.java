package dev.fencelab.coordinator.scenario;

import java.util.List;

/** A scenario that cannot run: every problem found, each naming the field and, where known, the line. */
public final class ScenarioException extends Exception {
  private final List<String> problems;

  public ScenarioException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
