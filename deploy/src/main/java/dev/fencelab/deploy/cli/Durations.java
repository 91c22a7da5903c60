package dev.fencelab.deploy.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.fencelab.deploy.UserError;
import java.time.Duration;

/** Durations on the command line, in HOCON's syntax: {@code 500ms}, {@code 30s}, {@code 2m}. */
final class Durations {
  private Durations() {}

  static Duration parse(String option, String value) {
    try {
      Duration d = ConfigFactory.parseString("d = \"" + value.replace("\"", "") + "\"").getDuration("d");
      if (d.isNegative() || d.isZero()) {
        throw UserError.badInput(option + " must be positive, was " + value);
      }
      return d;
    } catch (ConfigException e) {
      throw UserError.badInput(option + ": '" + value + "' is not a duration (e.g. 500ms, 30s, 2m)");
    }
  }
}
