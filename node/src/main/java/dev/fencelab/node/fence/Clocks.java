package dev.fencelab.node.fence;

import java.time.Instant;

/** Wall-clock readings in epoch nanoseconds (the node's clock; the coordinator aligns nodes later). */
public final class Clocks {
  private Clocks() {}

  public static long wallNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }
}
