package dev.fencelab.node.resv;

import dev.fencelab.node.step.StepCall;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/** Finds a buffer's own reservation object for a step (its exporting driver knows it): implemented beside the drivers. */
public interface BufferResvs {
  /** The {@code dma_resv} of the buffer named {@code buffer} in {@code call}, and its rules. */
  CompletionStage<Found> of(StepCall call, String buffer);

  record Found(ActorRef<Resv.Command> resv, Resv.Mode mode) {}
}
