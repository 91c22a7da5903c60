package dev.fencelab.node.device;

import java.time.Duration;
import java.util.Objects;

/** How model time maps to real time: {@code asap} never waits; {@code realtime} waits {@code duration × scale}. */
public record Pacing(boolean realtime, double scale) {
  public static final Pacing ASAP = new Pacing(false, 1.0);

  public Pacing {
    if (!(scale > 0)) {
      throw new IllegalArgumentException("pacing scale must be positive: " + scale);
    }
  }

  public Duration realDelay(long modelNanos) {
    return realtime ? Duration.ofNanos((long) (modelNanos * scale)) : Duration.ZERO;
  }

  /** {@code asap}, {@code realtime} or {@code realtime:SCALE}. */
  public static Pacing parse(String text) {
    Objects.requireNonNull(text, "pacing");
    if (text.equals("asap")) {
      return ASAP;
    }
    if (text.equals("realtime")) {
      return new Pacing(true, 1.0);
    }
    if (text.startsWith("realtime:")) {
      try {
        return new Pacing(true, Double.parseDouble(text.substring("realtime:".length())));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("pacing scale is not a number: " + text);
      }
    }
    throw new IllegalArgumentException("pacing must be asap, realtime or realtime:SCALE, not '" + text + "'");
  }
}
