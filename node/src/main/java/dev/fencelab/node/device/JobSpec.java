package dev.fencelab.node.device;

import java.util.List;
import java.util.Objects;

/**
 * A job as userspace submits it: which engine, what it reads and writes (buffer handles of the submitting process
 * on this driver), how long it runs in model time, and optionally a copy.
 *
 * <p>A compute job writes every buffer in {@code writes} with a pattern seeded from the job and the checksums of
 * everything in {@code reads} — deterministic, and checkably dependent on its input. A copy job moves
 * {@code copy.length} bytes from {@code copy.src} to {@code copy.dst}; its buffers are added to reads and writes.
 */
public record JobSpec(int engine, long durationNanos, List<Integer> reads, List<Integer> writes, Copy copy, String label) {
  /** Copy {@code length} bytes from {@code src} at {@code srcOffset} to {@code dst} at {@code dstOffset}. */
  public record Copy(int src, long srcOffset, int dst, long dstOffset, long length) {}

  public JobSpec {
    reads = List.copyOf(reads);
    writes = List.copyOf(writes);
    Objects.requireNonNull(label, "label");
    if (durationNanos < 0) {
      throw new IllegalArgumentException("negative job duration " + durationNanos);
    }
  }

  /** Buffers read, the copy source included, without duplicates. */
  public List<Integer> allReads() {
    java.util.LinkedHashSet<Integer> all = new java.util.LinkedHashSet<>(reads);
    if (copy != null) {
      all.add(copy.src());
    }
    return List.copyOf(all);
  }

  /** Buffers written, the copy destination included, without duplicates. */
  public List<Integer> allWrites() {
    java.util.LinkedHashSet<Integer> all = new java.util.LinkedHashSet<>(writes);
    if (copy != null) {
      all.add(copy.dst());
    }
    return List.copyOf(all);
  }

  public static JobSpec compute(String label, long durationNanos, List<Integer> reads, List<Integer> writes) {
    return new JobSpec(0, durationNanos, reads, writes, null, label);
  }

  public static JobSpec copy(String label, long durationNanos, Copy copy) {
    return new JobSpec(0, durationNanos, List.of(), List.of(), copy, label);
  }

  public JobSpec onEngine(int index) {
    return new JobSpec(index, durationNanos, reads, writes, copy, label);
  }
}
