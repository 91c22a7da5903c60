package dev.fencelab.node.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/** A full GC before a timed round, run on the blocking dispatcher, never on an actor thread. */
final class BenchGc {
  private BenchGc() {}

  /**
   * Collects, then tells {@code done} to the actor of {@code context}: the round that follows starts without the garbage
   * of what came before (a young collection of the objects a previous round left landed inside a timed burst and not
   * inside its raw twin, which leaves little).
   */
  static <T> void thenTell(ActorContext<T> context, T done) {
    Executor blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    context.pipeToSelf(CompletableFuture.runAsync(System::gc, blocking), (ok, err) -> done);
  }
}
