package dev.fencelab.node.mm;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.memory.Content;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A process's address-space calls as steps (kernel-semantics §1.14, §1.15), made on the process's member against its
 * {@code mm}: mmap, munmap, mprotect, madvise, fork, CPU reads and writes, the interval-notifier API on test notifiers,
 * an explicit invalidation (reclaim, the OOM reaper, a migration), and userptr buffers on a GPU driver anywhere in the
 * cluster. A region is what an mmap bound (its address, and {@code size:<region>}); {@code offset}/{@code length}
 * pick part of it.
 */
public final class MmSteps implements StepHandler {
  private final FenceNames names;
  private final ActorRef<HostMemory.Command> memory;

  public MmSteps(FenceNames names, ActorRef<HostMemory.Command> memory) {
    this.names = names;
    this.memory = memory;
  }

  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.MMAP, Step.ActionCase.MUNMAP, Step.ActionCase.MPROTECT, Step.ActionCase.MADVISE,
        Step.ActionCase.FORK, Step.ActionCase.CPU_WRITE, Step.ActionCase.CPU_READ, Step.ActionCase.NOTIFIER_INSERT,
        Step.ActionCase.NOTIFIER_REMOVE, Step.ActionCase.READ_BEGIN, Step.ActionCase.READ_RETRY, Step.ActionCase.NOTIFIER_SEQ,
        Step.ActionCase.INVALIDATE, Step.ActionCase.USERPTR, Step.ActionCase.OOM_REAP, Step.ActionCase.EXIT, Step.ActionCase.ALLOC,
        Step.ActionCase.MIGRATE_VMA, Step.ActionCase.HMM_RANGE_FAULT, Step.ActionCase.MAKE_EXCLUSIVE, Step.ActionCase.DMIRROR);
  }

  /** {@code [addr, addr + length)} of a region. */
  public record Range(long addr, long length) {}

  /** Part of region {@code region} ({@code offset}, {@code length}: sizes with units; default all of it). */
  public static Range range(StepCall call, String region, String offset, String length) {
    Binding b = call.binding(region);
    if (b == null || b.getKindCase() != Binding.KindCase.NUMBER) {
      throw new StepFailure(Errno.ENOENT, "no region named '" + region + "' is mapped in this run");
    }
    long size = call.number(StepBindings.size(region), 0);
    long off = offset.isEmpty() ? 0 : Units.bytes(offset);
    long len = length.isEmpty() ? size - off : Units.bytes(length);
    if (off < 0 || len < 0) {
      throw new StepFailure(Errno.EINVAL, "offset '" + offset + "' or length '" + length + "' is not a size");
    }
    return new Range(b.getNumber() + off, len);
  }

  static int prot(String text) {
    String p = text.isEmpty() ? "rw" : text.toLowerCase(Locale.ROOT);
    if (p.equals("none")) {
      return 0;
    }
    int prot = 0;
    for (char c : p.toCharArray()) {
      prot |= switch (c) {
        case 'r' -> AddressSpace.PROT_READ;
        case 'w' -> AddressSpace.PROT_WRITE;
        case 'x' -> AddressSpace.PROT_EXEC;
        default -> throw new StepFailure(Errno.EINVAL, "prot '" + text + "': letters r, w, x or none");
      };
    }
    return prot;
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    if (step.getProcess().isEmpty()) {
      throw new StepFailure(Errno.EINVAL, dev.fencelab.protocol.scenario.ScenarioSteps.action(step) + " is a call of a process: give the step a process");
    }
    ActorRef<MmProtocol.Command> mm = call.actor(StepBindings.mm(step.getProcess()));
    return switch (step.getActionCase()) {
      case MMAP -> {
        var m = step.getMmap();
        long length = Units.bytes(m.getLength());
        yield ask(call, mm, r -> new MmProtocol.Mmap(m.getAddress(), length, prot(m.getProt()), m.getShared(), m.getAddress() != 0, r),
            (reply, b) -> {
              if (reply.ret() >= 0) {
                b.setValue(StepCall.number(reply.ret()))
                    .putBound(m.getAs(), Binding.newBuilder().setNumber(reply.ret()).build())
                    .putBound(StepBindings.size(m.getAs()), Binding.newBuilder().setNumber(length).build());
              }
            });
      }
      case MUNMAP -> {
        Range r = range(call, step.getMunmap().getRegion(), step.getMunmap().getOffset(), step.getMunmap().getLength());
        yield ask(call, mm, to -> new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, r.addr(), r.length(), 0, to), null);
      }
      case MPROTECT -> {
        var p = step.getMprotect();
        Range r = range(call, p.getRegion(), p.getOffset(), p.getLength());
        yield ask(call, mm, to -> new MmProtocol.Change(MmProtocol.Change.Kind.MPROTECT, r.addr(), r.length(), prot(p.getProt()), to), null);
      }
      case MADVISE -> {
        var a = step.getMadvise();
        Range r = range(call, a.getRegion(), a.getOffset(), a.getLength());
        yield ask(call, mm, to -> new MmProtocol.Change(MmProtocol.Change.Kind.DONTNEED, r.addr(), r.length(), 0, to), null);
      }
      case FORK -> step.getFork().getInto().isEmpty()
          ? ask(call, mm, to -> new MmProtocol.Change(MmProtocol.Change.Kind.FORK, 0, 0, 0, to), null)
          : ask(call, mm, to -> new MmProtocol.ForkInto(call.actor(StepBindings.mm(step.getFork().getInto())), to), null);
      case CPU_WRITE -> {
        var w = step.getCpuWrite();
        Range r = range(call, w.getRegion(), w.getOffset(), w.getLength());
        long seed = w.getSeed() != 0 ? w.getSeed() : Content.seed(call.stepId().hashCode(), r.addr());
        yield ask(call, mm, to -> new MmProtocol.CpuAccess(r.addr(), r.length(), true, seed, to), null);
      }
      case CPU_READ -> {
        var rd = step.getCpuRead();
        Range r = range(call, rd.getRegion(), rd.getOffset(), rd.getLength());
        yield ask(call, mm, to -> new MmProtocol.CpuAccess(r.addr(), r.length(), false, 0, to), null);
      }
      case MIGRATE_VMA -> {
        var m = step.getMigrateVma();
        Range r = range(call, m.getRegion(), m.getOffset(), m.getLength());
        String owner = m.getOwner().isEmpty() ? m.getDevice() : m.getOwner();
        ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> driver = m.getToRam() ? null : call.driver(m.getDevice());
        yield ask(call, mm, to -> new MmProtocol.Migrate(r.addr(), r.length(), owner, m.getDevice(), m.getToRam(), driver, to),
            (reply, b) -> b.setValue(StepCall.number(reply.value())));
      }
      case MAKE_EXCLUSIVE -> {
        var x = step.getMakeExclusive();
        Range r = range(call, x.getRegion(), x.getOffset(), x.getLength());
        String owner = x.getOwner().isEmpty() ? x.getDevice() : x.getOwner();
        yield ask(call, mm, to -> new MmProtocol.MakeExclusive(r.addr(), r.length(), owner, to), (reply, b) -> b.setValue(StepCall.number(reply.value())));
      }
      case DMIRROR -> {
        var x = step.getDmirror();
        Range r = range(call, x.getRegion(), x.getOffset(), x.getLength());
        var driver = x.getOp().equals("migrate_to_dev") ? call.<dev.fencelab.node.driver.DriverProtocol.Command>driver(x.getDevice()) : null;
        long seed = x.getSeed() != 0 ? x.getSeed() : Content.seed(call.stepId().hashCode(), r.addr());
        yield ask(call, mm, to -> new MmProtocol.Dmirror(x.getOp(), r.addr(), r.length(), x.getDevice(), seed, driver, to),
            (reply, b) -> b.setValue(StepCall.number(reply.value())));
      }
      case HMM_RANGE_FAULT -> {
        var h = step.getHmmRangeFault();
        Range r = range(call, h.getRegion(), h.getOffset(), h.getLength());
        String owner = h.getOwner().isEmpty() ? h.getDevice() : h.getOwner();
        java.util.Set<String> p2p = h.getAllowP2P() ? reachable(call, h.getDevice()) : java.util.Set.of();
        yield ask(call, mm, to -> new MmProtocol.HmmFault(r.addr(), r.length(), owner, h.getFault(), h.getWrite(), p2p, to),
            (reply, b) -> b.setValue(StepCall.number(reply.value())));
      }
      case NOTIFIER_INSERT -> insert(call, mm, step);
      case NOTIFIER_REMOVE -> testCall(call, mm, MmProtocol.TestCall.Call.REMOVE, step.getNotifierRemove().getNotifier(), 0);
      case READ_BEGIN -> testCall(call, mm, MmProtocol.TestCall.Call.READ_BEGIN, step.getReadBegin().getNotifier(), 0);
      case READ_RETRY -> testCall(call, mm, MmProtocol.TestCall.Call.READ_RETRY, step.getReadRetry().getNotifier(), step.getReadRetry().getSeq());
      case NOTIFIER_SEQ -> ask(call, mm, to -> new MmProtocol.TestCall(MmProtocol.TestCall.Call.SEQ, 0, 0, to),
          (reply, b) -> b.setValue(StepCall.number(reply.value())));
      case INVALIDATE -> {
        var i = step.getInvalidate();
        Range r = range(call, i.getRegion(), i.getOffset(), i.getLength());
        MmuEvent event = i.getEvent().isEmpty() ? MmuEvent.CLEAR : MmuEvent.named(i.getEvent());
        if (event == null) {
          throw new StepFailure(Errno.EINVAL, "unknown mmu_notifier_event '" + i.getEvent() + "'");
        }
        yield ask(call, mm, to -> new MmProtocol.InvalidateRange(r.addr(), r.addr() + r.length(), event, !i.getNonblock(), i.getOwner(), to),
            null);
      }
      case USERPTR -> userptr(call, mm, step);
      case OOM_REAP -> {
        String delay = step.getOomReap().getDelay();
        java.time.Duration d = delay.isEmpty() ? java.time.Duration.ZERO : java.time.Duration.ofNanos(Units.nanos(delay));
        yield ask(call, mm, to -> new MmProtocol.OomReap(d, to), null);
      }
      case EXIT -> ask(call, mm, to -> new MmProtocol.Change(MmProtocol.Change.Kind.EXIT, 0, 0, 0, to), null);
      case ALLOC -> {
        var a = step.getAlloc();
        long bytes = Units.bytes(a.getSize());
        dev.fencelab.node.lockdep.Gfp gfp = dev.fencelab.node.lockdep.Gfp.parse(a.getGfp().isEmpty() ? "kernel" : a.getGfp());
        if (gfp == null) {
          throw new StepFailure(Errno.EINVAL, "gfp '" + a.getGfp() + "': kernel, nofs, noio, atomic or nowait");
        }
        boolean reclaims = gfp.directReclaim(); // fs_reclaim_acquire reaches the notifiers for kernel, nofs and noio (§3.2)
        String waiter = stepVertex(call.run(), call.stepId());
        yield call.<HostMemory.Command, MmProtocol.Reply>ask(memory, r -> new HostMemory.Alloc(bytes, reclaims, waiter, r))
            .thenApply(reply -> StepCall.ret(reply.ret()).setDetail(reply.detail()).build());
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not an address-space step: " + step.getActionCase());
    };
  }

  private interface Bind {
    void bind(MmProtocol.Reply reply, StepResult.Builder b);
  }

  private static CompletionStage<StepResult> ask(StepCall call, ActorRef<MmProtocol.Command> mm,
      Function<ActorRef<MmProtocol.Reply>, MmProtocol.Command> message, Bind bind) {
    return call.<MmProtocol.Command, MmProtocol.Reply>ask(mm, message::apply).thenApply(reply -> {
      StepResult.Builder b = StepCall.ret(reply.ret()).setDetail(reply.detail()).putAllOut(reply.out());
      if (bind != null) {
        bind.bind(reply, b);
      }
      return b.build();
    });
  }

  private CompletionStage<StepResult> insert(StepCall call, ActorRef<MmProtocol.Command> mm, Step step) {
    var n = step.getNotifierInsert();
    long start;
    long length;
    if (n.getRegion().isEmpty()) {
      start = address(n.getStart());
      length = Units.bytes(n.getLength());
    } else {
      Range r = range(call, n.getRegion(), n.getOffset(), n.getLength());
      start = r.addr();
      length = r.length();
    }
    MmProtocol.TestCallback cb = switch (n.getOnInvalidate()) {
      case "", "ok" -> MmProtocol.TestCallback.OK;
      case "nonblock_refuses" -> MmProtocol.TestCallback.NONBLOCK_REFUSES;
      case "refuse" -> MmProtocol.TestCallback.REFUSE;
      case "wait" -> MmProtocol.TestCallback.WAIT_FENCE;
      case "remove_self" -> MmProtocol.TestCallback.REMOVE_SELF;
      default -> throw new StepFailure(Errno.EINVAL, "on_invalidate '" + n.getOnInvalidate() + "': ok, nonblock_refuses, refuse or wait");
    };
    var fence = n.getFence().isEmpty() ? null : names.fence(call, n.getFence());
    var called = n.getCalled().isEmpty() ? null : names.fence(call, n.getCalled());
    if (called != null && called.kind() != dev.fencelab.node.fence.FenceRef.Kind.HARDWARE) {
      throw new StepFailure(Errno.EINVAL, "called: a fence of the fence API (a mock fence), not " + called);
    }
    return ask(call, mm, to -> new MmProtocol.TestInsert(n.getAs(), start, length, cb, fence, called, to), (reply, b) -> {
      if (reply.ret() == 0) {
        b.putBound(n.getAs(), Binding.newBuilder().setNumber(reply.value()).build());
      }
    });
  }

  /** A step of a run as a vertex of the wait-for graph (the thread making it): {@code step:<run>/<id>}. */
  public static String stepVertex(String run, String stepId) {
    return "step:" + run + "/" + stepId;
  }

  /** An address as a scenario writes it: decimal or 0x hex, unsigned 64-bit. */
  public static long address(String text) {
    String t = text.trim();
    try {
      return t.isEmpty() ? 0 : t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseUnsignedLong(t);
    } catch (NumberFormatException e) {
      throw new StepFailure(Errno.EINVAL, "'" + text + "' is not an address");
    }
  }

  private static CompletionStage<StepResult> testCall(StepCall call, ActorRef<MmProtocol.Command> mm, MmProtocol.TestCall.Call what,
      String notifier, long seq) {
    Binding b = call.binding(notifier);
    if (b == null || b.getKindCase() != Binding.KindCase.NUMBER) {
      throw new StepFailure(Errno.ENOENT, "no notifier named '" + notifier + "' in this run");
    }
    return ask(call, mm, to -> new MmProtocol.TestCall(what, b.getNumber(), seq, to), (reply, r) -> {
      if (what == MmProtocol.TestCall.Call.READ_BEGIN) {
        r.setValue(StepCall.number(reply.value()));
      } else if (what == MmProtocol.TestCall.Call.READ_RETRY) {
        r.setValue(StepCall.flag(reply.value() != 0));
      }
    });
  }

  private static CompletionStage<StepResult> userptr(StepCall call, ActorRef<MmProtocol.Command> mm, Step step) {
    var u = step.getUserptr();
    Range r = range(call, u.getRegion(), u.getOffset(), u.getLength());
    String owner = call.text(StepBindings.label(step.getProcess()), "label of process " + step.getProcess());
    ActorRef<DriverProtocol.Command> driver = call.driver(u.getDevice());
    return call.<DriverProtocol.Command, DriverProtocol.BoReply>ask(driver,
            to -> new DriverProtocol.CreateUserptr(owner, u.getAs(), mm, r.addr(), r.length(), to))
        .thenApply(reply -> reply.result() != 0
            ? StepCall.ret(reply.result()).setDetail("userptr " + u.getAs() + ": " + Errno.describe(reply.result())).build()
            : StepCall.ret(0).setDetail(String.format("userptr %s over 0x%x+%d on %s, handle %d", u.getAs(), r.addr(), r.length(),
                    u.getDevice(), reply.handle()))
                .putBound(StepBindings.handle(u.getAs(), u.getDevice()), Binding.newBuilder().setHandle(reply.handle()).build())
                .putBound(StepBindings.size(u.getAs()), Binding.newBuilder().setNumber(r.length()).build()).build());
  }

  /**
   * The 2025 RFC's reachability: the devices whose device-private pages {@code client} may map as P2P (BAR) pfns —
   * those with a non-negative p2pdma distance to it (kernel-semantics §1.13).
   */
  private static java.util.Set<String> reachable(StepCall call, String client) {
    var dma = dev.fencelab.node.p2p.P2pSteps.routes(call).dma();
    java.util.Set<String> out = new java.util.HashSet<>();
    for (String d : call.devices()) {
      if (!d.equals(client) && dma.topology().endpoint(client) != null && dma.distanceMany(d, List.of(client)) >= 0) {
        out.add(d);
      }
    }
    return out;
  }
}
