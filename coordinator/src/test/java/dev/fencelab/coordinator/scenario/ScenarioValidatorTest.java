package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The validator's checks, each through a scenario text, as {@code fencelab check} sees them. */
class ScenarioValidatorTest {
  private static final String BASE = """
      name: t
      nodes: [{name: n1}, {name: n2}]
      devices: [{name: gpu, node: n1}]
      processes: [{name: p, node: n1}, {name: q, node: n2}]
      buffers: [{name: bo, device: gpu, process: p, size: 4KiB}]
      """;

  private static List<String> problems(String yaml) {
    return assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(BASE + yaml, "t.yaml", false)).problems();
  }

  private static boolean any(List<String> problems, String text) {
    return problems.stream().anyMatch(p -> p.contains(text));
  }

  @Test
  void reportsReferenceOrderAndChaosProblemsTogetherInOnePass() {
    List<String> p = problems("""
        steps:
          - {id: w, process: p, wait: {fence: f, timeout: 1s}}
          - {id: s, process: p, submit: {device: nope, out_fence: f}}
        chaos: {faults: [{at: 1ms, unplug: zz}]}
        """);
    assertTrue(any(p, "does not come after step 's'"), p.toString());
    assertTrue(any(p, "unknown device 'nope' (devices: [gpu])"), p.toString());
    assertTrue(any(p, "unknown device 'zz' (devices: [gpu])"), p.toString());
  }

  @Test
  void namesTheLineOfEachProblem() {
    List<String> p = problems("steps:\n  - {process: p, submit: {device: nope}}\n");
    assertTrue(p.get(0).startsWith("t.yaml:7:"), p.toString());
  }

  @Test
  void reportsACycleOfAfterWithItsPath() {
    List<String> p = problems("""
        steps:
          - {id: a, after: [b], process: p, timeline: {name: t1}}
          - {id: b, after: [a], process: p, timeline: {name: t2}}
        """);
    assertTrue(any(p, "a -> b -> a") || any(p, "b -> a -> b"), p.toString());
  }

  @Test
  void checksTheNamesOfAStepProtocolActionByTheirFieldsKinds() {
    List<String> p = problems("steps:\n  - {node: n1, signal: {fence: ghost}}\n  - {node: n1, evict: {buffer: nobuf}}\n");
    assertTrue(any(p, "unknown fence 'ghost'"), p.toString());
    assertTrue(any(p, "unknown buffer 'nobuf'"), p.toString());
  }

  @Test
  void aPassToAnUnknownProcessIsReported() {
    List<String> p = problems("steps:\n  - {process: p, export: {buffer: bo}}\n  - {process: p, pass: {name: bo, to: ghost}}\n");
    assertEquals(1, p.size(), p.toString());
    assertTrue(any(p, "unknown process 'ghost'"), p.toString());
  }

  @Test
  void anExpectationWithAnUnknownErrnoIsReported() {
    List<String> p = problems("steps:\n  - {node: n1, context_alloc: {as: c}, expect: {errno: EWHAT}}\n");
    assertTrue(any(p, "unknown errno 'EWHAT'"), p.toString());
  }

  @Test
  void anUnknownViolationKindInTheExpectationsIsReported() {
    List<String> p = problems("steps:\n  - {process: p, timeline: {name: t}}\nexpect: {violations: {expected: [NOPE]}}\n");
    assertTrue(any(p, "unknown violation kind 'NOPE'"), p.toString());
  }

  @Test
  void aRandomChaosScheduleWithoutKindsOrTargetsIsReported() {
    List<String> p = problems("steps:\n  - {process: p, timeline: {name: t}}\nchaos: {random: {count: 1, from: 1ms, to: 2ms}}\n");
    assertTrue(any(p, "name the fault kinds"), p.toString());
    assertTrue(any(p, "name the nodes or devices faults may hit"), p.toString());
  }

  @Test
  void aRandomChaosScheduleOfMoreThanAThousandFaultsIsReported() {
    List<String> p = problems("steps:\n  - {process: p, timeline: {name: t}}\n"
        + "chaos: {random: {count: 2000000000, kinds: [hang], targets: [gpu], from: 1ms, to: 2ms}}\n");
    assertTrue(any(p, "count must be at most 1000, was 2000000000"), p.toString());
  }

  @Test
  void aRandomPartitionLongerThanTenMinutesOrWithItsWindowReversedIsReported() {
    List<String> p = problems("steps:\n  - {process: p, timeline: {name: t}}\n"
        + "chaos: {random: {count: 1, kinds: [partition], targets: [n1], from: 1ms, to: 2ms, for_from: 20m, for_to: 1s}}\n");
    assertTrue(any(p, "'for_from' is after 'for_to'"), p.toString());
    assertTrue(any(p, "a fault lasts at most 10m, not 20m"), p.toString());
  }

  @Test
  void aRandomKindThatIsNotAFaultIsReportedWithTheKindsThereAre() {
    List<String> p = problems("steps:\n  - {process: p, timeline: {name: t}}\n"
        + "chaos: {random: {count: 1, kinds: [reboot], targets: [n1], from: 1ms, to: 2ms}}\n");
    assertTrue(any(p, "unknown fault kind 'reboot' (kill_node, unplug, hang, pause_node, partition, link_delay, kill_coordinator)"), p.toString());
  }

  @Test
  void aRegionUsedBeforeTheMmapThatMakesItIsReported() {
    List<String> p = problems("steps:\n  - {id: u, process: p, munmap: {region: mem}}\n  - {id: m, process: p, mmap: {as: mem, length: 4KiB}}\n");
    assertTrue(any(p, "uses region 'mem' but does not come after step 'm'"), p.toString());
  }

  @Test
  void aUserptrBufferSubmittedBeforeItIsMadeIsReported() {
    List<String> p = problems("""
        steps:
          - {id: s, process: p, submit: {device: gpu, writes: [ub]}}
          - {id: m, process: p, mmap: {as: mem, length: 4KiB}}
          - {id: u, process: p, userptr: {as: ub, device: gpu, region: mem}}
        """);
    assertTrue(any(p, "uses userptr buffer 'ub' but does not come after step 'u'"), p.toString());
  }

  @Test
  void anUnknownGfpOrTestCallbackIsReported() {
    List<String> p = problems("""
        steps:
          - {id: m, process: p, mmap: {as: mem, length: 4KiB}}
          - {id: n, process: p, notifier_insert: {as: N, region: mem, on_invalidate: sulk}}
          - {id: a, process: p, alloc: {size: 4KiB, gfp: eventually}}
        """);
    assertTrue(any(p, "on_invalidate must be ok, nonblock_refuses, refuse, wait or remove_self, not 'sulk'"), p.toString());
    assertTrue(any(p, "gfp must be kernel, nofs, noio, atomic or nowait, not 'eventually'"), p.toString());
  }

  @Test
  void anUnknownUserptrPolicyIsReported() {
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(BASE.replace("name: gpu, node: n1",
        "name: gpu, node: n1, userptr_policy: hope"), "t.yaml", false)).problems();
    assertTrue(any(p, "userptr_policy must be wait, preempt, fault, pin or none, not 'hope'"), p.toString());
  }

  @Test
  void anOffsetOrLengthThatIsNotASizeIsReported() {
    List<String> p = problems("steps:\n  - {id: m, process: p, mmap: {as: mem, length: 4KiB}}\n"
        + "  - {id: u, process: p, munmap: {region: mem, offset: half, length: 4KiB}}\n");
    assertTrue(any(p, "'half' is not a size"), p.toString());
  }

  @Test
  void rdmaObjectsAreCheckedByKindAndOrder() {
    List<String> p = problems("""
        steps:
          - {id: w, post_send: {qp: q1, opcode: write, mr: m1, remote_mr: m1}}
          - {id: pd, alloc_pd: {device: gpu, as: pd1}}
          - {id: q, create_qp: {pd: pd1, cq: pd1, as: q1}}
        """);
    assertTrue(any(p, "uses queue pair 'q1' but does not come after step 'q'"), p.toString());
    assertTrue(any(p, "unknown memory region 'm1' (made by reg_mr steps"), p.toString());
    assertTrue(any(p, "device 'gpu' is a gpu, not an rdma_nic"), p.toString());
    assertTrue(any(p, "unknown completion queue 'pd1'"), p.toString());
  }

  @Test
  void aPostSendsFieldsFollowItsOpcode() {
    List<String> p = problems("""
        steps:
          - {id: a, post_send: {qp: q, opcode: send, mr: m, remote_mr: m}}
          - {id: b, post_send: {qp: q, opcode: write, mr: m}}
          - {id: c, post_send: {qp: q, opcode: atomic, mr: m}}
          - {id: d, process: p, reg_mr: {pd: pd, as: m, access: [remote_everything]}}
        """);
    assertTrue(any(p, "a send names no remote_mr"), p.toString());
    assertTrue(any(p, "an RDMA write names the remote_mr"), p.toString());
    assertTrue(any(p, "opcode must be write, read or send, not 'atomic'"), p.toString());
    assertTrue(any(p, "access must be local_write, remote_write, remote_read, remote_atomic or on_demand, not 'remote_everything'"),
        p.toString());
    assertTrue(any(p, "reg_mr takes a region (with offset and length), a start address with a length, or a dma-buf buffer"), p.toString());
  }

  @Test
  void nicPropertiesOnAGpuAndBadRatesOrLimitsAreReported() {
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(BASE.replace("devices: [{name: gpu, node: n1}]",
        "devices: [{name: gpu, node: n1, odp: true}, {name: nic, node: n1, kind: rdma_nic, link_rate: fast}]")
        .replace("name: p, node: n1", "name: p, node: n1, memlock: lots"), "t.yaml", false)).problems();
    assertTrue(any(p, "are properties of an rdma_nic, not of a gpu"), p.toString());
    assertTrue(any(p, "memlock is a size (e.g. 64KiB, 8MiB), 0 or unlimited, not 'lots'"), p.toString());
    assertTrue(any(p, "'fast' is not a link rate"), p.toString());
  }

  @Test
  void aPcieFabricWithWrongParentsACycleOrAnUnknownFunctionIsReported() {
    List<String> p = problems("""
        pcie:
          host_bridges: [{name: hb, vendor: 0x8086, device: 0x2030}]
          ports:
            - {name: rp, kind: root_port, parent: nowhere}
            - {name: up, kind: switch_upstream, parent: dn}
            - {name: dn, kind: switch_downstream, parent: up}
            - {name: x, kind: bridge, parent: hb}
          endpoints: [{name: e, port: up}]
        steps:
          - {id: d, p2p_distance: {provider: gpu, clients: [ghost]}}
        """);
    assertTrue(any(p, "a root_port's parent is a host bridge, not 'nowhere'"), p.toString());
    assertTrue(any(p, "PCI ports form a cycle"), p.toString());
    assertTrue(any(p, "kind must be root_port, switch_upstream or switch_downstream, not 'bridge'"), p.toString());
    assertTrue(any(p, "endpoint 'e' sits at a root port or a switch's downstream port, not 'up'"), p.toString());
    assertTrue(any(p, "'ghost' is neither a device nor a PCI function of the pcie section"), p.toString());
  }

  private static final String TWO_HOSTS = """
      name: t
      hosts: [{name: a}, {name: b, pcie: {host_bridges: [{name: hb, vendor: 0x8086, device: 0x2030}], ports: [{name: rp, kind: root_port, parent: hb}], endpoints: [{name: gpuB, port: rp}]}}]
      nodes: [{name: n1, host: a}, {name: n2, host: b}]
      devices: [{name: gpuA, node: n1}, {name: gpuB, node: n2}, {name: nicA, node: n1, kind: rdma_nic}, {name: nicB, node: n2, kind: rdma_nic}]
      processes: [{name: p, node: n1}, {name: q, node: n2}]
      buffers: [{name: boA, device: gpuA, process: p, size: 4KiB}, {name: boB, device: gpuB, process: q, size: 4KiB}]
      """;

  private static List<String> hostProblems(String yaml) {
    return assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(TWO_HOSTS + yaml, "t.yaml", false)).problems();
  }

  @Test
  void aNodeNamingAnUndeclaredHostIsRefused() {
    List<String> q = assertThrows(ScenarioException.class, () -> ScenarioLoader.parse("""
        name: t
        hosts: [{name: a}]
        nodes: [{name: n1, host: zz}]
        """, "t.yaml", false)).problems();
    assertTrue(any(q, "node 'n1' names host 'zz', which the scenario does not declare"), q.toString());
  }

  @Test
  void anFdPassedToAProcessOnAnotherHostIsRefused() {
    List<String> p = hostProblems("steps:\n  - {process: p, export: {buffer: boA}}\n  - {process: p, pass: {name: boA, to: q}}\n");
    assertTrue(any(p, "an fd does not cross machines: process p is on host a, process q on host b"), p.toString());
  }

  @Test
  void aDmaBufMrOfAGpuOnAnotherHostIsRefused() {
    List<String> p = hostProblems("""
        steps:
          - {process: q, alloc_pd: {device: nicB, as: pd}}
          - {process: q, reg_mr: {pd: pd, buffer: boA, access: [local_write]}}
        """);
    assertTrue(any(p, "a dma-buf MR does not cross machines: buffer boA is on host a, NIC nicB on host b"), p.toString());
  }

  @Test
  void aDeviceInAnotherHostsFabricIsRefused() {
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(TWO_HOSTS.replace("endpoints: [{name: gpuB, port: rp}]",
        "endpoints: [{name: gpuA, port: rp}]"), "t.yaml", false)).problems();
    assertTrue(any(p, "device 'gpuA' runs on host a, not in host b's fabric"), p.toString());
  }

  @Test
  void queuePairsBetweenHostsAreWhatJoinsThem() throws Exception {
    ScenarioLoader.parse(TWO_HOSTS + """
        steps:
          - {process: p, alloc_pd: {device: nicA, as: pdA}}
          - {process: q, alloc_pd: {device: nicB, as: pdB}}
          - {process: p, create_cq: {device: nicA, as: cqA}}
          - {process: q, create_cq: {device: nicB, as: cqB}}
          - {process: p, create_qp: {pd: pdA, cq: cqA, as: qpA}}
          - {process: q, create_qp: {pd: pdB, cq: cqB, as: qpB}}
          - {process: p, connect_qp: {qp: qpA, peer: qpB}}
        """, "t.yaml", false);
  }

  @Test
  void aKernelThreadStepWithoutANodeOrProcessIsRefused() {
    List<String> p = problems("steps:\n  - {id: b, begin_signalling: {thread: t}}\n");
    assertTrue(any(p, "kernel thread 't' runs on a node"), p.toString());
  }

  @Test
  void aKernelThreadStaysOnOneNode() {
    List<String> p = problems("""
        steps:
          - {id: b, node: n1, begin_signalling: {thread: t}}
          - {id: e, node: n2, end_signalling: {thread: t}}
        """);
    assertTrue(any(p, "kernel thread 't' lives on node n1, not n2"), p.toString());
  }

  @Test
  void aLockStepNamesItsThreadAndItsLock() {
    List<String> p = problems("""
        steps:
          - {id: l, node: n1, lock: {lock: L}}
          - {id: u, node: n1, unlock: {thread: t}}
        """);
    assertTrue(any(p, "name the kernel thread"), p.toString());
    assertTrue(any(p, "name the lock"), p.toString());
  }

  @Test
  void anUnknownGfpForASignallingPathKnobIsRefused() {
    List<String> p = assertThrows(ScenarioException.class, () -> ScenarioLoader.parse("""
        name: t
        nodes: [{name: n1}]
        devices: [{name: gpu, node: n1, run_job_allocates: highuser, reset_allocates: GFP_KERNEL}]
        steps: [{id: s, signal: {fence: x}}]
        """, "t.yaml", false)).problems();
    assertTrue(any(p, "run_job_allocates must be kernel, nofs, noio, atomic, nowait or none, not 'highuser'"), p.toString());
    assertTrue(p.stream().noneMatch(x -> x.contains("reset_allocates")), p.toString());
  }

  @Test
  void aPartitionIsReadFromListsOfNodesOneListPerSide() throws Exception {
    var s = ScenarioLoader.parse(BASE + "steps:\n  - {partition: {between: [[n1], [n2]], for: 2s}}\n", "t.yaml", false).scenario();
    var partition = s.getSteps(0).getPartition();
    assertEquals(List.of("n1"), partition.getBetween(0).getNodesList());
    assertEquals(List.of("n2"), partition.getBetween(1).getNodesList());
  }

  @Test
  void aPartitionNeedsTwoSidesOfKnownNodesEachNodeOnOneSide() {
    List<String> p = problems("steps:\n  - {partition: {between: [[n1, n2]], for: 2s}}\n"
        + "  - {partition: {between: [[n1], [n1, ghost]], for: 2s}}\n");
    assertTrue(any(p, "a partition has two sides or more"), p.toString());
    assertTrue(any(p, "node 'n1' is on two sides"), p.toString());
    assertTrue(any(p, "unknown node 'ghost'"), p.toString());
  }

  @Test
  void aPauseOrPartitionNeedsADurationOfAtMostTenMinutes() {
    List<String> p = problems("steps:\n  - {pause_node: {node: n1}}\n  - {pause_node: {node: n2, for: 11min}}\n"
        + "  - {partition: {between: [[n1], [n2]], for: 0s}}\n");
    assertTrue(any(p, "t.yaml:7: '' is not a duration"), p.toString());
    assertTrue(any(p, "must be at most 10min, was 11min"), p.toString());
    assertTrue(any(p, "must be longer than 0"), p.toString());
  }

  @Test
  void aLinkDelayIsBetweenTwoDifferentNodesWithALatencyOfAtMostOneSecond() {
    List<String> p = problems("chaos: {faults: [{at: 1ms, link_delay: {between: [n1, n1], latency: 2s}}]}\n");
    assertTrue(any(p, "a link is between two different nodes"), p.toString());
    assertTrue(any(p, "a link latency is at most 1s, was 2s"), p.toString());
  }

  @Test
  void aChaosFaultIsExactlyOneKindIncludingTheClusterFaults() {
    List<String> p = problems("chaos: {faults: [{at: 1ms, kill_coordinator: true, pause_node: {node: n1, for: 1s}}]}\n");
    assertTrue(any(p, "a fault is exactly one of kill_node, unplug, hang, fail_reset, pause_node, partition"), p.toString());
  }
}
