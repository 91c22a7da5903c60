package dev.fencelab.node.device;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The hardware of one device: its engines, and the reset that follows a job timeout (kernel-semantics §1.19).
 *
 * <p>Owns: the engines (children), the set of guilty processes, whether the device is wedged or gone. Talks to: its
 * engines; the driver (its parent) sends it every command. Local to the member: the driver is the device's only
 * interface to the cluster. Refuses jobs with {@code -ENODEV} after unplug, {@code -EIO} once wedged (a failed
 * reset), {@code -ECANCELED} from a process whose job caused a reset (amdgpu: a guilty context's later submissions).
 */
public final class DeviceActor extends AbstractBehavior<DeviceActor.Command> {
  public interface Command extends NoSerializationVerificationNeeded {}

  public record Queue(Engine.Queue job) implements Command {}

  public record Deps(int engine, Engine.Deps deps) implements Command {}

  /**
   * From an engine: its running job exceeded the device's job timeout. {@code generation}: the last reset the engine
   * had seen; a report older than the latest reset is stale (that reset already dealt with the job) and ignored.
   */
  public record EngineTimedOut(int engine, String job, String process, int generation) implements Command {}

  /** Chaos: hang the engine's next (or running) job, or make the next reset fail. */
  public record InjectFault(FaultKind kind, int engine, ActorRef<Integer> replyTo) implements Command {}

  /** Faults a device accepts. */
  public enum FaultKind {
    HANG_ENGINE,
    FAIL_RESET
  }

  public record Unplug(ActorRef<Integer> replyTo) implements Command {}

  /** What happened to the device, for state queries and traces. */
  public record GetState(ActorRef<State> replyTo) implements Command {}

  public record State(String name, int engines, int resets, boolean wedged, boolean unplugged, List<String> guilty)
      implements NoSerializationVerificationNeeded {
    public State {
      guilty = List.copyOf(guilty);
    }
  }

  private record EngineUnplugged(int cancelled) implements Command {}

  private final DeviceSpec spec;
  private final List<ActorRef<ContextOwner.Command>> engines = new ArrayList<>();
  private final Set<String> guilty = new HashSet<>();
  private int resets;
  private boolean failNextReset;
  private boolean wedged;
  private boolean unplugged;
  private ActorRef<Integer> unplugReply;
  private int unplugWaiting;
  private int unplugCancelled;

  public static Behavior<Command> create(DeviceSpec spec, String label, ActorRef<Engine.Execute> driver, FenceServices services,
      Pacing pacing) {
    return Behaviors.setup(context -> new DeviceActor(context, spec, label, driver, services, pacing));
  }

  private DeviceActor(ActorContext<Command> context, DeviceSpec spec, String label, ActorRef<Engine.Execute> driver,
      FenceServices services, Pacing pacing) {
    super(context);
    this.spec = spec;
    for (int i = 0; i < spec.engines(); i++) {
      engines.add(context.spawn(Engine.create(i, label + "/engine" + i, spec, context.getSelf(), driver, services, pacing), "engine" + i));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Queue.class, this::onQueue)
        .onMessage(Deps.class, d -> {
          engines.get(d.engine()).tell(d.deps());
          return this;
        })
        .onMessage(EngineTimedOut.class, this::onTimedOut)
        .onMessage(InjectFault.class, this::onFault)
        .onMessage(Unplug.class, this::onUnplug)
        .onMessage(EngineUnplugged.class, this::onEngineUnplugged)
        .onMessage(GetState.class, g -> {
          g.replyTo().tell(new State(spec.name(), engines.size(), resets, wedged, unplugged, List.copyOf(guilty)));
          return this;
        })
        .build();
  }

  private Behavior<Command> onQueue(Queue queue) {
    Engine.Queue job = queue.job();
    int error = unplugged ? Errno.ENODEV.negative()
        : wedged ? Errno.EIO.negative()
        : guilty.contains(job.process()) ? Errno.ECANCELED.negative()
        : job.spec().engine() < 0 || job.spec().engine() >= engines.size() ? Errno.EINVAL.negative()
        : 0;
    if (error != 0) {
      job.replyTo().tell(new Engine.Queued(job.jobId(), null, error));
    } else {
      engines.get(job.spec().engine()).tell(job);
    }
    return this;
  }

  private Behavior<Command> onTimedOut(EngineTimedOut timedOut) {
    if (unplugged || wedged || timedOut.generation() < resets) {
      return this;
    }
    resets++;
    guilty.add(timedOut.process());
    boolean wedge = failNextReset;
    failNextReset = false;
    wedged = wedge;
    annotateReset(timedOut);
    getContext().getLog().warn("{}: job {} of {} timed out on engine {} after {}: {}", spec.name(), timedOut.job(),
        timedOut.process(), timedOut.engine(), spec.jobTimeout(), wedge ? "reset failed, device wedged" : "device reset");
    for (int i = 0; i < engines.size(); i++) {
      engines.get(i).tell(new Engine.Reset(timedOut.process(), i == timedOut.engine(), wedge, resets));
    }
    return this;
  }

  /** The reset handler is a signalling section (kernel-semantics §1.19, §3.8 D7): what lockdep sees of it. */
  private void annotateReset(EngineTimedOut timedOut) {
    var lockdep = dev.fencelab.node.lockdep.Lockdep.get(getContext().getSystem());
    if (!lockdep.enabled() || spec.signalling().resetGfp() == null) {
      return;
    }
    var task = lockdep.task(spec.name() + " reset");
    boolean cookie = task.beginSignalling(false, "reset after " + timedOut.job() + " timed out");
    task.mightAlloc(spec.signalling().resetGfp(), "reset after " + timedOut.job() + " timed out: kmalloc("
        + spec.signalling().resetGfp().kernelName() + ")");
    task.endSignalling(cookie);
  }

  private Behavior<Command> onFault(InjectFault fault) {
    if (fault.kind() == FaultKind.HANG_ENGINE) {
      if (fault.engine() < 0 || fault.engine() >= engines.size()) {
        fault.replyTo().tell(Errno.EINVAL.negative());
        return this;
      }
      engines.get(fault.engine()).tell(Engine.Hang.INSTANCE);
    } else {
      failNextReset = true;
    }
    fault.replyTo().tell(unplugged ? Errno.ENODEV.negative() : 0);
    return this;
  }

  private Behavior<Command> onUnplug(Unplug unplug) {
    if (unplugged) {
      unplug.replyTo().tell(0);
      return this;
    }
    unplugged = true;
    unplugReply = unplug.replyTo();
    unplugWaiting = engines.size();
    ActorRef<Integer> adapter = getContext().messageAdapter(Integer.class, EngineUnplugged::new);
    engines.forEach(e -> e.tell(new Engine.Unplug(adapter)));
    return this;
  }

  private Behavior<Command> onEngineUnplugged(EngineUnplugged done) {
    unplugCancelled += done.cancelled();
    if (--unplugWaiting == 0) {
      unplugReply.tell(unplugCancelled);
    }
    return this;
  }
}
