package dev.fencelab.node.driver;

import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A device's work as scenario steps: {@code submit} (a process's job, with its in-fences as sync_file fds, the
 * buffers it reads and writes as the device's handles, an optional copy, and an optional out-fence bound as a
 * sync_file fd of the process and as a fence name), and {@code checksum} (the buffer's bytes read as the CPU reads
 * them: DMA_BUF_IOCTL_SYNC START, read, END — kernel-semantics §1.12).
 */
public final class JobSteps implements StepHandler {
  private final FenceNames names;

  public JobSteps(FenceNames names) {
    this.names = names;
  }

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.SUBMIT, Step.ActionCase.CHECKSUM);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    return switch (call.step().getActionCase()) {
      case SUBMIT -> submit(call);
      case CHECKSUM -> checksum(call);
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a job step: " + call.step().getActionCase());
    };
  }

  private CompletionStage<StepResult> submit(StepCall call) {
    Step step = call.step();
    var sub = step.getSubmit();
    String device = sub.getDevice();
    List<Integer> reads = new ArrayList<>();
    List<Integer> writes = new ArrayList<>();
    sub.getReadsList().forEach(b -> reads.add(call.handle(b, device)));
    sub.getWritesList().forEach(b -> writes.add(call.handle(b, device)));
    List<Integer> inFds = new ArrayList<>();
    sub.getInFencesList().forEach(f -> inFds.add(call.fd(f)));
    long duration = sub.getDuration().isEmpty() ? 1_000 : Units.nanos(sub.getDuration());
    String label = sub.getLabel().isEmpty() ? call.stepId() : sub.getLabel();
    JobSpec.Copy copy = null;
    if (sub.hasCopy()) {
      String from = sub.getCopy().getFrom();
      String to = sub.getCopy().getTo();
      long size = sub.getCopy().getSize().isEmpty()
          ? Math.min(call.number(StepBindings.size(from), 0), call.number(StepBindings.size(to), 0))
          : Units.bytes(sub.getCopy().getSize());
      copy = new JobSpec.Copy(call.handle(from, device), 0, call.handle(to, device), 0, size);
    }
    JobSpec job = new JobSpec((int) sub.getEngine(), duration, reads, writes, copy, label);
    boolean out = !sub.getOutFence().isEmpty();
    ActorRef<ProcessProtocol.Command> process = call.actor(step.getProcess());
    ActorRef<DriverProtocol.Command> driver = call.driver(device);
    return call.<ProcessProtocol.Command, ProcessProtocol.Submitted>ask(process, r -> new ProcessProtocol.SubmitJob(driver, job, inFds, out, r))
        .thenApply(reply -> {
          if (reply.result() != 0) {
            return StepCall.ret(reply.result()).setDetail("submit: " + Errno.describe(reply.result())).build();
          }
          StepResult.Builder b = StepCall.ret(0).setDetail("job '" + label + "' queued on " + device + ", out-fence "
              + (reply.outFence() == null ? "-" : reply.outFence().id()) + (out ? " as fd " + reply.outFd() : ""));
          if (reply.outFence() != null) {
            b.setValue(names.value(reply.outFence()));
          }
          if (out) {
            b.putBound(sub.getOutFence(), Binding.newBuilder().setFd(reply.outFd()).build());
          }
          return b.build();
        });
  }

  private static CompletionStage<StepResult> checksum(StepCall call) {
    String buffer = call.step().getChecksum().getBuffer();
    ActorRef<DriverProtocol.Command> driver = call.actor(buffer);
    int handle = call.handle(buffer);
    String owner = call.text(StepBindings.owner(buffer), "owner of buffer " + buffer);
    return call.<DriverProtocol.Command, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.CpuAccess(owner, handle, 1, r))
        .thenCompose(start -> start.result() != 0
            ? StepCall.done(StepCall.ret(start.result()).setDetail("checksum: " + Errno.describe(start.result())))
            : call.<DriverProtocol.Command, DriverProtocol.ChecksumReply>ask(driver, r -> new DriverProtocol.Checksum(handle, r))
                .thenApply(reply -> {
                  driver.tell(new DriverProtocol.CpuAccess(owner, handle, 1 | 4, call.system().ignoreRef()));
                  return reply.result() != 0 ? StepCall.ret(reply.result()).setDetail("checksum: " + Errno.describe(reply.result())).build()
                      : StepCall.ret(0).setDetail(buffer + " " + reply.checksum()).putOut("checksum", reply.checksum())
                          .putOut("size", Long.toString(reply.size())).build();
                }));
  }
}
