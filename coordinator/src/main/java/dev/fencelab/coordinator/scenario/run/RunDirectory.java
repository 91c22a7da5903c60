package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.fence.v1.FenceV1;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.step.FenceText;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.trace.v1.NamedFence;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A run's names as the step protocol carries them: where each scenario object lives (from the scenario), what the
 * nodes bound for it (a process's actor and label, a device's driver, handles, sizes, the fds a process holds), the
 * fences by name, and which nodes the run killed. Everything here is a protocol value — actor references are
 * resolver strings, fences their wire form — and it is read and written on the runner's thread only.
 */
final class RunDirectory {
  private final Scenario scenario;
  private final Map<String, ActorRef<NodeControl>> agents;
  private final Map<String, Device> devices = new HashMap<>();
  private final Map<String, Buffer> buffers = new HashMap<>();
  private final Map<String, String> processNodes = new HashMap<>();
  private final Map<String, Binding> bindings = new HashMap<>();
  /** Fence names → fences, in binding order: a value is rendered by the first name of its fence. */
  private final Map<String, FenceV1.FenceRef> fences = new LinkedHashMap<>();
  private final Map<String, NamedFence> named = new LinkedHashMap<>();
  /** Names bound on a node (callbacks, fence contexts) → that node: the steps that use them run there. */
  private final Map<String, String> localNodes = new HashMap<>();
  private final Set<String> dead = new HashSet<>();

  RunDirectory(Scenario scenario, Map<String, ActorRef<NodeControl>> agents) {
    this.scenario = scenario;
    this.agents = Map.copyOf(agents);
    scenario.getDevicesList().forEach(d -> devices.put(d.getName(), d));
    scenario.getBuffersList().forEach(b -> buffers.put(b.getName(), b));
    dev.fencelab.protocol.scenario.ScenarioSteps.userptrBuffers(scenario).forEach(b -> buffers.put(b.getName(), b));
    scenario.getProcessesList().forEach(p -> processNodes.put(p.getName(), p.getNode()));
  }

  // --- the scenario's objects

  Scenario scenario() {
    return scenario;
  }

  /** The memory limit of {@code node} in bytes (its scenario {@code memory}), or 0 for none. */
  long nodeMemory(String node) {
    return scenario.getNodesList().stream().filter(n -> n.getName().equals(node)).findFirst()
        .map(n -> n.getMemory().isEmpty() ? 0L : Math.max(0L, dev.fencelab.protocol.scenario.Units.bytes(n.getMemory()))).orElse(0L);
  }

  List<String> nodes() {
    return scenario.getNodesList().stream().map(n -> n.getName()).toList();
  }

  ActorRef<NodeControl> agent(String node) {
    return agents.get(node);
  }

  Map<String, ActorRef<NodeControl>> agents() {
    return agents;
  }

  Buffer buffer(String name) {
    return buffers.get(name);
  }

  String nodeOfProcess(String process) {
    return processNodes.get(process);
  }

  String nodeOfDevice(String device) {
    Device d = devices.get(device);
    return d == null ? null : d.getNode();
  }

  /** The node of the device that exports {@code buffer}. */
  String nodeOfBuffer(String buffer) {
    Buffer b = buffers.get(buffer);
    return b == null ? null : nodeOfDevice(b.getDevice());
  }

  // --- what the nodes bound

  Binding binding(String key) {
    return bindings.get(key);
  }

  void bind(String key, Binding binding) {
    bindings.put(key, binding);
  }

  Integer fd(String process, String name) {
    Binding b = bindings.get(fdKey(process, name));
    return b == null ? null : b.getFd();
  }

  void bindFd(String process, String name, int fd) {
    bindings.put(fdKey(process, name), Binding.newBuilder().setFd(fd).build());
  }

  private static String fdKey(String process, String name) {
    return "fd:" + process + "/" + name;
  }

  FenceV1.FenceRef fence(String name) {
    return fences.get(name);
  }

  void bindFence(String name, FenceV1.FenceRef fence) {
    fences.put(name, fence);
    if (fence.getKind() != FenceV1.FenceKind.STUB) { // a stub lives nowhere
      named.put(name, NamedFence.newBuilder().setName(name).setFence(FenceText.id(fence)).setNode(FenceText.address(fence)).build());
    }
  }

  /** The name a fence was first bound to, or null. */
  String nameOf(FenceV1.FenceRef fence) {
    for (Map.Entry<String, FenceV1.FenceRef> e : fences.entrySet()) {
      if (e.getValue().getId().equals(fence.getId())) {
        return e.getKey();
      }
    }
    return null;
  }

  /** The named fences of the run (not stubs), for the record. */
  List<NamedFence> namedFences() {
    return new ArrayList<>(named.values());
  }

  String nodeOfLocal(String name) {
    return localNodes.get(name);
  }

  void bindLocal(String name, String node) {
    localNodes.put(name, node);
  }

  /** The node whose member hosts {@code fence}'s actor, or null (a stub; a member not in the run). */
  String nodeOfFence(FenceV1.FenceRef fence) {
    String address = FenceText.address(fence);
    for (Map.Entry<String, ActorRef<NodeControl>> e : agents.entrySet()) {
      if (e.getValue().path().address().toString().equals(address)) {
        return e.getKey();
      }
    }
    return null;
  }

  /**
   * Tells every live node that run {@code run} is over, so that a long-lived cluster keeps nothing of it (its devices,
   * processes and what its steps spawned); {@code tag} is what the run's names on the nodes carry ("" for none).
   */
  java.util.concurrent.CompletableFuture<Void> release(String run, String tag, org.apache.pekko.actor.typed.Scheduler scheduler) {
    List<java.util.concurrent.CompletableFuture<dev.fencelab.protocol.control.Ack>> acks = new ArrayList<>();
    for (String node : nodes()) {
      ActorRef<NodeControl> agent = agents.get(node);
      if (agent != null && !dead(node)) { // each answers once what it stopped has stopped (bounded there, and here)
        acks.add(org.apache.pekko.actor.typed.javadsl.AskPattern.<NodeControl, dev.fencelab.protocol.control.Ack>ask(agent,
            r -> new dev.fencelab.protocol.control.ReleaseRun(run, tag, r), java.time.Duration.ofSeconds(10), scheduler)
            .toCompletableFuture().exceptionally(failure -> null));
      }
    }
    return java.util.concurrent.CompletableFuture.allOf(acks.toArray(java.util.concurrent.CompletableFuture[]::new));
  }

  // --- nodes the run killed

  boolean dead(String node) {
    return node != null && dead.contains(node);
  }

  /** Marks {@code node} dead; false if it already was. The calls in flight on it end (see {@link #whenGone}). */
  boolean kill(String node) {
    gone.computeIfAbsent(node, n -> new java.util.concurrent.CompletableFuture<>()).complete(null);
    return dead.add(node);
  }

  private final java.util.Map<String, java.util.concurrent.CompletableFuture<Void>> gone = new java.util.HashMap<>();

  /** Completes when this run learns that {@code node} is down (killed by it, or removed by the cluster). */
  java.util.concurrent.CompletableFuture<Void> whenGone(String node) {
    return gone.computeIfAbsent(node, n -> new java.util.concurrent.CompletableFuture<>());
  }

  /** The deadlocks reported and not broken (their paths, {@code a -> b -> … -> a}). */
  private final Set<String> deadlocks = new HashSet<>();

  void deadlock(String path, boolean standing) {
    if (standing) {
      deadlocks.add(path);
    } else {
      deadlocks.remove(path);
    }
  }

  /** True if {@code from -> to} is an edge of a standing deadlock: the wait is the deadlock, reported already. */
  boolean inDeadlock(String from, String to) {
    String edge = from + " -> " + to + " -> ";
    String last = " -> " + from + " -> " + to;
    return deadlocks.stream().anyMatch(p -> p.startsWith(edge) || p.contains(" -> " + edge) || p.endsWith(last));
  }

  Set<String> deadNodes() {
    return Set.copyOf(dead);
  }
}
