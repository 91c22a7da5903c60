package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the schema cannot check: names unique and known (nodes, devices, processes, buffers, steps, fences,
 * timelines), every device and process on a declared node, one action per step, step dependencies acyclic (a
 * cycle is reported with its path), a fence used only by a step that comes after the step producing it, units
 * that parse, chaos targets that exist, expectations that refer to known things.
 */
public final class ScenarioValidator {
  /** The violation kinds a member records (node's {@code check.Violation.Kind}); expectations may name them. */
  public static final Set<String> VIOLATION_KINDS = Set.of("DOUBLE_SIGNAL", "ERROR_AFTER_SIGNAL", "INVALID_ERROR",
      "RELEASED_WITH_PENDING_CALLBACKS", "OUT_OF_ORDER_SIGNAL", "NESTED_CONTAINER", "EMPTY_ARRAY", "CONTEXT_MISMATCH",
      "RESV_NO_SLOT", "RESV_NOT_LOCKED", "RESV_REPLACE_HAZARD", "WAIT_CAP_EXCEEDED", "DMA_REVOKED", "DMA_AFTER_FREE", "DMA_BUF_PIN_STATIC",
      "DMA_BUF_EXPORT_OPS", "DMA_BUF_NO_MOVE_NOTIFY", "NOTIFIER_REFUSED_BLOCKABLE", "STALE_TRANSLATION", "NOTIFIER_RETURNED_EARLY",
      "NOTIFIER_REMOVE_SELF_DEADLOCK", "USERPTR_PUBLISHED_WITHOUT_RETRY", "DEADLOCK", "DEADLOCK_BROKEN_BY_TIMEOUT",
      "SIGNALLING_ALLOC", "SIGNALLING_RESV", "SIGNALLING_MMAP_LOCK", "SIGNALLING_LOCK", "SIGNALLING_WAIT_HOLDING", "LOCK_ORDER");
  public static final Set<String> LATENCY_KINDS = Set.of("job.queue_to_start", "job.run", "job.queue_to_end", "copy",
      "copy.local", "copy.bus_addr", "copy.thru_host_bridge", "copy.host_memory", "copy.bounce", "signal_to_wake", "unplug_to_resolved", "invalidate", "rdma.write", "rdma.read", "rdma.send");
  public static final Set<String> STATUSES = Set.of("signaled", "error", "pending", "ENODEV", "ETIME", "ECANCELED", "EIO",
      "ENOENT", "EINVAL", "EDEADLK", "ENOMEM", "ETIMEDOUT", "EBUSY", "EFAULT", "EAGAIN");

  private final ScenarioLoader.Loaded loaded;
  final Scenario s;
  private final List<String> problems = new ArrayList<>();
  final Set<String> nodes = new HashSet<>();
  final Map<String, Device> devices = new HashMap<>();
  final Map<String, String> processNodes = new HashMap<>();
  final Map<String, Buffer> buffers = new HashMap<>();
  final Map<String, Integer> stepIndex = new LinkedHashMap<>();
  /** fence name → index of the step producing it. */
  final Map<String, Integer> fenceProducers = new HashMap<>();
  final Map<String, Integer> timelineProducers = new HashMap<>();
  final Map<String, Integer> resvProducers = new HashMap<>();
  final Map<String, Integer> regionProducers = new HashMap<>();
  final Map<String, Integer> notifierProducers = new HashMap<>();
  /** RDMA verbs objects (by kind: pd, mr, cq, qp) → the step making them. */
  final Map<ScenarioSteps.RefKind, Map<String, Integer>> rdmaProducers = new java.util.EnumMap<>(ScenarioSteps.RefKind.class);
  /** Buffers made by userptr steps → the step. */
  final Map<String, Integer> userptrProducers = new HashMap<>();
  final Map<String, Integer> callbackProducers = new HashMap<>();
  final Map<String, Integer> contextProducers = new HashMap<>();
  private final StepChecks checks = new StepChecks(this);
  private StepGraph graph;
  private final ActionChecks actions = new ActionChecks(this);
  private final HostChecks hosts = new HostChecks(this);

  private ScenarioValidator(ScenarioLoader.Loaded loaded) {
    this.loaded = loaded;
    this.s = loaded.scenario();
  }

  public static void validate(ScenarioLoader.Loaded loaded) throws ScenarioException {
    List<String> problems = problems(loaded);
    if (!problems.isEmpty()) {
      throw new ScenarioException(problems);
    }
  }

  /** Every reference, order, unit and expectation problem of {@code loaded}, in one pass. */
  public static List<String> problems(ScenarioLoader.Loaded loaded) {
    ScenarioValidator v = new ScenarioValidator(loaded);
    v.run();
    if (v.problems.isEmpty() && loaded.scenario().getMatrixCount() > 0) { // each variant is a scenario of its own
      List<String> matrix = ScenarioOverrides.matrixProblems(loaded.scenario());
      matrix.forEach(p -> v.problems.add(loaded.at("matrix") + ": " + p));
      if (matrix.isEmpty()) {
        try {
          ScenarioOverrides.variants(loaded, List.of());
        } catch (ScenarioException e) {
          v.problems.addAll(e.problems());
        }
      }
    }
    return List.copyOf(v.problems);
  }

  void problem(String path, String message) {
    problems.add(loaded.at(path) + ": " + message);
  }

  /** Limits: beyond them a scenario is a mistake, and the error comes at once instead of minutes of work. */
  static final int MAX_NODES = 64;
  static final int MAX_OBJECTS = 4096;
  static final int MAX_STEPS = 100_000;
  static final int MAX_NAME = 128;

  private void run() {
    if (s.getNodesCount() == 0) {
      problem("nodes", "a scenario needs at least one node ('nodes: [{name: n1}]')");
    }
    if (s.getNodesCount() > MAX_NODES) {
      problem("nodes", "at most " + MAX_NODES + " nodes, not " + s.getNodesCount());
      return; // each node is a JVM: nothing else is worth checking
    }
    if (s.getDevicesCount() > MAX_OBJECTS || s.getProcessesCount() > MAX_OBJECTS || s.getBuffersCount() > MAX_OBJECTS) {
      problem("devices", "at most " + MAX_OBJECTS + " devices, processes and buffers each");
      return;
    }
    if (s.getStepsCount() > MAX_STEPS) {
      problem("steps", "at most " + MAX_STEPS + " steps, not " + s.getStepsCount());
      return;
    }
    for (int i = 0; i < s.getNodesCount(); i++) {
      String n = s.getNodes(i).getName();
      if (n.isEmpty() || n.length() > MAX_NAME || !n.matches("[A-Za-z0-9_-]+")) {
        problem("nodes[" + i + "]", "node name '" + clip(n) + "' must be 1 to " + MAX_NAME + " letters, digits, '-' or '_'");
      } else if (!nodes.add(n)) {
        problem("nodes[" + i + "]", "node '" + n + "' is declared twice");
      }
      size("nodes[" + i + "].memory", s.getNodes(i).getMemory(), true);
    }
    settings();
    for (int i = 0; i < s.getDevicesCount(); i++) {
      device(i, s.getDevices(i));
    }
    for (int i = 0; i < s.getProcessesCount(); i++) {
      var p = s.getProcesses(i);
      String path = "processes[" + i + "]";
      uniqueName(path, p.getName(), processNodes.containsKey(p.getName()) || devices.containsKey(p.getName()));
      knownNode(path + ".node", p.getNode(), "process '" + p.getName() + "'");
      processNodes.put(p.getName(), p.getNode());
      if (!p.getMemlock().isEmpty() && !p.getMemlock().equals("unlimited") && Units.bytes(p.getMemlock()) < 0) {
        problem(path + ".memlock", "memlock is a size (e.g. 64KiB, 8MiB), 0 or unlimited, not '" + p.getMemlock() + "'");
      }
    }
    hosts.check();
    for (int i = 0; i < s.getBuffersCount(); i++) {
      buffer(i, s.getBuffers(i));
    }
    for (int i = 0; i < s.getStepsCount(); i++) {
      String id = ScenarioSteps.id(s, i);
      if (id.length() > MAX_NAME) {
        problem("steps[" + i + "].id", "a step id is at most " + MAX_NAME + " characters ('" + clip(id) + "')");
      }
      if (stepIndex.containsKey(id)) {
        problem("steps[" + i + "].id", "step id '" + id + "' is used twice");
      }
      stepIndex.put(id, i);
    }
    for (int i = 0; i < s.getStepsCount(); i++) {
      producers(i, s.getSteps(i));
    }
    List<List<Integer>> deps = ScenarioSteps.dependencies(s);
    for (int i = 0; i < s.getStepsCount(); i++) {
      for (String a : s.getSteps(i).getAfterList()) {
        if (!stepIndex.containsKey(a)) {
          problem("steps[" + i + "].after", "step '" + ScenarioSteps.id(s, i) + "' comes after unknown step '" + a + "' (steps: "
              + some(stepIndex.keySet()) + ")");
        }
      }
    }
    graph = new StepGraph(s, deps);
    cycles(); // reported; the checks below still run (reachability is a search with a visited set)
    for (int i = 0; i < s.getStepsCount(); i++) {
      step(i, s.getSteps(i), deps);
    }
    new RunChecks(this).check();
  }

  private void settings() {
    var st = s.getSettings();
    if (!st.getPace().isEmpty() && !st.getPace().matches("asap|realtime(:\\d+(\\.\\d+)?)?")) {
      problem("settings.pace", "pace must be asap, realtime or realtime:SCALE, not '" + st.getPace() + "'");
    }
    duration("settings.step_timeout", st.getStepTimeout(), true);
    if (!st.getHmmP2P().isEmpty() && !st.getHmmP2P().equals("rfc2025")) {
      problem("settings.hmm_p2p", "hmm_p2p is rfc2025 or unset (mainline), not '" + st.getHmmP2P() + "'");
    }
    if (!st.getResvMode().isEmpty() && !st.getResvMode().matches("modern|2020")) {
      problem("settings.resv_mode", "resv_mode must be modern or 2020, not '" + st.getResvMode() + "'");
    }
  }

  private void device(int i, Device d) {
    String path = "devices[" + i + "]";
    uniqueName(path, d.getName(), devices.containsKey(d.getName()));
    if (!d.getName().matches("[A-Za-z0-9_.-]*")) {
      problem(path + ".name", "device name '" + d.getName() + "' must be letters, digits, '.', '-' or '_'");
    }
    knownNode(path + ".node", d.getNode(), "device '" + d.getName() + "'");
    if (!d.getKind().isEmpty() && !d.getKind().matches("gpu|rdma_nic|copy_engine")) {
      problem(path + ".kind", "device kind must be gpu, rdma_nic or copy_engine, not '" + d.getKind() + "'");
    }
    if (!d.getVram().isEmpty() && Units.bytes(d.getVram()) < 0) {
      problem(path + ".vram", "'" + d.getVram() + "' is not a size (e.g. 8GiB)");
    }
    duration(path + ".job_timeout", d.getJobTimeout(), true);
    duration(path + ".preempt_time", d.getPreemptTime(), true);
    duration(path + ".foreign_fence_timeout", d.getForeignFenceTimeout(), true);
    if (!d.getUserptrPolicy().isEmpty() && !d.getUserptrPolicy().matches("wait|preempt|fault|pin|none")) {
      problem(path + ".userptr_policy", "userptr_policy must be wait, preempt, fault, pin or none, not '" + d.getUserptrPolicy() + "'");
    }
    for (var gfp : List.of(List.of("run_job_allocates", d.getRunJobAllocates()), List.of("reset_allocates", d.getResetAllocates()))) {
      if (!gfp.get(1).isEmpty() && !gfp.get(1).matches(StepChecks.GFP + "|none")) {
        problem(path + "." + gfp.get(0), gfp.get(0) + " must be kernel, nofs, noio, atomic, nowait or none, not '" + gfp.get(1) + "'");
      }
    }
    boolean nic = d.getKind().equals("rdma_nic");
    if (!nic && (d.getOdp() || !d.getLinkRate().isEmpty() || !d.getLinkLatency().isEmpty() || !d.getOdpMinorFault().isEmpty()
        || !d.getOdpMajorFault().isEmpty() || d.getMoveNotifyKeepsMapping())) {
      problem(path, "odp, link_rate, link_latency, odp_minor_fault, odp_major_fault and move_notify_keeps_mapping are properties of an "
          + "rdma_nic, not of a " + (d.getKind().isEmpty() ? "gpu" : d.getKind()));
    }
    if (!d.getLinkRate().isEmpty() && Units.rate(d.getLinkRate()) <= 0) {
      problem(path + ".link_rate", "'" + d.getLinkRate() + "' is not a link rate (e.g. 100Gbit, 25Gbit, 12.5GB)");
    }
    duration(path + ".link_latency", d.getLinkLatency(), true);
    duration(path + ".odp_minor_fault", d.getOdpMinorFault(), true);
    duration(path + ".odp_major_fault", d.getOdpMajorFault(), true);
    devices.put(d.getName(), d);
  }

  /** PCI functions the scenario's fabric names (devices are functions too, placed by default). */
  final java.util.Set<String> pciFunctions = new java.util.HashSet<>();

  private void buffer(int i, Buffer b) {
    String path = "buffers[" + i + "]";
    uniqueName(path, b.getName(), buffers.containsKey(b.getName()));
    Device d = devices.get(b.getDevice());
    if (d == null) {
      problem(path + ".device", "buffer '" + b.getName() + "' is on unknown device '" + b.getDevice() + "' (devices: "
          + some(devices.keySet()) + ")");
    }
    String pn = processNodes.get(b.getProcess());
    if (pn == null) {
      problem(path + ".process", "buffer '" + b.getName() + "' belongs to unknown process '" + b.getProcess() + "'");
    } else if (d != null && !pn.equals(d.getNode())) {
      problem(path + ".process", "buffer '" + b.getName() + "': process '" + b.getProcess() + "' is on node " + pn
          + ", device '" + d.getName() + "' on node " + d.getNode() + " (a process allocates on its own node's devices)");
    }
    if (b.getSize().isEmpty() || Units.bytes(b.getSize()) <= 0) {
      problem(path + ".size", "buffer '" + b.getName() + "' needs a size (e.g. 4MiB), not '" + b.getSize() + "'");
    }
    if (!b.getPlacement().isEmpty() && !b.getPlacement().matches("vram|system")) {
      problem(path + ".placement", "placement must be vram or system, not '" + b.getPlacement() + "'");
    }
    buffers.put(b.getName(), b);
  }

  private void uniqueName(String path, String name, boolean taken) {
    if (name.isEmpty()) {
      problem(path, "a name is required");
    } else if (name.length() > MAX_NAME) {
      problem(path + ".name", "a name is at most " + MAX_NAME + " characters ('" + clip(name) + "' has " + name.length() + ")");
    } else if (taken) {
      problem(path + ".name", "'" + name + "' is declared twice");
    }
  }

  private void knownNode(String path, String node, String what) {
    if (node.isEmpty()) {
      problem(path, what + " needs a node");
    } else if (!nodes.contains(node)) {
      problem(path, what + " is on node '" + node + "', which the scenario does not declare (nodes: " + nodes + ")");
    }
  }

  /** A long text cut for a message. */
  static String clip(String text) {
    return text.length() <= 40 ? text : text.substring(0, 37) + "...";
  }

  /** Names for a message: at most ten of them. */
  static String some(java.util.Collection<String> names) {
    return names.size() <= 10 ? names.toString()
        : names.stream().limit(10).toList().toString().replaceFirst("]$", ", … " + (names.size() - 10) + " more]");
  }

  /** A size with a unit (4KiB, 2MiB); "0" is a size (the calls that take one reject it themselves). */
  void size(String path, String value, boolean optional) {
    if (value.isEmpty() ? !optional : Units.bytes(value) < 0) {
      problem(path, "'" + value + "' is not a size (e.g. 4KiB, 2MiB)");
    }
  }

  void duration(String path, String value, boolean optional) {
    if (value.isEmpty() ? !optional : Units.nanos(value) < 0) {
      problem(path, "'" + value + "' is not a duration with a unit (e.g. 2ms, 1.5s)");
    }
  }

  private void producers(int i, Step st) {
    if (st.hasSubmit() && !st.getSubmit().getOutFence().isEmpty()) produce(i, st.getSubmit().getOutFence(), "submit.out_fence");
    if (st.hasPoint()) produce(i, st.getPoint().getAs(), "point.as");
    if (st.hasMerge()) produce(i, st.getMerge().getAs(), "merge.as");
    if (st.hasExportSyncFile()) produce(i, st.getExportSyncFile().getAs(), "export_sync_file.as");
    if (st.hasTimeline()) timelineProducers.put(st.getTimeline().getName(), i);
    if (st.hasResv()) resvProducers.put(st.getResv().getName(), i);
    ScenarioSteps.Ref b = ScenarioSteps.binds(st);
    if (b != null) {
      switch (b.kind()) {
        case FENCE -> produce(i, b.name(), b.field());
        case FD -> {
          // A sync_file fd named `as` (without it, the fd takes the fence's own name); point, merge and
          // export_sync_file names are produced above.
          if (st.hasSyncFile() && !st.getSyncFile().getAs().isEmpty()) {
            produce(i, b.name(), b.field());
          }
        }
        case CALLBACK -> local(i, b, callbackProducers, "callback");
        case CONTEXT -> local(i, b, contextProducers, "fence context");
        case REGION -> local(i, b, regionProducers, "region");
        case NOTIFIER -> local(i, b, notifierProducers, "notifier");
        case PD, MR, CQ, QP -> local(i, b, rdmaProducers.computeIfAbsent(b.kind(), k -> new HashMap<>()), StepChecks.rdmaWhat(b.kind()));
        case BUFFER -> {
          if (buffers.containsKey(b.name())) {
            problem("steps[" + i + "]." + b.field(), "buffer name '" + b.name() + "' is already used (buffers and userptr names are one space)");
          } else {
            buffers.put(b.name(), dev.fencelab.protocol.scenario.v1.Buffer.newBuilder().setName(b.name()).setDevice(st.getUserptr().getDevice())
                .setProcess(st.getProcess()).setPlacement("userptr").build());
            userptrProducers.put(b.name(), i);
          }
        }
        default -> {}
      }
    }
  }

  private void local(int i, ScenarioSteps.Ref b, Map<String, Integer> producers, String what) {
    if (producers.putIfAbsent(b.name(), i) != null) {
      problem("steps[" + i + "]." + b.field(), what + " name '" + b.name() + "' is made twice (also by step '"
          + ScenarioSteps.id(s, producers.get(b.name())) + "')");
    }
  }

  private void produce(int i, String name, String field) {
    if (name.isEmpty()) {
      problem("steps[" + i + "]." + field, "the fence needs a name");
    } else if (fenceProducers.putIfAbsent(name, i) != null) {
      problem("steps[" + i + "]." + field, "fence name '" + name + "' is produced twice (also by step '"
          + ScenarioSteps.id(s, fenceProducers.get(name)) + "')");
    }
  }

  /** Reports the first cycle of step dependencies, if any. */
  private void cycles() {
    StepGraph.Cycle c = graph.cycle();
    if (c != null) {
      problem("steps[" + c.at() + "].after", "step dependencies form a cycle: " + String.join(" -> ", c.ids()));
    }
  }

  /** True if step {@code consumer} comes after step {@code producer} (directly or through others). */
  boolean before(int producer, int consumer, List<List<Integer>> deps) {
    return graph.before(producer, consumer);
  }

  void fenceUse(int i, String field, String name, List<List<Integer>> deps) {
    String path = "steps[" + i + "]." + field;
    Integer p = fenceProducers.get(name);
    if (p == null) {
      problem(path, "unknown fence '" + name + "' (fences: " + some(fenceProducers.keySet()) + ")");
    } else if (!before(p, i, deps)) {
      problem(path, "step '" + ScenarioSteps.id(s, i) + "' uses fence '" + name + "' but does not come after step '" + ScenarioSteps.id(s, p)
          + "', which produces it");
    }
  }

  void deviceRef(int i, String field, String name) {
    if (!devices.containsKey(name)) {
      problem("steps[" + i + "]." + field, "unknown device '" + name + "' (devices: " + some(devices.keySet()) + ")");
    }
  }

  void bufferRef(int i, String field, String name) {
    if (!buffers.containsKey(name)) {
      problem("steps[" + i + "]." + field, "unknown buffer '" + name + "' (buffers: " + some(buffers.keySet()) + ")");
    } else if (userptrProducers.containsKey(name) && !before(userptrProducers.get(name), i, null)) {
      problem("steps[" + i + "]." + field, "step '" + ScenarioSteps.id(s, i) + "' uses userptr buffer '" + name
          + "' but does not come after step '" + ScenarioSteps.id(s, userptrProducers.get(name)) + "', which makes it");
    }
  }

  void nodeRef(String path, String name) {
    if (!nodes.contains(name)) {
      problem(path, "unknown node '" + name + "' (nodes: " + nodes + ")");
    }
  }

  void processRef(int i, String field, String name, boolean required) {
    if (name.isEmpty()) {
      if (required) {
        problem("steps[" + i + "]", "step '" + ScenarioSteps.id(s, i) + "' needs a 'process' (the process doing it)");
      }
    } else if (!processNodes.containsKey(name)) {
      problem("steps[" + i + "]." + field, "unknown process '" + name + "' (processes: " + some(processNodes.keySet()) + ")");
    }
  }

  private void step(int i, Step st, List<List<Integer>> deps) {
    String path = "steps[" + i + "]";
    String action = ScenarioSteps.action(st);
    if (action.equals("none")) {
      String prefix = path + ".";
      boolean misspelled = loaded.lines().keySet().stream().filter(k -> k.startsWith(prefix))
          .anyMatch(k -> Step.getDescriptor().findFieldByName(k.substring(prefix.length()).split("[.\\[]")[0]) == null);
      if (!misspelled) { // an unknown field of this step is already reported: that was meant as its action
        problem(path, "step '" + ScenarioSteps.id(s, i) + "' has no action (one of: " + ACTIONS + ")");
      }
      return;
    }
    if (!st.getNode().isEmpty()) {
      nodeRef(path + ".node", st.getNode());
    }
    checks.expect(i, st);
    checks.thread(i, st);
    hosts.step(i, st);
    if (ScenarioSteps.isV2Action(st)) {
      checks.protocolStep(i, st, deps);
      return;
    }
    actions.check(i, st, deps);
  }

  /** Every action a step may have, as written in a scenario. */
  private static final String ACTIONS = Step.getDescriptor().getOneofs().get(0).getFields().stream()
      .map(com.google.protobuf.Descriptors.FieldDescriptor::getName).collect(java.util.stream.Collectors.joining(", "));

  void timelineUse(int i, String field, String name, List<List<Integer>> deps) {
    if (name.trim().matches("-?\\d+")) {
      return; // a literal fd: the call's -EBADF path
    }
    Integer t = timelineProducers.get(name);
    if (t == null) {
      problem("steps[" + i + "]." + field, "unknown timeline '" + name + "' (timelines: " + some(timelineProducers.keySet()) + ")");
    } else if (!before(t, i, deps)) {
      problem("steps[" + i + "]." + field, "step '" + ScenarioSteps.id(s, i) + "' uses timeline '" + name
          + "' but does not come after step '" + ScenarioSteps.id(s, t) + "', which creates it");
    }
  }
}
