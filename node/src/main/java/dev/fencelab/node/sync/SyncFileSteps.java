package dev.fencelab.node.sync;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The sync_file and sw_sync ioctls as scenario steps (kernel-semantics §1.10, §1.11), made by the step's process on
 * its fds: {@code SYNC_IOC_FILE_INFO} (the {@code num_fences} protocol and per-leaf status and timestamp),
 * {@code SYNC_IOC_SET_DEADLINE}, {@code SW_SYNC_GET_DEADLINE}, {@code close}, and {@code sync_file_create} of a fence
 * from the fence API. A fd is a name the process holds, or a literal number ("-1" for the invalid-fd paths).
 */
public final class SyncFileSteps implements StepHandler {
  private final FenceNames names;

  public SyncFileSteps(FenceNames names) {
    this.names = names;
  }

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.FILE_INFO, Step.ActionCase.SET_DEADLINE, Step.ActionCase.GET_DEADLINE, Step.ActionCase.CLOSE,
        Step.ActionCase.SYNC_FILE);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    if (step.getProcess().isEmpty()) {
      throw new StepFailure(Errno.EINVAL, step.getActionCase() + " is made by a process: the step needs 'process'");
    }
    ActorRef<ProcessActor.Command> process = call.actor(step.getProcess());
    return switch (step.getActionCase()) {
      case FILE_INFO -> fileInfo(call, process, step.getFileInfo());
      case SET_DEADLINE -> {
        var d = step.getSetDeadline();
        int fd = call.fd(d.getFd());
        Duration in = StepCall.duration(d.getDeadline(), Duration.ZERO);
        long deadline = System.nanoTime() + (in == null ? 0 : in.toNanos());
        yield call.<ProcessActor.Command, ProcessActor.FdReply>ask(process, r -> new ProcessActor.SyncSetDeadline(fd, deadline, d.getPad(), r))
            .thenApply(reply -> StepCall.ret(reply.fd()).build());
      }
      case CLOSE -> {
        int fd = call.fd(step.getClose().getFd());
        yield call.<ProcessActor.Command, ProcessActor.FdReply>ask(process, r -> new ProcessActor.CloseFd(fd, r))
            .thenApply(reply -> StepCall.ret(reply.fd()).setDetail(reply.fd() == 0 ? "fd " + fd + " closed" : Errno.describe(reply.fd())).build());
      }
      case SYNC_FILE -> {
        var s = step.getSyncFile();
        FenceRef fence = names.fence(call, s.getFence());
        String as = s.getAs().isEmpty() ? s.getFence() : s.getAs();
        yield call.<ProcessActor.Command, ProcessActor.FdReply>ask(process, r -> new ProcessActor.SyncFileCreate(fence, as, r))
            .thenApply(reply -> {
              StepResult.Builder b = StepCall.ret(reply.fd() < 0 ? reply.fd() : 0).setValue(StepCall.number(reply.fd()));
              if (reply.fd() >= 0) {
                b.putBound(as, Binding.newBuilder().setFd(reply.fd()).build()).setDetail("sync_file fd " + reply.fd() + " of " + fence);
              }
              return b.build();
            });
      }
      case GET_DEADLINE -> getDeadline(call, process, step.getGetDeadline());
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a sync_file step: " + step.getActionCase());
    };
  }

  private CompletionStage<StepResult> fileInfo(StepCall call, ActorRef<ProcessActor.Command> process, dev.fencelab.protocol.scenario.v1.FileInfo f) {
    int fd = call.fd(f.getFd());
    return call.<ProcessActor.Command, ProcessActor.FileInfo>ask(process,
            r -> new ProcessActor.SyncFileInfo(fd, (int) f.getNumFences(), (int) f.getFlags(), (int) f.getPad(), r))
        .thenApply(info -> {
          StepResult.Builder b = StepCall.ret(info.result());
          if (info.result() != 0) {
            return b.setDetail("SYNC_IOC_FILE_INFO: " + Errno.describe(info.result())).build();
          }
          b.setValue(StepCall.number(info.numFences())).putOut("num_fences", Integer.toString(info.numFences()))
              .putOut("status", Integer.toString(info.status())).putOut("name", info.name());
          if (!info.fences().isEmpty()) {
            b.putOut("fence_status", info.fences().stream().map(l -> Integer.toString(l.status())).collect(Collectors.joining(",")));
            b.putOut("fence_timestamp", info.fences().stream().map(l -> l.timestampNanos() != 0 ? "set" : "0").collect(Collectors.joining(",")));
          }
          return b.setDetail("num_fences " + info.numFences() + ", status " + info.status()).build();
        });
  }

  private CompletionStage<StepResult> getDeadline(StepCall call, ActorRef<ProcessActor.Command> process,
      dev.fencelab.protocol.scenario.v1.GetDeadline g) {
    ActorRef<ContextOwner.Command> timeline = call.actor(g.getTimeline());
    if (g.getDeadlineNs() != 0 || g.getPad() != 0) {
      return StepCall.done(StepCall.ret(Errno.EINVAL.negative()).setDetail("deadline_ns and pad must be 0"));
    }
    int fd = call.fd(g.getFd());
    return call.<ProcessActor.Command, ProcessActor.FenceReply>ask(process, r -> new ProcessActor.GetFence(fd, r))
        .thenCompose(f -> f.result() != 0 || f.fence() == null
            ? StepCall.done(StepCall.ret(Errno.EINVAL.negative()).setDetail("fd " + fd + " is not a sync_file"))
            : call.<ContextOwner.Command, SwSyncTimeline.DeadlineReply>ask(timeline, r -> new SwSyncTimeline.GetDeadline(f.fence(), r))
                .thenApply(d -> {
                  StepResult.Builder b = StepCall.ret(d.error());
                  if (d.error() == 0) {
                    b.setValue(StepCall.number(d.deadlineNanos())).putOut("deadline", "set");
                  }
                  return b.build();
                }));
  }
}
