package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.fence.v1.FenceV1;
import dev.fencelab.protocol.scenario.v1.Pass;
import dev.fencelab.protocol.scenario.v1.Process;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.FenceSignal;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.StepExpect;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutcomesTest {
  private final RunDirectory names = new RunDirectory(Scenario.newBuilder()
      .addProcesses(Process.newBuilder().setName("app").setNode("n1")).addProcesses(Process.newBuilder().setName("peer").setNode("n2"))
      .build(), Map.of());
  private final Outcomes outcomes = new Outcomes(names);

  private static FenceV1.FenceRef fence(long seqno) {
    return FenceV1.FenceRef.newBuilder().setKind(FenceV1.FenceKind.HARDWARE).setActor("pekko://fencelab@127.0.0.1:1/user/f")
        .setId(FenceV1.FenceId.newBuilder().setContext(FenceV1.FenceContext.newBuilder().setOrigin(0xab).setId(3)).setSeqno(seqno))
        .build();
  }

  @Test
  void aStepThatReturnsTheErrorItExpectsSucceeds() {
    Step step = Step.newBuilder().setSignal(FenceSignal.newBuilder().setFence("f")).setExpect(StepExpect.newBuilder().setErrno("EINVAL")).build();
    StepOutcome.Builder b = outcomes.outcome(step, "n1", StepResult.newBuilder().setRet(-22).setExecuted(true).build());
    Outcomes.expectations(step, b);
    assertEquals(0, b.getStatus());
    assertEquals("", b.getUnexpected());
  }

  @Test
  void anUnmetExpectationFailsTheStepNamingBothValues() {
    Step step = Step.newBuilder().setSignal(FenceSignal.newBuilder().setFence("f")).setExpect(StepExpect.newBuilder().setRet(0)).build();
    StepOutcome.Builder b = outcomes.outcome(step, "n1", StepResult.newBuilder().setRet(-22).setExecuted(true).build());
    Outcomes.expectations(step, b);
    assertEquals(-22, b.getStatus());
    assertTrue(b.getUnexpected().contains("expected 0") && b.getUnexpected().contains("EINVAL"), b.getUnexpected());
  }

  @Test
  void aFenceValueIsRenderedByTheFirstNameItWasBoundTo() {
    names.bindFence("fA", fence(1));
    names.bindFence("alias", fence(1));
    Step step = Step.newBuilder().setSignal(FenceSignal.newBuilder().setFence("fA")).build();
    StepOutcome.Builder b = outcomes.outcome(step, "n1", StepResult.newBuilder().setExecuted(true)
        .setValue(Value.newBuilder().setFence(fence(1))).build());
    assertEquals("fA", b.getValue());
    assertEquals("ctx3.ab#1", b.getFence());
  }

  @Test
  void aPassedFdIsBoundInTheReceivingProcess() {
    Step step = Step.newBuilder().setProcess("app").setPass(Pass.newBuilder().setName("bo").setTo("peer")).build();
    outcomes.bind(step, "n1", StepResult.newBuilder().setExecuted(true)
        .putBound("bo", Binding.newBuilder().setFd(7).setProcess("peer").build()).build());
    assertEquals(7, names.fd("peer", "bo"));
    assertEquals(null, names.fd("app", "bo"));
  }

  @Test
  void aFdThatHoldsAFenceNamesThatFenceToo() {
    Step step = Step.newBuilder().setProcess("app").build();
    outcomes.bind(step, "n1", StepResult.newBuilder().setExecuted(true).setValue(Value.newBuilder().setFence(fence(4)))
        .putBound("done", Binding.newBuilder().setFd(5).build()).build());
    assertEquals(5, names.fd("app", "done"));
    assertEquals(fence(4), names.fence("done"));
    assertEquals("done", names.namedFences().get(0).getName());
  }
}
