package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.fence.v1.FenceV1;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.StepExpectations;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.FenceText;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import dev.fencelab.protocol.trace.v1.BufferChecksum;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.StepOutcome;
import java.util.List;

/**
 * What a step's {@link StepResult} means for the run: the names it bound (into the {@link RunDirectory}), its
 * outcome as the record keeps it (status, return value, value rendered with the run's names), and whether it met
 * its {@code expect}. Runs on the runner's thread.
 */
final class Outcomes {
  private final RunDirectory names;

  Outcomes(RunDirectory names) {
    this.names = names;
  }

  /** Binds what the step's call bound: fences, fds (in the step's process or the one a pass sent them to), actors, handles. */
  void bind(Step step, String node, StepResult r) {
    r.getBoundMap().forEach((name, b) -> {
      switch (b.getKindCase()) {
        case FENCE -> names.bindFence(name, b.getFence());
        case FD -> {
          names.bindFd(b.getProcess().isEmpty() ? step.getProcess() : b.getProcess(), name, b.getFd());
          // The fd's name also names the fence it holds (a point, a submit's out-fence, a sync_file of a fence-API fence).
          FenceV1.FenceRef held = r.getValue().hasFence() ? r.getValue().getFence()
              : step.hasSyncFile() ? names.fence(step.getSyncFile().getFence()) : null;
          if (held != null && names.fence(name) == null) {
            names.bindFence(name, held);
          }
        }
        default -> names.bind(name, b);
      }
    });
    ScenarioSteps.Ref binds = ScenarioSteps.binds(step);
    if (r.getExecuted() && binds != null && (binds.kind() == ScenarioSteps.RefKind.CALLBACK || binds.kind() == ScenarioSteps.RefKind.CONTEXT
        || binds.kind().rdma())) {
      names.bindLocal(binds.name(), node);
    }
  }

  /** The step's outcome from its result: failed when the call could not be made or returned an error. */
  StepOutcome.Builder outcome(Step step, String node, StepResult r) {
    boolean callFailed = !r.getExecuted() || (r.getRet() < 0 && !negativeIsAValue(step));
    int status = callFailed ? (int) Math.max(Integer.MIN_VALUE, r.getRet() < 0 ? r.getRet() : Errno.EINVAL.negative()) : 0;
    String detail = (r.getDetail().isEmpty() ? "" : r.getDetail() + "; ") + "ret " + StepExpectations.ret(r.getRet()) + " (on " + node + ")";
    StepOutcome.Builder b = StepOutcome.newBuilder().setAction(ScenarioSteps.action(step)).setStatus(status).setDetail(detail)
        .setRet(r.getRet()).putAllOut(r.getOutMap());
    if (step.hasWait()) {
      b.setIsWait(true).setWaitResult(r.getRet()).setWaitStatus(Integer.parseInt(r.getOutMap().getOrDefault("status", "0")));
    }
    if (!r.getResult().isEmpty()) {
      b.putOut("result", r.getResult());
    }
    String rendered = render(r.getValue());
    if (rendered != null) {
      b.setDetail(b.getDetail() + ", value " + rendered).setHasValue(true).setValue(rendered);
    }
    if (r.getValue().hasFences()) {
      b.addAllValues(r.getValue().getFences().getFencesList().stream().map(this::name).toList());
    }
    if (r.getValue().hasFence()) {
      b.setFence(FenceText.id(r.getValue().getFence()));
    }
    if (step.hasSubmit()) {
      b.addAllWrites(step.getSubmit().getWritesList());
      if (step.getSubmit().hasCopy()) {
        b.addWrites(step.getSubmit().getCopy().getTo());
      }
    }
    return b;
  }

  /**
   * Checks the step's {@code expect} against what its call returned (selftest style). Met: a step that returned the
   * error it expects succeeds (status 0). Not met: {@code unexpected} says what was expected and what came, and the
   * steps that come after it are skipped.
   */
  static void expectations(Step step, StepOutcome.Builder b) {
    if (!step.hasExpect() || !StepExpectations.any(step.getExpect())) {
      return;
    }
    String result = b.getIsWait() ? (b.getWaitResult() > 0 ? "signaled" : b.getWaitResult() == 0 ? "timeout" : "error")
        : b.getOutMap().getOrDefault("result", "");
    List<String> values = b.getHasValue() && b.getValue().startsWith("[") ? b.getValuesList() : null;
    var got = new StepExpectations.Observed(b.getRet(), result, b.getHasValue() ? b.getValue() : null, values, b.getOutMap());
    List<String> mismatches = StepExpectations.mismatches(step.getExpect(), got);
    if (mismatches.isEmpty()) {
      if (b.getStatus() != 0 && b.getRet() == b.getStatus()) {
        b.setStatus(0); // the error it expects: the point of the step
      }
    } else {
      b.setUnexpected(String.join("; ", mismatches));
      if (b.getStatus() == 0) {
        b.setStatus(Errno.EINVAL.negative());
      }
    }
  }

  /** Calls whose negative return is a result, not a failure: a fence's error status. */
  private static boolean negativeIsAValue(Step step) {
    return step.getActionCase() == Step.ActionCase.GET_STATUS;
  }

  private String render(Value v) {
    return switch (v.getKindCase()) {
      case NUMBER -> Long.toString(v.getNumber());
      case FLAG -> Boolean.toString(v.getFlag());
      case NULL -> "null";
      case FENCE -> name(v.getFence());
      case FENCES -> v.getFences().getFencesList().stream().map(this::name).toList().toString();
      case KIND_NOT_SET -> null;
    };
  }

  private String name(FenceV1.FenceRef f) {
    if (f.getKind() == FenceV1.FenceKind.STUB) {
      return "stub";
    }
    String name = names.nameOf(f);
    return name != null ? name : FenceText.id(f);
  }

  /** A checksum step's reading, for the record and the runner's trace. */
  static BufferChecksum checksum(String buffer, String at, StepClient.Sent sent, RunLog log) {
    var r = sent.result();
    int status = !r.getExecuted() || r.getRet() < 0 ? (int) Math.min(-1, r.getRet()) : 0;
    BufferChecksum sum = BufferChecksum.newBuilder().setBuffer(buffer).setAt(at).setStatus(status)
        .setChecksum(r.getOutMap().getOrDefault("checksum", "")).setWallNanos(System.nanoTime()).build();
    log.add(RunLog.event(EventKind.CHECKSUM, "checksums").setSubject(buffer).setDetail(sum.getChecksum()).setStatus(status).setName(at));
    return sum;
  }

  /** A step as its STEP_BEGIN event shows it (at most 160 characters). */
  static String describe(Step step) {
    String text = step.toString().replaceAll("\\s+", " ").trim();
    return text.length() > 160 ? text.substring(0, 157) + "..." : text;
  }
}
