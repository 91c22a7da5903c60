package dev.fencelab.node.driver;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.device.Engine;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.resv.ResvUsage;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One command submission after validation, as a short-lived child of the driver: queue the job (the engine
 * allocates its out-fence), then on every buffer's reservation object — possibly on other members — collect the
 * implicit dependencies and publish the out-fence in one step ({@link Resv.Exchange}: a writer waits for readers
 * and writers, a reader for writers, §1.9), then hand the dependencies to the engine and answer the caller. The
 * answer comes only after every reservation object has the out-fence, so a later submission anywhere sees it.
 *
 * <p>A reservation object that is gone (its member died or its device was unplugged) fails the submission with
 * -ENODEV; the already-allocated out-fence is signalled with -ENODEV. A reservation object that does not answer
 * within the wait cap fails it with -ETIMEDOUT.
 */
final class SubmitFlow {
  private SubmitFlow() {}

  /** A buffer's reservation object and whether the job writes the buffer. */
  record ResvTarget(ActorRef<Resv.Command> resv, boolean write) {}

  private interface Msg extends NoSerializationVerificationNeeded {}

  private record Queued(Engine.Queued queued) implements Msg {}

  private record Collected(ActorRef<Resv.Command> from, Resv.Fences fences) implements Msg {}

  private record NoAnswer(ActorRef<Resv.Command> from) implements Msg {}

  private enum Timeout implements Msg {
    INSTANCE
  }

  static Behavior<Msg> create(ActorRef<DeviceActor.Command> device, long jobId, String process, JobSpec spec, List<FenceRef> inFences,
      List<ResvTarget> targets, Duration cap, ActorRef<DriverProtocol.SubmitReply> replyTo) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      device.tell(new DeviceActor.Queue(new Engine.Queue(jobId, process, spec,
          context.messageAdapter(Engine.Queued.class, Queued::new))));
      timers.startSingleTimer(Timeout.INSTANCE, cap);
      List<FenceRef> deps = new ArrayList<>(inFences);
      Set<String> seen = new HashSet<>();
      inFences.forEach(f -> seen.add(f.id().toString()));
      Set<ActorRef<Resv.Command>> waiting = new HashSet<>();
      FenceRef[] out = new FenceRef[1];
      return Behaviors.receive(Msg.class)
          .onMessage(Queued.class, q -> {
            if (q.queued().error() != 0) {
              replyTo.tell(new DriverProtocol.SubmitReply(q.queued().error(), null));
              return Behaviors.stopped();
            }
            out[0] = q.queued().fence();
            for (ResvTarget t : targets) {
              if (waiting.add(t.resv())) {
                context.watch(t.resv());
                // dma_resv_usage_rw(write): a writer waits for READ (and below), a reader for WRITE (and below).
                context.ask(Resv.Fences.class, t.resv(), cap,
                    ref -> new Resv.Exchange(List.of(out[0]), t.write() ? ResvUsage.WRITE : ResvUsage.READ,
                        t.write() ? ResvUsage.READ : ResvUsage.WRITE, ref),
                    (fences, failure) -> fences != null ? new Collected(t.resv(), fences) : new NoAnswer(t.resv()));
              }
            }
            return finishIfDone(device, jobId, spec, deps, waiting, out[0], replyTo);
          })
          .onMessage(Collected.class, c -> {
            waiting.remove(c.from());
            context.unwatch(c.from());
            for (Resv.Entry e : c.fences().entries()) {
              if (seen.add(e.fence().id().toString())) {
                deps.add(e.fence());
              }
            }
            return finishIfDone(device, jobId, spec, deps, waiting, out[0], replyTo);
          })
          .onMessage(NoAnswer.class, n -> waiting.contains(n.from())
              ? fail(device, jobId, spec, out[0], Errno.ETIMEDOUT, replyTo) : Behaviors.same())
          .onMessageEquals(Timeout.INSTANCE, () -> fail(device, jobId, spec, out[0], Errno.ETIMEDOUT, replyTo))
          .onSignal(Terminated.class, t -> waiting.contains(t.getRef())
              ? fail(device, jobId, spec, out[0], Errno.ENODEV, replyTo) : Behaviors.same())
          .build();
    }));
  }

  private static Behavior<Msg> finishIfDone(ActorRef<DeviceActor.Command> device, long jobId, JobSpec spec, List<FenceRef> deps,
      Set<ActorRef<Resv.Command>> waiting, FenceRef out, ActorRef<DriverProtocol.SubmitReply> replyTo) {
    if (!waiting.isEmpty()) {
      return Behaviors.same();
    }
    device.tell(new DeviceActor.Deps(spec.engine(), new Engine.Deps(jobId, deps, 0)));
    replyTo.tell(new DriverProtocol.SubmitReply(0, out));
    return Behaviors.stopped();
  }

  private static Behavior<Msg> fail(ActorRef<DeviceActor.Command> device, long jobId, JobSpec spec, FenceRef out, Errno error,
      ActorRef<DriverProtocol.SubmitReply> replyTo) {
    if (out != null) {
      device.tell(new DeviceActor.Deps(spec.engine(), new Engine.Deps(jobId, List.of(), error.negative())));
    }
    replyTo.tell(new DriverProtocol.SubmitReply(error.negative(), null));
    return Behaviors.stopped();
  }
}
