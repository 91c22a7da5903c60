package dev.fencelab.node.p2p;

import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One host's PCIe fabric for a run: the one place where transfers of devices on any member share links, DRAM and root
 * complexes in model time ({@link FluidShare} over {@link PcieRoutes}). A driver tells it when a transfer begins and
 * asks when it ends once its data has moved; what each resource carried is traced (one {@code MARK} per transfer, for
 * the report's drawing of the topology's load). Never blocks; a transfer it cannot route ends with {@code modelEnd} -1.
 *
 * <p>Transfers that start together in model time are shared fairly only if all of them have begun when the first one
 * asks for its end. Devices on other members begin a few milliseconds apart in wall time, so an answer waits until no
 * transfer has begun for {@code settle} (a Pekko timer; {@code fencelab.pcie.settle}, 100 ms by default).
 */
public final class PcieFabric extends AbstractBehavior<FabricProtocol.Command> {
  private record Open(long key, FabricProtocol.Begin begin, PcieRoutes.Route route) {}

  private final PcieRoutes routes;
  private final FluidShare share;
  private final String label;
  private final Map<String, Open> open = new LinkedHashMap<>();
  private final Map<String, String> failed = new HashMap<>();
  private final java.util.List<FabricProtocol.End> waiting = new java.util.ArrayList<>();
  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<FabricProtocol.Command> timers;
  private final java.time.Duration settle;
  private long lastBegin;
  private long nextKey = 1;

  private enum Settled implements FabricProtocol.Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {
    INSTANCE
  }

  public static Behavior<FabricProtocol.Command> create(PcieRoutes routes, String label, java.time.Duration settle) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new PcieFabric(context, timers, routes, label, settle)));
  }

  private PcieFabric(ActorContext<FabricProtocol.Command> context, org.apache.pekko.actor.typed.javadsl.TimerScheduler<FabricProtocol.Command> timers,
      PcieRoutes routes, String label, java.time.Duration settle) {
    super(context);
    this.timers = timers;
    this.routes = routes;
    this.label = label;
    this.settle = settle;
    this.share = new FluidShare(routes::capacity);
  }

  @Override
  public Receive<FabricProtocol.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(FabricProtocol.Begin.class, this::onBegin)
        .onMessage(FabricProtocol.End.class, this::onEnd)
        .onMessageEquals(Settled.INSTANCE, this::onSettled)
        .onMessage(FabricProtocol.Cancel.class, this::onCancel)
        .build();
  }

  private Behavior<FabricProtocol.Command> onBegin(FabricProtocol.Begin b) {
    lastBegin = System.nanoTime();
    try {
      PcieRoutes.Route route = routes.route(location(b.src(), b.srcBounce()), b.engine(), location(b.dst(), b.dstBounce()));
      long key = nextKey++;
      share.add(key, b.modelStart(), b.bytes(), route.crossings());
      open.put(b.id(), new Open(key, b, route));
    } catch (IllegalArgumentException e) {
      failed.put(b.id(), e.getMessage());
    }
    return this;
  }

  private static PcieRoutes.Location location(String device, boolean bounce) {
    return device.isEmpty() ? PcieRoutes.Location.HOST : new PcieRoutes.Location(device, bounce);
  }

  private Behavior<FabricProtocol.Command> onEnd(FabricProtocol.End end) {
    waiting.add(end);
    return onSettled();
  }

  /** Answers the waiting ends, in their order, once no transfer has begun for {@code settle}; otherwise waits on. */
  private Behavior<FabricProtocol.Command> onSettled() {
    long quiet = System.nanoTime() - lastBegin;
    if (quiet < settle.toNanos()) {
      timers.startSingleTimer(Settled.INSTANCE, java.time.Duration.ofNanos(settle.toNanos() - quiet));
      return this;
    }
    waiting.forEach(this::answer);
    waiting.clear();
    return this;
  }

  private void answer(FabricProtocol.End end) {
    Open o = open.remove(end.id());
    if (o == null) {
      String why = failed.remove(end.id());
      end.replyTo().tell(new FabricProtocol.Done(end.id(), -1, "", 0, why == null ? "unknown transfer" : why));
      return;
    }
    long finished = share.finish(o.key) + o.route.latencyNanos();
    long alone = routes.aloneNanos(o.route, o.begin.bytes());
    end.replyTo().tell(new FabricProtocol.Done(end.id(), finished, o.route.kind(), alone, o.route.path()));
    TraceRecorder.get(getContext().getSystem()).record(TraceRecorder.event(EventKind.MARK, label).setName("pcie transfer")
        .setSubject(end.id()).setBytes(o.begin.bytes()).setModelNanos(o.begin.modelStart()).setResult(finished - o.begin.modelStart())
        .setDetail(o.route.kind() + " " + o.route.crossings().keySet().stream().sorted().reduce((x, y) -> x + "," + y).orElse("")
            + " | " + o.route.path()));
  }

  private Behavior<FabricProtocol.Command> onCancel(FabricProtocol.Cancel c) {
    Open o = open.remove(c.id());
    if (o != null) {
      share.cancel(o.key);
    }
    failed.remove(c.id());
    return this;
  }
}
