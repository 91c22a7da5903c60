package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import org.junit.jupiter.api.Test;

class VerdictCheckerTest {
  private static final Scenario EMPTY = Scenario.newBuilder().setName("t").build();

  private static TraceEvent.Builder ev(EventKind kind, String node, String fence, long wall) {
    return TraceEvent.newBuilder().setKind(kind).setNode(node).setFence(fence).setWallNanos(wall).setTrack("t");
  }

  private static VerdictChecker.Verdict check(RunRecord r) {
    RunIndex x = new RunIndex(r);
    return VerdictChecker.check(EMPTY, x, Latencies.of(x));
  }

  @Test
  void shouldPassARunWhereEveryFenceSignalledAndEveryWaitEnded() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "f", 1))
        .addEvents(ev(EventKind.WAIT_BEGIN, "n2", "f", 2).setId(1))
        .addEvents(ev(EventKind.FENCE_SIGNALED, "n1", "f", 3).setStatus(1))
        .addEvents(ev(EventKind.WAIT_END, "n2", "f", 4).setId(1).setStatus(1).setResult(5))
        .build();
    assertTrue(check(r).pass(), check(r).failures().toString());
  }

  @Test
  void shouldExplainAPendingJobFenceDownToTheTimelineNobodyAdvanced() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "pt", 1).setName("sw_sync").setTrack("timeline-x"))
        .addEvents(ev(EventKind.FENCE_CREATED, "n2", "job", 2).setTrack("n2/gpu/engine0"))
        .addEvents(ev(EventKind.JOB_QUEUED, "n2", "job", 2).setName("render"))
        .addEvents(ev(EventKind.JOB_DEPS, "n2", "job", 3).setName("render").addDeps("pt"))
        .build();
    VerdictChecker.Verdict v = check(r);
    assertFalse(v.pass());
    String chains = v.failures().toString();
    assertTrue(chains.contains("waiting for 1 in-fence") && chains.contains("sw_sync timeline timeline-x"), chains);
  }

  @Test
  void shouldFailAWaiterThatSawADeadNodesFenceEndWithoutAnError() {
    RunRecord r = RunRecord.newBuilder().addDeadNodes("n1")
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "f", 1))
        .addEvents(ev(EventKind.WAIT_BEGIN, "n2", "f", 2).setId(1))
        .addEvents(ev(EventKind.WAIT_END, "n2", "f", 9).setId(1).setStatus(0).setResult(0).setDetail("timeout"))
        .build();
    VerdictChecker.Verdict v = check(r);
    assertTrue(v.failures().stream().anyMatch(f -> f.check().equals("dead-device-fences")), v.failures().toString());
  }

  @Test
  void shouldFailAJobThatRanAlthoughItsDependencyFailed() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "dep", 1))
        .addEvents(ev(EventKind.FENCE_SIGNALED, "n1", "dep", 2).setStatus(-19))
        .addEvents(ev(EventKind.FENCE_CREATED, "n2", "job", 1))
        .addEvents(ev(EventKind.JOB_DEPS, "n2", "job", 3).addDeps("dep"))
        .addEvents(ev(EventKind.JOB_END, "n2", "job", 4).setStatus(1))
        .addEvents(ev(EventKind.FENCE_SIGNALED, "n2", "job", 4).setStatus(1))
        .build();
    VerdictChecker.Verdict v = check(r);
    assertTrue(v.failures().stream().anyMatch(f -> f.check().equals("error-propagation")), v.failures().toString());
  }

  @Test
  void shouldFailAnUnexpectedViolation() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(ev(EventKind.VIOLATION, "n1", "", 1).setName("DOUBLE_SIGNAL").setSubject("ctx1#1"))
        .build();
    assertTrue(check(r).failures().stream().anyMatch(f -> f.check().equals("no-violation")));
  }

  @Test
  void shouldFailAStepWhoseExpectWasNotMetNamingItsLineAndBothValues() {
    RunRecord r = RunRecord.newBuilder().addSteps(dev.fencelab.protocol.trace.v1.StepOutcome.newBuilder().setId("sig2")
        .setAction("signal").setStatus(-22).setRet(0).setSource("t.yaml:12").setUnexpected("errno: expected EINVAL, got 0")).build();
    VerdictChecker.Verdict v = check(r);
    assertFalse(v.pass());
    String text = v.failures().toString();
    assertTrue(text.contains("step sig2 (signal, t.yaml:12): errno: expected EINVAL, got 0"), text);
  }

  @Test
  void shouldNotCountAReleasedUnsignalledFenceAsALeak() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "f", 1))
        .addEvents(ev(EventKind.FENCE_RELEASED, "n1", "f", 2))
        .build();
    assertTrue(check(r).pass(), check(r).failures().toString());
  }

  @Test
  void aSkippedStepWithAnExpectationFailsTheRunAsNotChecked() {
    Scenario s = Scenario.newBuilder().setName("t").addSteps(dev.fencelab.protocol.scenario.v1.Step.newBuilder().setId("a"))
        .addSteps(dev.fencelab.protocol.scenario.v1.Step.newBuilder().setId("b")
            .setExpect(dev.fencelab.protocol.scenario.v1.StepExpect.newBuilder().setRet(0)))
        .setExpect(dev.fencelab.protocol.scenario.v1.Expect.newBuilder().addStepsFail("a")).build();
    RunRecord r = RunRecord.newBuilder()
        .addSteps(dev.fencelab.protocol.trace.v1.StepOutcome.newBuilder().setId("a").setAction("signal").setStatus(-22))
        .addSteps(dev.fencelab.protocol.trace.v1.StepOutcome.newBuilder().setId("b").setAction("signal").setSkipped(true).setStatus(-125))
        .build();
    RunIndex x = new RunIndex(r);
    VerdictChecker.Verdict v = VerdictChecker.check(s, x, Latencies.of(x));
    assertTrue(v.failures().stream().anyMatch(f -> f.check().equals("not-checked") && f.message().contains("step b")), v.failures().toString());
  }

  @Test
  void aSkippedStepWithoutExpectationsIsReportedNotChecked() {
    Scenario s = Scenario.newBuilder().setName("t").addSteps(dev.fencelab.protocol.scenario.v1.Step.newBuilder().setId("a"))
        .addSteps(dev.fencelab.protocol.scenario.v1.Step.newBuilder().setId("b"))
        .setExpect(dev.fencelab.protocol.scenario.v1.Expect.newBuilder().addStepsFail("a")).build();
    RunRecord r = RunRecord.newBuilder()
        .addSteps(dev.fencelab.protocol.trace.v1.StepOutcome.newBuilder().setId("a").setAction("signal").setStatus(-22))
        .addSteps(dev.fencelab.protocol.trace.v1.StepOutcome.newBuilder().setId("b").setAction("signal").setSkipped(true).setStatus(-125))
        .build();
    RunIndex x = new RunIndex(r);
    VerdictChecker.Verdict v = VerdictChecker.check(s, x, Latencies.of(x));
    assertTrue(v.pass(), v.failures().toString());
    assertTrue(v.facts().stream().anyMatch(f -> f.contains("step b not checked")), v.facts().toString());
  }

  @Test
  void aPollThatEndedBeforeTheFencesNodeDiedIsNoDeadDeviceFailure() {
    RunRecord r = RunRecord.newBuilder().addDeadNodes("n1")
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "f", 1))
        .addEvents(ev(EventKind.WAIT_BEGIN, "n2", "f", 2).setId(1))
        .addEvents(ev(EventKind.WAIT_END, "n2", "f", 3).setId(1).setStatus(0).setResult(0).setDetail("timeout"))
        .addEvents(ev(EventKind.NODE_DOWN, "runner", "", 5).setSubject("n1"))
        .build();
    VerdictChecker.Verdict v = check(r);
    assertTrue(v.failures().stream().noneMatch(f -> f.check().equals("dead-device-fences")), v.failures().toString());
  }

  @Test
  void anAbortedRunFailsSayingWhy() {
    VerdictChecker.Verdict v = check(RunRecord.newBuilder().setAborted("placement failed: -ENOMEM").build());
    assertTrue(v.failures().stream().anyMatch(f -> f.check().equals("run-aborted") && f.message().contains("placement failed: -ENOMEM")),
        v.failures().toString());
  }

  @Test
  void aViolationSubjectOnASharedClusterIsJudgedWithoutTheRunsTag() {
    org.junit.jupiter.api.Assertions.assertEquals("n2/gpuNone/un", VerdictChecker.untagged("n2/gpuNone-5suz/un", "5suz"));
    org.junit.jupiter.api.Assertions.assertEquals("n2/gpuNone-5suz/un", VerdictChecker.untagged("n2/gpuNone-5suz/un", ""));
  }

  @Test
  void theSummaryCountsAFenceWhoseNodeDiedAsEndedWithItsNode() {
    RunRecord r = RunRecord.newBuilder()
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "a", 1))
        .addEvents(ev(EventKind.FENCE_SIGNALED, "n1", "a", 2).setStatus(1))
        .addEvents(ev(EventKind.FENCE_CREATED, "n1", "b", 3))
        .addEvents(ev(EventKind.WAIT_BEGIN, "n2", "b", 4).setId(1))
        .addEvents(ev(EventKind.WAIT_END, "n2", "b", 6).setId(1).setStatus(-19).setResult(-19))
        .addDeadNodes("n1")
        .build();
    assertTrue(check(r).facts().stream().anyMatch(f -> f.startsWith("2 fences created: 2 ended (1 with an error, 1 with their node)")),
        check(r).facts().toString());
  }
}
