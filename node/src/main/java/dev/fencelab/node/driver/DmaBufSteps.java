package dev.fencelab.node.driver;

import dev.fencelab.node.process.ProcessProtocol;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * dma-buf calls as scenario steps (kernel-semantics §1.12): export (a process gets a dma-buf fd of its buffer, with
 * the exporter ops the scenario chose; like DRM_IOCTL_PRIME_HANDLE_TO_FD it returns 0 and the fd is its value), import into another device (dynamic or static attachment; the handle is bound
 * as {@code handle:<buffer>@<device>}), map (the attachment's DMA addresses), CPU access bracketed by
 * {@code DMA_BUF_IOCTL_SYNC} START/END, {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE} made by a process on its dma-buf fd,
 * and an eviction by the exporter (the buffer moves; {@code move_notify} reaches each dynamic importer once and never
 * a static one, which the result counts).
 */
public final class DmaBufSteps implements StepHandler, dev.fencelab.node.resv.BufferResvs {

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.EXPORT, Step.ActionCase.IMPORT, Step.ActionCase.MAP, Step.ActionCase.CPU_ACCESS,
        Step.ActionCase.IMPORT_SYNC_FILE, Step.ActionCase.EVICT);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case EXPORT -> export(call);
      case IMPORT -> importBuffer(call);
      case MAP -> {
        var m = step.getMap();
        int handle = call.handle(m.getBuffer(), m.getDevice());
        String label = call.text(StepBindings.label(step.getProcess()), "label of process " + step.getProcess());
        yield call.<DriverProtocol.Command, DriverProtocol.MapReply>ask(call.driver(m.getDevice()), r -> new DriverProtocol.MapBo(label, handle, r))
            .thenApply(reply -> {
              StepResult.Builder b = StepCall.ret(reply.result()).setValue(StepCall.number(reply.segments().size()));
              if (reply.result() != 0) {
                return b.setDetail("map: " + Errno.describe(reply.result())).build();
              }
              // where the mapping points (VRAM through the BAR, or system memory) and what the exporter moved for it
              b.putOut("placement", reply.system() ? "system" : "vram").putOut("migrated", Long.toString(reply.migrated()));
              if (!reply.route().isEmpty()) {
                b.putOut("route", reply.route());
              }
              return b.setDetail(reply.segments().size() + " DMA segment(s) in " + (reply.system() ? "system memory" : "VRAM")
                  + (reply.route().isEmpty() ? "" : ", reached " + reply.route())
                  + (reply.migrated() > 0 ? "; the exporter moved " + reply.migrated() + " bytes out of VRAM first (" + reply.migrateNanos()
                      + " ns model time)" : "")).build();
            });
      }
      case CPU_ACCESS -> cpuAccess(call);
      case IMPORT_SYNC_FILE -> {
        var im = step.getImportSyncFile();
        ActorRef<ProcessProtocol.Command> process = call.actor(step.getProcess());
        int dmaBuf = call.fd(im.getBuffer());
        int syncFile = call.fd(im.getSyncFile());
        int flags = im.getFlags() != 0 ? (int) im.getFlags() : im.getWrite() ? 2 : 1;
        yield call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.ImportSyncFile(dmaBuf, flags, syncFile, r))
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

  private static CompletionStage<StepResult> export(StepCall call) {
    Step step = call.step();
    String buffer = step.getExport().getBuffer();
    ActorRef<ProcessProtocol.Command> process = call.actor(step.getProcess());
    ActorRef<DriverProtocol.Command> exporter = call.actor(buffer);
    int handle = call.handle(buffer);
    int omit = switch (step.getExport().getExporterOps()) {
      case "static" -> DriverProtocol.NO_PIN | DriverProtocol.NO_UNPIN;
      case "pin_only" -> DriverProtocol.NO_UNPIN;
      case "unpin_only" -> DriverProtocol.NO_PIN;
      default -> 0;
    };
    return call.<ProcessProtocol.Command, ProcessProtocol.FdReply>ask(process, r -> new ProcessProtocol.ExportDmaBuf(exporter, handle, omit, r))
        .thenApply(reply -> reply.fd() < 0 ? StepCall.ret(reply.fd()).setDetail("export: " + Errno.describe(reply.fd())).build()
            : StepCall.ret(0).setValue(StepCall.number(reply.fd())).putOut("fd", Integer.toString(reply.fd()))
                .setDetail("dma-buf fd " + reply.fd() + " in " + step.getProcess())
                .putBound(buffer, Binding.newBuilder().setFd(reply.fd()).build()).build());
  }

  private static CompletionStage<StepResult> importBuffer(StepCall call) {
    Step step = call.step();
    var im = step.getImport();
    ActorRef<ProcessProtocol.Command> process = call.actor(step.getProcess());
    int fd = call.fd(im.getBuffer());
    ActorRef<DriverProtocol.Command> importer = call.driver(im.getDevice());
    return call.<ProcessProtocol.Command, DriverProtocol.BoReply>ask(process,
            r -> new ProcessProtocol.ImportDmaBuf(fd, importer, !im.getStatic(), im.getNoMoveNotify(), im.getPeer2Peer(), r))
        .thenApply(reply -> reply.result() != 0 ? StepCall.ret(reply.result()).setDetail("import: " + Errno.describe(reply.result())).build()
            : StepCall.ret(0).setValue(StepCall.number(reply.handle()))
                .setDetail("handle " + reply.handle() + " on " + im.getDevice() + (im.getStatic() ? " (static)" : " (dynamic)"))
                .putBound(StepBindings.handle(im.getBuffer(), im.getDevice()), Binding.newBuilder().setHandle(reply.handle()).build())
                .build());
  }

  /** DMA_BUF_IOCTL_SYNC START (after the implicit fences the access conflicts with), then END. */
  private static CompletionStage<StepResult> cpuAccess(StepCall call) {
    Step step = call.step();
    var c = step.getCpuAccess();
    int handle = call.handle(c.getBuffer(), c.getDevice());
    String label = call.text(StepBindings.label(step.getProcess()), "label of process " + step.getProcess());
    ActorRef<DriverProtocol.Command> driver = call.driver(c.getDevice());
    int flags = c.getWrite() ? 2 : 1;
    return call.<DriverProtocol.Command, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.CpuAccess(label, handle, flags, r))
        .thenCompose(start -> start.result() != 0
            ? StepCall.done(StepCall.ret(start.result()).setDetail("cpu access start: " + Errno.describe(start.result())))
            : call.<DriverProtocol.Command, DriverProtocol.Result>ask(driver, r -> new DriverProtocol.CpuAccess(label, handle, flags | 4, r))
                .thenApply(end -> StepCall.ret(end.result()).setDetail(end.result() != 0 ? "cpu access end: " + Errno.describe(end.result())
                    : "cpu " + (c.getWrite() ? "write" : "read") + " access began after the implicit fences and ended").build()));
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
