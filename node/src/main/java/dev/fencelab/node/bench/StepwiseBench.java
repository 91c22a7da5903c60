package dev.fencelab.node.bench;

import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A benchmark written as a sequence of phases: every reply, whatever its type, comes through one adapter
 * ({@link #reply()}) to the phase now in charge ({@link #onStep}), which sends the next request or moves on.
 */
abstract class StepwiseBench extends AbstractBehavior<StepwiseBench.Command> {
  interface Command {}

  private record Step(Object reply) implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  private final ActorRef<Object> step;
  /** What the current phase does with the next reply. */
  protected Consumer<Object> onStep = m -> {};

  StepwiseBench(ActorContext<Command> context) {
    super(context);
    this.step = context.messageAdapter(Object.class, Step::new);
  }

  /** The reference every request of a phase is answered to. */
  @SuppressWarnings("unchecked")
  protected <T> ActorRef<T> reply() {
    return (ActorRef<T>) (ActorRef<?>) step;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Step.class, s -> {
      onStep.accept(s.reply());
      return this;
    }).build();
  }
}
