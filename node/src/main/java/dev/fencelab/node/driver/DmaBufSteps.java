package dev.fencelab.node.driver;

import dev.fencelab.node.process.ProcessActor;
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
 * dma-buf calls as scenario steps (kernel-semantics §1.12): {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE} made by a process on
 * its dma-buf fd, and an eviction by the exporter (the buffer moves; {@code move_notify} reaches each dynamic
 * importer once and never a static one, which the result counts).
 */
public final class DmaBufSteps implements StepHandler, dev.fencelab.node.resv.BufferResvs {

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.IMPORT_SYNC_FILE, Step.ActionCase.EVICT);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case IMPORT_SYNC_FILE -> {
        var im = step.getImportSyncFile();
        ActorRef<ProcessActor.Command> process = call.actor(step.getProcess());
        int dmaBuf = call.fd(im.getBuffer());
        int syncFile = call.fd(im.getSyncFile());
        int flags = im.getFlags() != 0 ? (int) im.getFlags() : im.getWrite() ? 2 : 1;
        yield call.<ProcessActor.Command, ProcessActor.FdReply>ask(process, r -> new ProcessActor.ImportSyncFile(dmaBuf, flags, syncFile, r))
            .thenApply(reply -> StepCall.ret(reply.fd()).setDetail(reply.fd() == 0 ? "fences added to " + im.getBuffer() + "'s resv"
                : "DMA_BUF_IOCTL_IMPORT_SYNC_FILE: " + Errno.describe(reply.fd())).build());
      }
      case EVICT -> {
        String buffer = step.getEvict().getBuffer();
        ActorRef<DriverProtocol.Command> exporter = call.actor(buffer);
        int handle = call.handle(buffer);
        yield call.<DriverProtocol.Command, DriverProtocol.EvictReply>ask(exporter, r -> new DriverProtocol.Evict(handle, r))
            .thenApply(e -> StepCall.ret(e.result()).setValue(StepCall.number(e.notified())).putOut("notified", Integer.toString(e.notified()))
                .setDetail(e.result() == 0 ? "moved; move_notify to " + e.notified() + " dynamic importer(s)" : Errno.describe(e.result())).build());
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a dma-buf step: " + step.getActionCase());
    };
  }

  /** The exporter's reservation object of a buffer (a KERNEL fence for a move goes there). */
  @Override
  public CompletionStage<Found> of(StepCall call, String buffer) {
    ActorRef<DriverProtocol.Command> exporter = call.actor(buffer);
    int handle = call.handle(buffer);
    return call.<DriverProtocol.Command, DriverProtocol.ResvReply>ask(exporter, r -> new DriverProtocol.GetResv("", handle, r))
        .thenApply(reply -> {
          if (reply.result() != 0) {
            throw new StepFailure(Errno.of(reply.result()), "buffer " + buffer + ": " + Errno.describe(reply.result()));
          }
          return new Found(reply.resv(), reply.mode());
        });
  }
}
