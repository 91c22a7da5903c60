package dev.fencelab.node.bench;

import dev.fencelab.node.fence.FenceProtocol;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The waiters of the fan-out figure, both sides alike: one plain actor that every wake of a round reaches directly —
 * fencelab's as a fence's callbacks ({@link FenceProtocol.Signalled}), raw Pekko's as plain tells ({@link FenceBench.Raw}).
 * The bench's own actor took fencelab's wakes through a message adapter (a wrapper and an adapter lookup per wake) and
 * raw's without one; the waiter now costs both sides the same.
 */
final class Wakes {
  private Wakes() {}

  /** The next {@code n} wakes are a round that started at {@code t0}; each one's latency goes to {@code hist} (null: a warm-up). */
  record Round(int n, long t0, Histogram hist) implements NoSerializationVerificationNeeded {}

  /** To the bench: every callback is on the fence (the last one was added with an acknowledgement). */
  record Ready() implements FenceBench.Command, NoSerializationVerificationNeeded {}

  /** To the bench: the round's last wake came {@code elapsedNanos} after its start. */
  record RoundDone(long elapsedNanos) implements FenceBench.Command, NoSerializationVerificationNeeded {}

  static Behavior<Object> create(ActorRef<FenceBench.Command> bench) {
    return Behaviors.setup(context -> new Counter(context, bench));
  }

  private static final class Counter extends AbstractBehavior<Object> {
    private final ActorRef<FenceBench.Command> bench;
    private Round round;
    private int seen;

    Counter(ActorContext<Object> context, ActorRef<FenceBench.Command> bench) {
      super(context);
      this.bench = bench;
    }

    @Override
    public Receive<Object> createReceive() {
      return newReceiveBuilder().onAnyMessage(this::on).build();
    }

    private Behavior<Object> on(Object m) {
      if (m instanceof Round r) {
        round = r;
        seen = 0;
      } else if (m instanceof FenceProtocol.CallbackAdded) {
        bench.tell(new Ready());
      } else if (round != null && (m instanceof FenceProtocol.Signalled || m instanceof FenceBench.Raw)) {
        long now = System.nanoTime();
        if (round.hist() != null) {
          round.hist().recordValue(now - round.t0());
        }
        if (++seen == round.n()) {
          bench.tell(new RoundDone(now - round.t0()));
          round = null;
        }
      }
      return this;
    }
  }
}
