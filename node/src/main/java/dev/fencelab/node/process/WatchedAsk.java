package dev.fencelab.node.process;

import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One request to an actor that may be gone: the answer, or — as soon as the target is known dead (a stopped actor,
 * a member the cluster removed), or after {@code timeout} — nothing. An ask alone would wait out its whole timeout
 * for a target that can no longer answer.
 */
final class WatchedAsk {
  private enum Timeout implements NoSerializationVerificationNeeded { INSTANCE }

  /** The target's reply, or null: it is gone (or did not answer in time). Local only. */
  record Answer<R>(R reply) implements NoSerializationVerificationNeeded {}

  private WatchedAsk() {}

  /** Answers {@code replyTo} once: the target's reply, or an answer without one. */
  static <Q, R> Behavior<Object> create(ActorRef<Q> target, Function<ActorRef<R>, Q> request, Class<R> type, Duration timeout,
      ActorRef<Answer<R>> replyTo) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      context.watch(target);
      target.tell(request.apply(context.messageAdapter(type, r -> (Object) r)));
      timers.startSingleTimer(Timeout.INSTANCE, timeout);
      return Behaviors.receive(Object.class)
          .onMessage(type, reply -> {
            replyTo.tell(new Answer<>(reply));
            return Behaviors.stopped();
          })
          .onMessageEquals(Timeout.INSTANCE, () -> {
            replyTo.tell(new Answer<>(null));
            return Behaviors.stopped();
          })
          .onSignal(Terminated.class, gone -> {
            replyTo.tell(new Answer<>(null));
            return Behaviors.stopped();
          })
          .build();
    }));
  }
}
