package dev.fencelab.node.driver;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Faults of a device, as steps and as the chaos schedule's injections: {@code unplug} (hot-unplug: the driver's
 * jobs are cancelled with -ENODEV, importers revoked, buffers released), {@code hang} (an engine stops completing:
 * the job timeout and reset follow) and {@code fail_reset} (the next reset fails).
 */
public final class FaultSteps implements StepHandler {

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.UNPLUG, Step.ActionCase.HANG, Step.ActionCase.FAIL_RESET);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case UNPLUG -> {
        String device = step.getUnplug().getDevice();
        yield call.<DriverProtocol.Command, DriverProtocol.UnplugReport>ask(call.driver(device), DriverProtocol.Unplug::new)
            .thenApply(rep -> StepCall.ret(0).setDetail("unplugged " + device + ": " + rep.jobsCancelled() + " jobs cancelled, "
                + rep.importersRevoked() + " importers revoked, " + rep.buffersReleased() + " buffers released")
                .putOut("jobs_cancelled", Integer.toString(rep.jobsCancelled()))
                .putOut("importers_revoked", Integer.toString(rep.importersRevoked()))
                .putOut("buffers_released", Integer.toString(rep.buffersReleased())).build());
      }
      case HANG -> inject(call, step.getHang().getDevice(), DeviceActor.FaultKind.HANG_ENGINE, (int) step.getHang().getEngine(), "hang");
      case FAIL_RESET -> inject(call, step.getFailReset().getDevice(), DeviceActor.FaultKind.FAIL_RESET, 0, "fail_reset");
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a fault step: " + step.getActionCase());
    };
  }

  private static CompletionStage<StepResult> inject(StepCall call, String device, DeviceActor.FaultKind kind, int engine, String name) {
    ActorRef<DriverProtocol.Command> driver = call.driver(device);
    return call.<DriverProtocol.Command, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.InjectFault(kind, engine, r))
        .thenApply(res -> StepCall.ret(res.result()).setDetail(res.result() != 0 ? name + ": " + Errno.describe(res.result())
            : name + " injected on " + device).build());
  }
}
