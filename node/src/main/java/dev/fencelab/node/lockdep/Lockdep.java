package dev.fencelab.node.lockdep;

import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * This member's lockdep: every dependency a {@link KernelTask} of the member reports is recorded once, the first time,
 * as a {@code LOCK_DEP} trace event (kernel-semantics §1.18: "reported the first time the edge is seen"). After that a
 * dependency costs one set lookup. A run that ends forgets what it taught ({@link #forgetRun}), so each run on a
 * long-lived cluster is judged on its own sightings. {@code fencelab.lockdep.enabled = off} turns the annotations off
 * (the benchmarks' comparison).
 */
public final class Lockdep implements Extension, KernelTask.Sink {
  public static final class Id extends ExtensionId<Lockdep> {
    private static final Id INSTANCE = new Id();

    @Override
    public Lockdep createExtension(ActorSystem<?> system) {
      var config = system.settings().config();
      boolean on = !config.hasPath("fencelab.lockdep.enabled") || config.getBoolean("fencelab.lockdep.enabled");
      return new Lockdep(TraceRecorder.get(system), on);
    }
  }

  public static Lockdep get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** Status bits of a LOCK_DEP event. */
  public static final int IN_SECTION = 1;
  public static final int FROM_IN_SECTION = 2;

  private final TraceRecorder trace;
  private final boolean enabled;
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicLong sections = new java.util.concurrent.atomic.AtomicLong();

  Lockdep(TraceRecorder trace, boolean enabled) {
    this.trace = trace;
    this.enabled = enabled;
  }

  public boolean enabled() {
    return enabled;
  }

  /** A code path of this member, named as its trace track ({@code gpuA.ring0 run_job}). */
  public KernelTask task(String name) {
    return new KernelTask(name, this);
  }

  @Override
  public boolean wants(String from, String to) {
    return enabled && !seen.contains(from + '\u0000' + to);
  }

  @Override
  public void dependency(KernelTask.Dependency d) {
    if (!enabled || !seen.add(d.from() + '\u0000' + d.to())) {
      return;
    }
    trace.record(TraceRecorder.event(EventKind.LOCK_DEP, d.task()).setSubject(d.from()).setName(d.to()).setDetail(d.what())
        .addAllDeps(d.held()).setStatus((d.inSection() ? IN_SECTION : 0) | (d.fromInSection() ? FROM_IN_SECTION : 0)));
  }

  @Override
  public long section(String task, long id, boolean begin, String what) {
    if (!enabled) {
      return 0;
    }
    long n = begin ? sections.incrementAndGet() : id;
    trace.record(TraceRecorder.event(begin ? EventKind.SECTION_BEGIN : EventKind.SECTION_END, task).setId(n).setName(what));
    return n;
  }

  /** The run is over: the next one sees every dependency afresh. */
  public void forgetRun() {
    seen.clear();
  }
}
