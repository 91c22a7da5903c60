package dev.fencelab.node.bench;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** The raw-Pekko side of the local baselines: plain tells, spawns and stops, no fencelab logic. */
final class Echo {
  private Echo() {}

  sealed interface Command extends NoSerializationVerificationNeeded {}

  /**
   * Tell {@code n} messages stamped {@code t0} to {@code target} (one tell each: the shape of a signal to n waiters).
   * The sender stamps {@code t0} before its tell, as the fence figures stamp theirs before the signal: two hops each.
   */
  record FanOut(int n, ActorRef<FenceBench.Command> target, long t0) implements Command {
    FanOut(int n, ActorRef<FenceBench.Command> target) {
      this(n, target, System.nanoTime());
    }
  }

  /**
   * Spawn a child, send it a message, and the child answers {@code target} and stops: spawn → message → stop, the
   * shape of a fence's create, signal and end.
   */
  record SpawnStop(ActorRef<FenceBench.Command> target) implements Command {}

  /** An actor that answers one {@link FanOut} with one {@link FenceBench.Raw} and stops: a fence's shape, signalled once. */
  static Behavior<Command> oneShot() {
    return Behaviors.receive(Command.class)
        .onMessage(FanOut.class, x -> {
          x.target().tell(new FenceBench.Raw(0));
          return Behaviors.<Command>stopped();
        }).build();
  }

  static Behavior<Command> create() {
    return Behaviors.setup(ctx -> Behaviors.receive(Command.class)
        .onMessage(FanOut.class, m -> {
          for (int i = 0; i < m.n(); i++) {
            m.target().tell(new FenceBench.Raw(m.t0()));
          }
          return Behaviors.same();
        })
        .onMessage(SpawnStop.class, m -> {
          ActorRef<Command> child = ctx.spawnAnonymous(oneShot());
          child.tell(new FanOut(1, m.target(), 0));
          return Behaviors.same();
        })
        .build());
  }
}
