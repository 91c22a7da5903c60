package dev.fencelab.node.driver;

import dev.fencelab.node.device.Pacing;
import com.typesafe.config.Config;
import dev.fencelab.node.resv.Resv;
import java.time.Duration;

/**
 * Driver settings ({@code fencelab.device} and {@code fencelab.memory} in reference.conf).
 *
 * @param bytesThreshold buffers up to this size hold real bytes, larger ones segments
 * @param copyChunk bytes per copy chunk (one protobuf message)
 * @param copyWindow copy chunks in flight at most (flow control)
 * @param callTimeout how long a driver waits for another driver (an exporter) before answering -ETIMEDOUT
 * @param memory the member's memory (its kernel allocations may reclaim), or null (a driver outside a node: benchmarks)
 */
public record DriverSettings(Pacing pacing, long bytesThreshold, int copyChunk, int copyWindow, Duration callTimeout,
    Resv.Mode resvMode, org.apache.pekko.actor.typed.ActorRef<dev.fencelab.node.mm.HostMemory.Command> memory) {

  public DriverSettings withMemory(org.apache.pekko.actor.typed.ActorRef<dev.fencelab.node.mm.HostMemory.Command> memory) {
    return new DriverSettings(pacing, bytesThreshold, copyChunk, copyWindow, callTimeout, resvMode, memory);
  }

  public static DriverSettings from(Config config, Resv.Mode resvMode) {
    return new DriverSettings(
        Pacing.parse(config.getString("fencelab.device.pacing")),
        config.getBytes("fencelab.memory.bytes-threshold"),
        (int) (long) config.getBytes("fencelab.memory.copy-chunk"),
        config.getInt("fencelab.memory.copy-window"),
        config.getDuration("fencelab.device.call-timeout"),
        resvMode, null);
  }

  public static DriverSettings defaults() {
    return new DriverSettings(Pacing.ASAP, 16L << 20, 64 << 10, 16, Duration.ofSeconds(30), Resv.Mode.MODERN, null);
  }
}
