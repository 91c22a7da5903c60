package dev.fencelab.node.bench;

import java.util.Objects;

/**
 * One measured figure with its raw-Pekko baseline. {@code ratio} is value / baseline; whether higher is better
 * says how to read it.
 */
public record BenchFigure(String name, String unit, double value, double baseline, double ratio, boolean higherIsBetter) {
  public BenchFigure {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(unit, "unit");
  }

  public static BenchFigure of(String name, String unit, double value, double baseline, boolean higherIsBetter) {
    return new BenchFigure(name, unit, value, baseline, baseline == 0 ? 0 : value / baseline, higherIsBetter);
  }
}
