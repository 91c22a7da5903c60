package dev.fencelab.protocol.step;

import dev.fencelab.protocol.step.v1.StepResult;
import java.util.Objects;

/** Node to runner: what the call of an {@link ExecuteStep} returned. */
public record StepReply(StepResult result) implements StepMessage {
  public StepReply {
    Objects.requireNonNull(result, "result");
  }
}
