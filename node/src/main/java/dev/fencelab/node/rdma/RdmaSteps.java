package dev.fencelab.node.rdma;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.mm.MmSteps;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The RDMA verbs as steps (kernel-semantics §1.16), made on the NIC's member against its {@link RdmaNic}: alloc_pd,
 * reg_mr (by the step's process, over its memory), dereg_mr, create_cq, create_qp, connect_qp, post_send, post_recv,
 * poll_cq. Every object a step makes is bound under its name to its NIC (and an MR's size under {@code size:<mr>}).
 */
public final class RdmaSteps implements StepHandler {
  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.ALLOC_PD, Step.ActionCase.REG_MR, Step.ActionCase.DEREG_MR, Step.ActionCase.CREATE_CQ,
        Step.ActionCase.CREATE_QP, Step.ActionCase.CONNECT_QP, Step.ActionCase.POST_SEND, Step.ActionCase.POST_RECV,
        Step.ActionCase.POLL_CQ);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    return switch (step.getActionCase()) {
      case ALLOC_PD -> {
        var a = step.getAllocPd();
        ActorRef<Object> nic = call.actor(StepBindings.rdma(a.getDevice()));
        yield ask(call, nic, to -> new RdmaProtocol.AllocPd(a.getAs(), to), a.getAs(), 0);
      }
      case REG_MR -> regMr(call, step);
      case DEREG_MR -> ask(call, call.actor(step.getDeregMr().getMr()), to -> new RdmaProtocol.DeregMr(step.getDeregMr().getMr(), to), null, 0);
      case CREATE_CQ -> {
        var c = step.getCreateCq();
        yield ask(call, call.actor(StepBindings.rdma(c.getDevice())), to -> new RdmaProtocol.CreateCq(c.getAs(), c.getCqe(), to), c.getAs(), 0);
      }
      case CREATE_QP -> {
        var c = step.getCreateQp();
        yield ask(call, call.actor(c.getPd()), to -> new RdmaProtocol.CreateQp(c.getAs(), c.getPd(), c.getCq(), to), c.getAs(), 0);
      }
      case CONNECT_QP -> {
        var c = step.getConnectQp();
        ActorRef<Object> peer = call.actor(c.getPeer());
        yield ask(call, call.actor(c.getQp()), to -> new RdmaProtocol.ConnectQp(c.getQp(), peer, c.getPeer(), to), null, 0);
      }
      case POST_SEND -> {
        var s = step.getPostSend();
        Verbs.Opcode op = switch (s.getOpcode().toLowerCase(Locale.ROOT)) {
          case "write", "rdma_write" -> Verbs.Opcode.WRITE;
          case "read", "rdma_read" -> Verbs.Opcode.READ;
          case "send" -> Verbs.Opcode.SEND;
          default -> throw new StepFailure(Errno.EINVAL, "opcode '" + s.getOpcode() + "': write, read or send");
        };
        long offset = size(s.getOffset(), 0, "offset");
        long length = size(s.getLength(), call.number(StepBindings.size(s.getMr()), 0) - offset, "length");
        String wr = s.getWr().isEmpty() ? call.stepId() : s.getWr();
        long remoteOffset = size(s.getRemoteOffset(), 0, "remote_offset");
        yield ask(call, call.actor(s.getQp()), to -> new RdmaProtocol.PostSend(s.getQp(), wr, op, s.getMr(), offset, length,
            s.getRemoteMr(), remoteOffset, to), null, 0);
      }
      case POST_RECV -> {
        var r = step.getPostRecv();
        long offset = size(r.getOffset(), 0, "offset");
        long length = size(r.getLength(), call.number(StepBindings.size(r.getMr()), 0) - offset, "length");
        String wr = r.getWr().isEmpty() ? call.stepId() : r.getWr();
        yield ask(call, call.actor(r.getQp()), to -> new RdmaProtocol.PostRecv(r.getQp(), wr, r.getMr(), offset, length, to), null, 0);
      }
      case POLL_CQ -> {
        var c = step.getPollCq();
        Duration wait = c.getWait().isEmpty() ? Duration.ZERO : Duration.ofNanos(Units.nanos(c.getWait()));
        yield ask(call, call.actor(c.getCq()), to -> new RdmaProtocol.PollCq(c.getCq(), c.getMax(), c.getMin(), wait, to), null,
            wait.toNanos());
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not an RDMA step: " + step.getActionCase());
    };
  }

  private static long size(String text, long absent, String what) {
    if (text.isEmpty()) {
      return absent;
    }
    long n = Units.bytes(text);
    if (n < 0) {
      throw new StepFailure(Errno.EINVAL, what + " '" + text + "' is not a size");
    }
    return n;
  }

  private CompletionStage<StepResult> regMr(StepCall call, Step step) {
    var r = step.getRegMr();
    if (step.getProcess().isEmpty()) {
      throw new StepFailure(Errno.EINVAL, "reg_mr registers a process's memory: give the step a process");
    }
    int access;
    try {
      access = Verbs.access(r.getAccessList());
    } catch (IllegalArgumentException e) {
      throw new StepFailure(Errno.EINVAL, e.getMessage());
    }
    String owner = call.text(StepBindings.label(step.getProcess()), "label of process " + step.getProcess());
    ActorRef<Object> nic = call.actor(r.getPd());
    if (!r.getBuffer().isEmpty()) { // ibv_reg_dmabuf_mr on the process's fd of the buffer
      ActorRef<DriverProtocol.Command> exporter = call.actor(r.getBuffer());
      int handle = call.handle(r.getBuffer());
      long size = call.number(StepBindings.size(r.getBuffer()), 0);
      long offset = size(r.getOffset(), 0, "offset");
      long len = size(r.getLength(), size - offset, "length");
      int flags = access;
      return call.<Object, RdmaProtocol.Reply>ask(nic, to -> new RdmaProtocol.RegDmabufMr(r.getAs(), r.getPd(), owner, exporter, handle, size,
              offset, len, flags, r.getPinned(), to))
          .thenApply(reply -> bound(call, reply, nic, r.getAs(), len));
    }
    long start;
    long length;
    if (r.getRegion().isEmpty()) {
      start = MmSteps.address(r.getStart());
      length = size(r.getLength(), 0, "length");
    } else {
      MmSteps.Range range = MmSteps.range(call, r.getRegion(), r.getOffset(), r.getLength());
      start = range.addr();
      length = range.length();
    }
    ActorRef<MmProtocol.Command> mm = call.actor(StepBindings.mm(step.getProcess()));
    return call.<Object, RdmaProtocol.Reply>ask(nic, to -> new RdmaProtocol.RegMr(r.getAs(), r.getPd(), owner, mm, start, length, access, to))
        .thenApply(reply -> bound(call, reply, nic, r.getAs(), length));
  }

  /** A registration's result: the MR bound to its NIC, and its size, when it succeeded. */
  private static StepResult bound(StepCall call, RdmaProtocol.Reply reply, ActorRef<Object> nic, String as, long length) {
    StepResult.Builder b = StepCall.ret(reply.ret()).setDetail(reply.detail()).putAllOut(reply.out());
    if (reply.ret() == 0) {
      b.putBound(as, call.actorBinding(nic)).putBound(StepBindings.size(as), Binding.newBuilder().setNumber(length).build());
    }
    return b.build();
  }

  /** Asks the NIC; binds {@code as} (when set and the call succeeded) to it. {@code longerBy}: a poll's wait. */
  private static CompletionStage<StepResult> ask(StepCall call, ActorRef<Object> nic,
      Function<ActorRef<RdmaProtocol.Reply>, Object> message, String as, long longerBy) {
    return call.<Object, RdmaProtocol.Reply>ask(nic, message::apply, call.timeout().plusNanos(longerBy)).thenApply(reply -> {
      StepResult.Builder b = StepCall.ret(reply.ret()).setDetail(reply.detail()).putAllOut(reply.out());
      if (as != null && !as.isEmpty() && reply.ret() == 0) {
        b.putBound(as, call.actorBinding(nic));
      }
      return b.build();
    });
  }
}
