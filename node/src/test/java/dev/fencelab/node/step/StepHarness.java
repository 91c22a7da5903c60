package dev.fencelab.node.step;

import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.wire.NodeSerializer;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * Runs steps through a real {@link StepExecutor} the way a runner does: names the test binds, plus every name a step
 * binds, go with the next request.
 */
public final class StepHarness {
  private final ActorTestKit testKit;
  private final ActorRef<StepExecutor.Command> executor;
  private final Map<String, Binding> names = new HashMap<>();
  private final String run = "run-" + System.nanoTime();

  public StepHarness(ActorTestKit testKit, StepHandler handler, List<Step.ActionCase> actions) {
    this.testKit = testKit;
    Map<Step.ActionCase, StepHandler> handlers = new HashMap<>();
    actions.forEach(a -> handlers.put(a, handler));
    this.executor = testKit.spawn(StepExecutor.create(handlers));
  }

  public StepResult call(Step.Builder step) {
    TestProbe<StepReply> probe = testKit.createTestProbe();
    StepRequest request = StepRequest.newBuilder().setRun(run).setStepId("s").setStep(step).putAllBindings(names)
        .setTimeoutNanos(Duration.ofSeconds(10).toNanos()).build();
    executor.tell(new StepExecutor.Run(new ExecuteStep(request, probe.ref())));
    StepResult r = probe.receiveMessage(Duration.ofSeconds(15)).result();
    names.putAll(r.getBoundMap());
    return r;
  }

  public void bindActor(String name, ActorRef<?> ref) {
    names.put(name, Binding.newBuilder().setActor(ActorRefResolver.get(testKit.system()).toSerializationFormat(ref)).build());
  }

  public void bindFence(String name, FenceRef fence) {
    names.put(name, Binding.newBuilder().setFence(NodeSerializer.of(testKit.system()).fenceRef(fence)).build());
  }

  public void bindFd(String name, int fd) {
    names.put(name, Binding.newBuilder().setFd(fd).build());
  }

  /** The fence a step returned as its value, decoded. */
  public FenceRef fence(StepResult result) throws Exception {
    return NodeSerializer.of(testKit.system()).fenceRef(result.getValue().getFence());
  }
}
