package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmActor;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.rdma.RdmaNic;
import dev.fencelab.node.rdma.RdmaProtocol;
import dev.fencelab.node.rdma.Verbs;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One side of the RDMA benchmark on its member: a process's {@code bytes} of memory (written with a pattern, RLIMIT_MEMLOCK
 * unlimited), a NIC with a PD, a CQ and a QP, and the memory registered as a pinned MR — then {@link
 * DeviceControl.RdmaPeerReady}. It lives (and its NIC and mm with it) until {@code owner} stops.
 */
final class RdmaSide {
  private RdmaSide() {}

  static final String QP = "bench-qp";
  static final String MR = "bench-mr";
  static final String CQ = "bench-cq";

  private record Answer(Object reply) implements NoSerializationVerificationNeeded {}

  static Behavior<Object> create(long bytes, int cqe, ActorRef<?> owner, FenceServices services, ActorRef<DeviceControl.RdmaPeerReady> replyTo) {
    return Behaviors.setup(ctx -> {
      ctx.watch(owner);
      String label = "bench/" + ctx.getSelf().path().name();
      ActorRef<MmProtocol.Command> mm = ctx.spawn(MmActor.create(label + "/p", 16L << 20, services), "mm");
      mm.tell(new MmProtocol.SetLimits(-1, true));
      ActorRef<Object> nic = ctx.spawn(RdmaNic.create(new RdmaNic.Params("bench-nic", label + "/nic", false, 12.5, 2_000, 5_000, 60_000,
          Duration.ofMinutes(5))), "nic");
      long[] addr = {0};
      Deque<Function<ActorRef<Object>, Object>> calls = new ArrayDeque<>();
      calls.add(r -> new MmProtocol.Mmap(0, bytes, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, r.narrow()));
      calls.add(r -> new MmProtocol.CpuAccess(addr[0], bytes, true, 0x5eed, r.narrow()));
      calls.add(r -> new RdmaProtocol.AllocPd("bench-pd", r.narrow()));
      calls.add(r -> new RdmaProtocol.CreateCq(CQ, cqe, r.narrow()));
      calls.add(r -> new RdmaProtocol.CreateQp(QP, "bench-pd", CQ, r.narrow()));
      calls.add(r -> new RdmaProtocol.RegMr(MR, "bench-pd", label + "/p", mm, addr[0], bytes,
          Verbs.LOCAL_WRITE | Verbs.REMOTE_WRITE | Verbs.REMOTE_READ, r.narrow()));
      ActorRef<Object> answers = ctx.messageAdapter(Object.class, Answer::new);
      Runnable[] next = new Runnable[1];
      next[0] = () -> {
        Function<ActorRef<Object>, Object> call = calls.poll();
        if (call == null) {
          replyTo.tell(new DeviceControl.RdmaPeerReady(nic, QP, MR, 0, ""));
          return;
        }
        Object message = call.apply(answers);
        (message instanceof MmProtocol.Command ? mm.<Object>unsafeUpcast() : nic).tell(message);
      };
      next[0].run();
      return Behaviors.receive(Object.class)
          .onMessage(Answer.class, a -> {
            long ret = a.reply() instanceof MmProtocol.Reply m ? m.ret() : ((RdmaProtocol.Reply) a.reply()).ret();
            if (a.reply() instanceof MmProtocol.Reply m && addr[0] == 0) {
              addr[0] = m.ret();
            }
            if (ret < 0) {
              replyTo.tell(new DeviceControl.RdmaPeerReady(null, QP, MR, (int) ret, "rdma bench set-up failed: " + a.reply()));
              return Behaviors.stopped();
            }
            next[0].run();
            return Behaviors.same();
          })
          .onSignal(Terminated.class, t -> Behaviors.stopped())
          .build();
    });
  }
}
