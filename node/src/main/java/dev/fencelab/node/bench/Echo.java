package dev.fencelab.node.bench;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** The raw-Pekko side of the local baselines: plain tells, spawns and stops, no fencelab logic. */
final class Echo {
  private Echo() {}

  sealed interface Command extends NoSerializationVerificationNeeded {}

  /** Tell {@code n} stamped messages to {@code target} (one tell each: the shape of a signal to n waiters). */
  record FanOut(int n, ActorRef<FenceBench.Command> target) implements Command {}

  /** Spawn a child and stop it; tell {@code target} when it stopped (the shape of create+signal of a fence). */
  record SpawnStop(ActorRef<FenceBench.Command> target) implements Command {}

  static Behavior<Command> create() {
    return Behaviors.setup(ctx -> Behaviors.receive(Command.class)
        .onMessage(FanOut.class, m -> {
          long t0 = System.nanoTime();
          for (int i = 0; i < m.n(); i++) {
            m.target().tell(new FenceBench.Raw(t0));
          }
          return Behaviors.same();
        })
        .onMessage(SpawnStop.class, m -> {
          ActorRef<Command> child = ctx.spawnAnonymous(Behaviors.receive(Command.class)
              .onMessage(FanOut.class, x -> Behaviors.<Command>stopped()).build());
          child.tell(new FanOut(0, m.target()));
          m.target().tell(new FenceBench.Raw(0));
          return Behaviors.same();
        })
        .build());
  }
}
