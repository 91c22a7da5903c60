package dev.fencelab.node.process;

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

/**
 * A process's own calls as steps: {@code pass} sends one of its fds (a sync_file or a dma-buf) to another process, as
 * {@code SCM_RIGHTS} over a unix socket does — the receiver gets a new fd to the same file, bound under the same
 * name in the receiver. Returns 0; the receiver's new fd is its value.
 */
public final class ProcessSteps implements StepHandler {

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.PASS);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    if (!step.hasPass()) {
      throw new StepFailure(Errno.EOPNOTSUPP, "not a process step: " + step.getActionCase());
    }
    String name = step.getPass().getName();
    String to = step.getPass().getTo();
    int fd = call.fd(name);
    ActorRef<ProcessProtocol.Command> from = call.actor(step.getProcess());
    ActorRef<ProcessProtocol.Command> receiver = call.actor(to);
    return call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(from, r -> new ProcessProtocol.SendFd(fd, receiver, r))
        .thenApply(reply -> reply.fd() < 0 ? StepCall.ret(reply.fd()).setDetail("pass: " + Errno.describe(reply.fd())).build()
            : StepCall.ret(0).setValue(StepCall.number(reply.fd())).putOut("fd", Integer.toString(reply.fd()))
                .setDetail(name + " -> " + to + " as fd " + reply.fd())
                .putBound(name, Binding.newBuilder().setFd(reply.fd()).setProcess(to).build()).build());
  }
}
