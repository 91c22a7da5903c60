package dev.fencelab.node.sync;

import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * sw_sync as scenario steps (kernel-semantics §1.11), made by the step's process: open a timeline, create a point as a
 * sync_file fd ({@code SW_SYNC_IOC_CREATE_FENCE}), {@code SW_SYNC_IOC_INC}, and close the timeline. A timeline lives on
 * the node of the process that opened it, for as long as its run; {@code inc} and {@code close} answer after the
 * points they signal have signalled, as the ioctls return.
 */
public final class SwSyncSteps implements StepHandler {
  private final FenceServices services;
  private final FenceNames names;

  public SwSyncSteps(FenceServices services, FenceNames names) {
    this.services = services;
    this.names = names;
  }

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.TIMELINE, Step.ActionCase.POINT, Step.ActionCase.INC, Step.ActionCase.CLOSE_TIMELINE);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case TIMELINE -> {
        String name = step.getTimeline().getName();
        ActorRef<ContextOwner.Command> timeline = call.spawn(SwSyncTimeline.create(services));
        String ref = ActorRefResolver.get(call.system()).toSerializationFormat(timeline);
        yield StepCall.done(StepCall.ret(0).putBound(name, Binding.newBuilder().setActor(ref).build()).setDetail("sw_sync timeline " + name));
      }
      case POINT -> point(call, step);
      case INC -> {
        var inc = step.getInc();
        ActorRef<ContextOwner.Command> timeline = call.actor(inc.getTimeline());
        timeline.tell(new SwSyncTimeline.Inc(Math.max(1, inc.getBy())));
        yield value(call, timeline, "timeline " + inc.getTimeline() + " at ");
      }
      case CLOSE_TIMELINE -> {
        ActorRef<ContextOwner.Command> timeline = call.actor(step.getCloseTimeline().getTimeline());
        timeline.tell(SwSyncTimeline.Close.INSTANCE);
        yield value(call, timeline, "closed at ");
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a sw_sync step: " + step.getActionCase());
    };
  }

  private static CompletionStage<StepResult> value(StepCall call, ActorRef<ContextOwner.Command> timeline, String detail) {
    return call.<ContextOwner.Command, SwSyncTimeline.Value>ask(timeline, SwSyncTimeline.GetValue::new)
        .thenApply(v -> StepCall.ret(0).setValue(StepCall.number(v.value())).setDetail(detail + v.value()).build());
  }

  private CompletionStage<StepResult> point(StepCall call, Step step) {
    var pt = step.getPoint();
    if (pt.getTimeline().trim().matches("-?\\d+")) { // a literal fd: SW_SYNC_IOC_CREATE_FENCE on it
      return StepCall.done(StepCall.ret(Errno.EBADF.negative()).setDetail("fd " + pt.getTimeline().trim() + " is not an open sw_sync timeline"));
    }
    ActorRef<ContextOwner.Command> timeline = call.actor(pt.getTimeline());
    ActorRef<ProcessProtocol.Command> process = call.actor(step.getProcess());
    return call.<ContextOwner.Command, SwSyncTimeline.PointCreated>ask(timeline, r -> new SwSyncTimeline.CreatePoint(pt.getValue(), pt.getAs(), r))
        .thenCompose(created -> created.error() != 0
            ? StepCall.done(StepCall.ret(created.error()).setDetail("point: " + Errno.describe(created.error())))
            : call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.SyncFileCreate(created.fence(), pt.getAs(), r))
                .thenApply(fd -> fd.fd() < 0 ? StepCall.ret(fd.fd()).setDetail("sync_file: " + Errno.describe(fd.fd())).build()
                    : StepCall.ret(0).setValue(names.value(created.fence()))
                        .putBound(pt.getAs(), Binding.newBuilder().setFd(fd.fd()).build())
                        .setDetail("point " + pt.getValue() + " as fd " + fd.fd()).build()));
  }
}
