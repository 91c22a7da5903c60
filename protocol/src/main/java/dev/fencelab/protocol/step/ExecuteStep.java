package dev.fencelab.protocol.step;

import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.step.v1.StepRequest;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Runner to node agent: make the call {@code request.step} describes on this node and answer with one
 * {@link StepReply}. The agent hands it to its step executor, which routes it by the step's action to the handler
 * beside the feature the action drives.
 */
public record ExecuteStep(StepRequest request, ActorRef<StepReply> replyTo) implements NodeControl, StepMessage {
  public ExecuteStep {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(replyTo, "replyTo");
  }
}
