package dev.fencelab.node.cluster;

import dev.fencelab.node.fence.LinkDelays;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.control.Ack;
import dev.fencelab.protocol.control.Blackhole;
import dev.fencelab.protocol.control.PauseMember;
import dev.fencelab.protocol.control.SetLinkDelay;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The faults a member inflicts on itself at the runner's command, the transport and host faults of the emulated
 * world (DESIGN "Chaos is explicit"):
 *
 * <ul>
 *   <li>{@code pause_node}: SIGSTOP of this JVM, and SIGCONT after the pause, both sent by a small shell the member
 *       starts first (a stopped JVM cannot wake itself). If the cluster downs the member meanwhile, Pekko removes it
 *       when it runs again and it leaves, as any downed member does.
 *   <li>{@code partition}: Artery's test-mode blackhole ({@code pekko.remote.artery.advanced.test-mode = on}, the
 *       mechanism of Pekko's own multi-node tests): every message to and from the named members is dropped at this
 *       member's transport, cluster heartbeats included, so the failure detector and the Split Brain Resolver see a
 *       real partition. Messages sent across it are lost, as on a cut link.
 *   <li>{@code link_delay}: the model-time latency of this member's link to a peer ({@link LinkDelays}).
 * </ul>
 */
final class MemberFaults {
  private static final Logger LOG = LoggerFactory.getLogger(MemberFaults.class);
  /** Scala's {@code Direction.Both} (its class name, {@code Direction$Both$}, is not one javac can name). */
  private static final ThrottlerTransportAdapter.Direction BOTH = scalaObject(
      "org.apache.pekko.remote.transport.ThrottlerTransportAdapter$Direction$Both$");

  private static ThrottlerTransportAdapter.Direction scalaObject(String className) {
    try {
      return (ThrottlerTransportAdapter.Direction) Class.forName(className).getField("MODULE$").get(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ActorSystem<?> system;
  private final String nodeName;
  private final TraceRecorder trace;

  MemberFaults(ActorSystem<?> system, String nodeName) {
    this.system = system;
    this.nodeName = nodeName;
    this.trace = TraceRecorder.get(system);
  }

  /** Stops this JVM for the pause, from a helper shell (started off the actor's thread: a fork may take a while). */
  void pause(PauseMember p) {
    long pid = ProcessHandle.current().pid();
    String seconds = String.format(java.util.Locale.ROOT, "%.3f", p.nanos() / 1e9);
    trace.record(TraceRecorder.event(EventKind.MARK, "member").setName("paused").setDetail(p.reason() + ": SIGSTOP for " + seconds + " s"));
    LOG.warn("{}: this member stops (SIGSTOP) for {} s", p.reason(), seconds);
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    CompletableFuture.runAsync(() -> {
      try {
        new ProcessBuilder("/bin/sh", "-c", "kill -STOP " + pid + "; sleep " + seconds + "; kill -CONT " + pid)
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      } catch (IOException e) {
        LOG.error("pause_node: could not start the shell that stops this member", e);
      }
    }, blocking);
  }

  /** Drops (or lets through again) every message to and from the members at the blackhole's addresses. */
  Ack blackhole(Blackhole b) {
    var transport = ((RARP) RARP.get(Adapter.toClassic(system))).provider().transport();
    for (String a : b.addresses()) {
      Address address = AddressFromURIString.parse(a);
      transport.managementCommand(new ThrottlerTransportAdapter.SetThrottle(address,
          BOTH,
          b.on() ? ThrottlerTransportAdapter.Blackhole$.MODULE$ : ThrottlerTransportAdapter.Unthrottled$.MODULE$));
    }
    String what = (b.on() ? "cut off from " : "reconnected to ") + String.join(", ", b.addresses());
    trace.record(TraceRecorder.event(EventKind.MARK, "member").setName(b.on() ? "partitioned" : "healed").setDetail(b.reason() + ": " + what));
    LOG.warn("{}: {}", b.reason(), what);
    return new Ack(nodeName, what);
  }

  /** Sets the model-time latency of the link to a peer member. */
  Ack linkDelay(SetLinkDelay d) {
    LinkDelays.get(system).set(d.peer(), d.latencyNanos());
    String what = "link to " + d.peer() + (d.latencyNanos() == 0 ? ": no delay" : ": " + d.latencyNanos() + " ns in model time");
    trace.record(TraceRecorder.event(EventKind.MARK, "member").setName("link_delay").setDetail(what));
    return new Ack(nodeName, what);
  }
}
