package dev.fencelab.coordinator.scenario.run;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Joining the runner's concurrent asks without blocking. */
final class Futures {
  private Futures() {}

  /** The results of {@code futures}, in order, once all completed (reads completed futures only: never waits). */
  static <T> CompletableFuture<List<T>> allOf(List<CompletableFuture<T>> futures) {
    return CompletableFuture.allOf(futures.toArray(new CompletableFuture[0]))
        .thenApply(v -> futures.stream().map(f -> f.getNow(null)).toList());
  }
}
