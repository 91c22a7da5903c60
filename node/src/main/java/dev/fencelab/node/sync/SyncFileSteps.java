package dev.fencelab.node.sync;

import dev.fencelab.node.process.ProcessProtocol;
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
        Step.ActionCase.SYNC_FILE, Step.ActionCase.WAIT, Step.ActionCase.MERGE, Step.ActionCase.EXPORT_SYNC_FILE);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    if (step.getProcess().isEmpty()) {
      throw new StepFailure(Errno.EINVAL, step.getActionCase() + " is made by a process: the step needs 'process'");
    }
    ActorRef<ProcessProtocol.Command> process = call.actor(step.getProcess());
    return switch (step.getActionCase()) {
      case FILE_INFO -> fileInfo(call, process, step.getFileInfo());
      case SET_DEADLINE -> {
        var d = step.getSetDeadline();
        int fd = call.fd(d.getFd());
        Duration in = StepCall.duration(d.getDeadline(), Duration.ZERO);
        long deadline = System.nanoTime() + (in == null ? 0 : in.toNanos());
        yield call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.SyncSetDeadline(fd, deadline, d.getPad(), r))
            .thenApply(reply -> StepCall.ret(reply.fd()).build());
      }
      case CLOSE -> {
        int fd = call.fd(step.getClose().getFd());
        yield call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.CloseFd(fd, r))
            .thenApply(reply -> StepCall.ret(reply.fd()).setDetail(reply.fd() == 0 ? "fd " + fd + " closed" : Errno.describe(reply.fd())).build());
      }
      case SYNC_FILE -> {
        var s = step.getSyncFile();
        FenceRef fence = names.fence(call, s.getFence());
        String as = s.getAs().isEmpty() ? s.getFence() : s.getAs();
        yield call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.SyncFileCreate(fence, as, r))
            .thenApply(reply -> {
              StepResult.Builder b = StepCall.ret(reply.fd() < 0 ? reply.fd() : 0).setValue(StepCall.number(reply.fd()));
              if (reply.fd() >= 0) {
                b.putBound(as, Binding.newBuilder().setFd(reply.fd()).build()).setDetail("sync_file fd " + reply.fd() + " of " + fence);
              }
              return b.build();
            });
      }
      case GET_DEADLINE -> getDeadline(call, process, step.getGetDeadline());
      case WAIT -> poll(call, process, step.getWait());
      case MERGE -> merge(call, process, step.getMerge());
      case EXPORT_SYNC_FILE -> {
        var e = step.getExportSyncFile();
        int dmaBuf = call.fd(e.getBuffer());
        int flags = e.getFlags() != 0 ? (int) e.getFlags() : e.getWrite() ? 2 : 1;
        yield call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.ExportSyncFile(dmaBuf, flags, r))
            .thenCompose(reply -> reply.fd() < 0
                ? StepCall.done(StepCall.ret(reply.fd()).setDetail("DMA_BUF_IOCTL_EXPORT_SYNC_FILE: " + Errno.describe(reply.fd())))
                : installed(call, process, reply.fd(), e.getAs(), "sync_file fd " + reply.fd()));
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a sync_file step: " + step.getActionCase());
    };
  }

  /** {@code poll()} on a sync_file (its fence) or a dma-buf fd (its writers): ret >0 ready, 0 timed out (§1.10, §1.12). */
  private CompletionStage<StepResult> poll(StepCall call, ActorRef<ProcessProtocol.Command> process, dev.fencelab.protocol.scenario.v1.Wait w) {
    int fd = call.fd(w.getFence().isEmpty() ? w.getBuffer() : w.getFence());
    java.time.Duration timeout = StepCall.duration(w.getTimeout(), call.timeout().dividedBy(2));
    long millis = timeout == null ? -1 : timeout.toMillis();
    return call.<ProcessProtocol.Command, ProcessProtocol.PollResult>ask(process, r -> new ProcessProtocol.SyncFileWait(fd, millis, r),
            timeout == null ? call.timeout() : timeout.plus(call.timeout()))
        .thenApply(reply -> StepCall.ret(reply.result())
            .setResult(reply.result() > 0 ? "signaled" : reply.result() == 0 ? "timeout" : "error")
            .putOut("status", Integer.toString(reply.status().value()))
            .setDetail((reply.result() > 0 ? "signalled" : reply.result() == 0 ? "timed out" : Errno.describe(reply.result()))
                + ", status " + reply.status()).build());
  }

  /** {@code SYNC_IOC_MERGE} of the fds left to right; the result is named {@code as} (its fd and its fence). */
  private CompletionStage<StepResult> merge(StepCall call, ActorRef<ProcessProtocol.Command> process, dev.fencelab.protocol.scenario.v1.Merge m) {
    List<Integer> fds = m.getFencesList().stream().map(call::fd).toList();
    CompletionStage<ProcessProtocol.FdReply> merged = java.util.concurrent.CompletableFuture.completedFuture(new ProcessProtocol.FdReply(fds.get(0)));
    for (int k = 1; k < fds.size(); k++) {
      int next = fds.get(k);
      merged = merged.thenCompose(prev -> prev.fd() < 0 ? java.util.concurrent.CompletableFuture.completedFuture(prev)
          : call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process,
              r -> new ProcessProtocol.SyncMerge(prev.fd(), next, m.getAs(), (int) m.getFlags(), (int) m.getPad(), r)));
    }
    return merged.thenCompose(reply -> reply.fd() < 0
        ? StepCall.done(StepCall.ret(reply.fd()).setDetail("SYNC_IOC_MERGE: " + Errno.describe(reply.fd())))
        : installed(call, process, reply.fd(), m.getAs(), "merged into fd " + reply.fd()));
  }

  /** A new sync_file fd in the process: bound as {@code as}, its fence the call's value. */
  private CompletionStage<StepResult> installed(StepCall call, ActorRef<ProcessProtocol.Command> process, int fd, String as, String detail) {
    return call.<ProcessProtocol.Command, ProcessProtocol.FenceReply>ask(process, r -> new ProcessProtocol.GetFence(fd, r))
        .thenApply(f -> {
          StepResult.Builder b = StepCall.ret(0).setDetail(detail);
          if (f.result() == 0 && f.fence() != null) {
            b.setValue(names.value(f.fence()));
          }
          if (!as.isEmpty()) {
            b.putBound(as, Binding.newBuilder().setFd(fd).build());
          }
          return b.build();
        });
  }

  private CompletionStage<StepResult> fileInfo(StepCall call, ActorRef<ProcessProtocol.Command> process, dev.fencelab.protocol.scenario.v1.FileInfo f) {
    int fd = call.fd(f.getFd());
    return call.<ProcessProtocol.Command, ProcessProtocol.FileInfo>ask(process,
            r -> new ProcessProtocol.SyncFileInfo(fd, (int) f.getNumFences(), (int) f.getFlags(), (int) f.getPad(), r))
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

  private CompletionStage<StepResult> getDeadline(StepCall call, ActorRef<ProcessProtocol.Command> process,
      dev.fencelab.protocol.scenario.v1.GetDeadline g) {
    ActorRef<ContextOwner.Command> timeline = call.actor(g.getTimeline());
    if (g.getDeadlineNs() != 0 || g.getPad() != 0) {
      return StepCall.done(StepCall.ret(Errno.EINVAL.negative()).setDetail("deadline_ns and pad must be 0"));
    }
    int fd = call.fd(g.getFd());
    return call.<ProcessProtocol.Command, ProcessProtocol.FenceReply>ask(process, r -> new ProcessProtocol.GetFence(fd, r))
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
