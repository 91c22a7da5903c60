package dev.fencelab.node.driver;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * A driver's state as its parts share it — its buffer objects by handle, whether it is unplugged, its settings — and
 * what they may do with the driver actor: watch, ask with a continuation that runs on its thread
 * ({@link DriverActor.Continue}). Touched on the driver actor's thread only.
 */
final class DriverContext {
  private static final long SYSTEM_BASE = 0x0000_0001_0000_0000L;
  private static final long RUN = 2L << 20;

  final String label;
  final FenceServices services;
  final ActorRef<ContextOwner.Command> containers;
  final DriverSettings settings;
  final Map<Integer, Bo> bos = new HashMap<>();
  boolean unplugged;
  /** VRAM bytes allocated (page-aligned). */
  long vramUsed;
  /** This device's PCI function in the run's fabric, the fabric's routes and its actor; null (fabric) until placed in one. */
  String endpoint = "";
  dev.fencelab.node.p2p.PcieRoutes routes;
  ActorRef<dev.fencelab.node.p2p.FabricProtocol.Command> fabric;
  private int nextHandle = 1;
  private int nextAttachment = 1;
  private final ActorContext<DriverProtocol.Command> actor;

  DriverContext(ActorContext<DriverProtocol.Command> actor, String label, FenceServices services, ActorRef<ContextOwner.Command> containers,
      DriverSettings settings) {
    this.actor = actor;
    this.label = label;
    this.services = services;
    this.containers = containers;
    this.settings = settings;
  }

  int nextHandle() {
    return nextHandle++;
  }

  int nextAttachment() {
    return nextAttachment++;
  }

  /** The process's buffer, or null: GEM handles are per process (-ENOENT for anyone else's). */
  Bo lookup(String process, int handle) {
    Bo bo = bos.get(handle);
    return bo != null && bo.owner.equals(process) ? bo : null;
  }

  long systemAddress(int handle) {
    return SYSTEM_BASE + ((long) (label.hashCode() & 0xFFFF) << 36) + ((long) handle << 30);
  }

  /** The DMA segments of a buffer: contiguous VRAM is one segment; system memory lands 2 MiB run by run elsewhere. */
  List<DriverProtocol.Segment> segments(Bo bo) {
    if (bo.placement == DriverProtocol.Placement.VRAM) {
      return List.of(new DriverProtocol.Segment(bo.address, bo.size)); // one segment, u64 length
    }
    List<DriverProtocol.Segment> out = new ArrayList<>();
    for (long off = 0; off < bo.size; off += RUN) {
      out.add(new DriverProtocol.Segment(bo.address + (off / RUN) * 3 * RUN, Math.min(RUN, bo.size - off)));
    }
    return out;
  }

  /** An ask whose answer (or failure: null and the cause) continues with {@code then} on the driver's thread. */
  <Q, R> void ask(Class<R> type, RecipientRef<Q> target, Duration timeout, Function<ActorRef<R>, Q> request, BiConsumer<R, Throwable> then) {
    actor.ask(type, target, timeout, request::apply, (r, failure) -> new DriverActor.Continue(() -> then.accept(r, failure)));
  }

  /** {@code then} on the driver's thread after {@code delay}. */
  void after(Duration delay, Runnable then) {
    actor.scheduleOnce(delay, actor.getSelf(), new DriverActor.Continue(then));
  }

  void stop(ActorRef<?> child) {
    actor.stop(child);
  }

  void watch(ActorRef<?> ref) {
    actor.watch(ref);
  }

  org.apache.pekko.actor.typed.ActorSystem<Void> system() {
    return actor.getSystem();
  }

  ActorRef<DriverProtocol.Command> self() {
    return actor.getSelf();
  }

  void log(String format, Object... args) {
    actor.getLog().info(format, args);
  }
}
