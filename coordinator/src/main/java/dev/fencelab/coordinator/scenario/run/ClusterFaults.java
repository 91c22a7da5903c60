package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.Ack;
import dev.fencelab.protocol.control.Blackhole;
import dev.fencelab.protocol.control.PauseMember;
import dev.fencelab.protocol.control.SetLinkDelay;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.LinkDelay;
import dev.fencelab.protocol.scenario.v1.Partition;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The faults of the cluster's members and links, from a step or the chaos schedule, each lasting its {@code for}:
 *
 * <ul>
 *   <li>{@code pause_node}: the node's member stops itself (SIGSTOP, then SIGCONT); the runner waits for nothing.
 *   <li>{@code partition}: each node member drops the messages of the members on the other sides at its transport. The
 *       control plane (coordinator, runners: every member without the node role) is on the largest side, the first on
 *       a tie, with the nodes no side names. Steps for a node cut off from the control plane are held until the
 *       partition heals or the cluster removes the node (then they fail with -ENODEV), instead of being lost.
 *   <li>{@code link_delay}: both ends of the link add the latency to the model time of the fences signalled across it.
 * </ul>
 *
 * <p>Every fault is a FAULT event and a progress line; its end (resume, heal, no delay) a MARK. A run ends only after
 * every fault it started has ended. Runs on the runner's thread: never blocks.
 */
final class ClusterFaults {
  private final RunDirectory names;
  private final RunLog log;
  private final Faults faults;
  private final ActorRef<Ack> acks;
  /** The addresses of the members without the node role, now. */
  private final java.util.function.Supplier<List<String>> controlPlane;
  /** Arms the end of fault {@code id} after the duration (a timer of the runner's). */
  private final BiConsumer<Integer, Duration> arm;
  private final Map<Integer, Runnable> ends = new HashMap<>();
  private final Set<String> cutOff = new HashSet<>();
  private final Map<String, List<CompletableFuture<Void>>> held = new HashMap<>();
  private int nextId;

  /** A node member's address (its agent's), as the other members name it. */
  private final java.util.function.Function<String, String> addresses;

  ClusterFaults(RunDirectory names, RunLog log, Faults faults, ActorRef<Ack> acks, BiConsumer<Integer, Duration> arm,
      java.util.function.Supplier<List<String>> controlPlane) {
    this(names, log, faults, acks, arm, controlPlane, node -> names.agent(node).path().address().toString());
  }

  ClusterFaults(RunDirectory names, RunLog log, Faults faults, ActorRef<Ack> acks, BiConsumer<Integer, Duration> arm,
      java.util.function.Supplier<List<String>> controlPlane, java.util.function.Function<String, String> addresses) {
    this.names = names;
    this.log = log;
    this.faults = faults;
    this.acks = acks;
    this.arm = arm;
    this.controlPlane = controlPlane;
    this.addresses = addresses;
  }

  /** True for the faults this class injects (the others are {@link Faults}'). */
  static boolean isClusterFault(dev.fencelab.protocol.scenario.v1.Fault f) {
    return f.hasPauseNode() || f.hasPartition() || f.getKillCoordinator() || f.hasLinkDelay();
  }

  /** Injects a cluster fault step ({@code pause_node}, {@code partition}, {@code kill_coordinator}, {@code link_delay}). */
  String inject(dev.fencelab.protocol.scenario.v1.Step step, String source) {
    return switch (step.getActionCase()) {
      case PAUSE_NODE -> pause(step.getPauseNode().getNode(), step.getPauseNode().getFor(), source);
      case PARTITION -> partition(step.getPartition(), controlPlane.get(), source);
      case KILL_COORDINATOR -> faults.killCoordinator(source);
      case LINK_DELAY -> linkDelay(step.getLinkDelay(), source);
      default -> throw new IllegalArgumentException("not a cluster fault: " + step.getActionCase());
    };
  }

  /** Injects a cluster fault of the chaos schedule. */
  void inject(dev.fencelab.protocol.scenario.v1.Fault f, String source) {
    if (f.hasPauseNode()) {
      pause(f.getPauseNode().getNode(), f.getPauseNode().getFor(), source);
    } else if (f.hasPartition()) {
      partition(f.getPartition(), controlPlane.get(), source);
    } else if (f.getKillCoordinator()) {
      faults.killCoordinator(source);
    } else if (f.hasLinkDelay()) {
      linkDelay(f.getLinkDelay(), source);
    }
  }

  /**
   * A member left the cluster. A scenario node the run did not kill (downed while paused, partitioned away) is down
   * from now on, its held steps go on; true if it was one. The coordinator's leaving is noted.
   */
  boolean memberRemoved(org.apache.pekko.cluster.Member member) {
    for (String node : names.nodes()) {
      var agent = names.agent(node);
      if (agent != null && agent.path().address().equals(member.address())) {
        faults.removed(node, "removed by the cluster (" + member.status() + "): unreachable, downed by the Split Brain Resolver");
        nodeGone(node);
        return true;
      }
    }
    if (member.getRoles().contains("coordinator")) {
      mark("coordinator_removed", member.address().toString(), "the coordinator member left the cluster; the run goes on");
    }
    return false;
  }

  /** Stops {@code node}'s member for {@code forValue}; returns what was done. */
  String pause(String node, String forValue, String source) {
    if (names.dead(node)) {
      return "node " + node + " was already down";
    }
    long nanos = Units.nanos(forValue);
    names.agent(node).tell(new PauseMember(nanos, source + ": pause_node " + node));
    fault("pause_node", node, source + ", for " + Units.human(nanos));
    lasting(nanos, () -> mark("resumed", node, "SIGCONT after " + Units.human(nanos)
        + (names.dead(node) ? " (the cluster had removed it meanwhile)" : "")));
    return "paused node " + node + " for " + Units.human(nanos);
  }

  /**
   * Cuts the cluster into the partition's sides; {@code controlPlane} are the addresses of the members without the node
   * role. Returns what was done.
   */
  String partition(Partition p, List<String> controlPlane, String source) {
    List<Set<String>> sides = new ArrayList<>();
    p.getBetweenList().forEach(g -> sides.add(new LinkedHashSet<>(g.getNodesList())));
    int control = 0;
    for (int i = 1; i < sides.size(); i++) {
      if (sides.get(i).size() > sides.get(control).size()) {
        control = i;
      }
    }
    Set<String> named = new HashSet<>();
    sides.forEach(named::addAll);
    for (String n : names.nodes()) {
      if (!named.contains(n)) {
        sides.get(control).add(n); // a node no side names stays with the control plane
      }
    }
    Map<String, List<String>> dropped = new HashMap<>();
    for (int i = 0; i < sides.size(); i++) {
      for (String n : sides.get(i)) {
        List<String> others = new ArrayList<>();
        for (int j = 0; j < sides.size(); j++) {
          if (j != i) {
            sides.get(j).stream().filter(o -> names.agent(o) != null).forEach(o -> others.add(address(o)));
          }
        }
        if (i != control) {
          others.addAll(controlPlane);
          cutOff.add(n);
        }
        dropped.put(n, others);
      }
    }
    String reason = source + ": partition";
    dropped.forEach((n, others) -> {
      if (!names.dead(n)) {
        names.agent(n).tell(new Blackhole(others, true, reason, acks));
      }
    });
    List<String> described = sides.stream().map(s -> s.toString()).toList();
    int controlSide = control;
    long nanos = Units.nanos(p.getFor());
    fault("partition", String.join(" | ", described), source + ", for " + Units.human(nanos) + "; the runner is with "
        + described.get(controlSide));
    lasting(nanos, () -> {
      dropped.forEach((n, others) -> {
        if (!names.dead(n)) {
          names.agent(n).tell(new Blackhole(others, false, source + ": partition healed", acks));
        }
      });
      cutOff.removeAll(dropped.keySet());
      mark("healed", String.join(" | ", described), "after " + Units.human(nanos));
      release(null);
    });
    return "partitioned " + String.join(" | ", described) + " for " + Units.human(nanos);
  }

  /** Delays the link between two nodes in model time; returns what was done. */
  String linkDelay(LinkDelay d, String source) {
    String a = d.getBetween(0);
    String b = d.getBetween(1);
    long latency = Units.nanos(d.getLatency());
    set(a, b, latency);
    fault("link_delay", a + " <-> " + b, source + ", " + Units.human(latency)
        + (d.getFor().isEmpty() ? " until the run ends" : " for " + Units.human(Units.nanos(d.getFor()))));
    if (!d.getFor().isEmpty()) {
      lasting(Units.nanos(d.getFor()), () -> {
        set(a, b, 0);
        mark("link_restored", a + " <-> " + b, "no delay again");
      });
    }
    return "link " + a + " <-> " + b + " delayed by " + Units.human(latency);
  }

  private void set(String a, String b, long latency) {
    if (!names.dead(a) && !names.dead(b)) {
      names.agent(a).tell(new SetLinkDelay(address(b), latency, acks));
      names.agent(b).tell(new SetLinkDelay(address(a), latency, acks));
    }
  }

  /** The end of fault {@code id} is due. */
  void end(int id) {
    Runnable end = ends.remove(id);
    if (end != null) {
      end.run();
    }
  }

  /** True while a fault this run started has not ended (the run's end waits for it). */
  boolean active() {
    return !ends.isEmpty();
  }

  /** Completes at once for a node the runner can reach, else when the partition heals or the node is gone. */
  CompletionStage<Void> whenReachable(String node) {
    if (node == null || !cutOff.contains(node) || names.dead(node)) {
      return CompletableFuture.completedFuture(null);
    }
    log.say("holding a step for " + node + " until the partition heals (the runner cannot reach it)");
    CompletableFuture<Void> f = new CompletableFuture<>();
    held.computeIfAbsent(node, k -> new ArrayList<>()).add(f);
    return f;
  }

  /** {@code node} left the cluster: its held steps go on (and fail with -ENODEV). */
  void nodeGone(String node) {
    cutOff.remove(node);
    release(node);
  }

  private void release(String node) {
    List<CompletableFuture<Void>> go = new ArrayList<>();
    held.entrySet().removeIf(e -> {
      if (node == null ? !cutOff.contains(e.getKey()) : e.getKey().equals(node)) {
        go.addAll(e.getValue());
        return true;
      }
      return false;
    });
    go.forEach(f -> f.complete(null));
  }

  private void lasting(long nanos, Runnable end) {
    int id = nextId++;
    ends.put(id, end);
    arm.accept(id, Duration.ofNanos(nanos));
  }

  private String address(String node) {
    return addresses.apply(node);
  }

  private void fault(String name, String subject, String detail) {
    log.add(RunLog.event(EventKind.FAULT, "chaos").setName(name).setSubject(subject).setDetail(detail));
    log.say("FAULT " + name + " " + subject + " (" + detail + ")");
  }

  private void mark(String name, String subject, String detail) {
    log.add(RunLog.event(EventKind.MARK, "chaos").setName(name).setSubject(subject).setDetail(detail));
    log.say(name.toUpperCase(java.util.Locale.ROOT) + " " + subject + " (" + detail + ")");
  }
}
