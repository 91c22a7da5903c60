package dev.fencelab.node.step;

import dev.fencelab.protocol.step.v1.StepResult;
import java.util.concurrent.CompletionStage;

/**
 * Makes the call of one family of steps on this node. Lives beside the feature it drives (fence steps in
 * {@code fence/}, sync_file steps in {@code sync/}…) and is registered with the {@link StepExecutor} for the
 * actions it knows. It runs on the executor's thread for its synchronous part; what it chains after an ask runs
 * elsewhere and may only ask, never spawn or touch the executor's state.
 */
@FunctionalInterface
public interface StepHandler {
  CompletionStage<StepResult> execute(StepCall call);
}
