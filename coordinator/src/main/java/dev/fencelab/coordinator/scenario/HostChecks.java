package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Hosts;
import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The checks of a scenario's emulated hosts (DESIGN.md "Hosts and members"): unique names, nodes naming a declared host,
 * each host's {@code pcie} section ({@link PcieChecks}), and what cannot cross machines — an fd passed between
 * processes, a dma-buf imported, a userptr, a dma-buf MR, a job's buffers, the functions of one p2pdma query: each
 * stays within its host (RDMA joins hosts). Reports through its {@link ScenarioValidator}.
 */
final class HostChecks {
  private final ScenarioValidator v;
  /** Each protection domain's NIC, as the steps allocate them. */
  private final java.util.Map<String, String> pdNics = new java.util.HashMap<>();

  HostChecks(ScenarioValidator v) {
    this.v = v;
  }

  /** Host names, the nodes' hosts, and every host's PCIe section (the default host's is the top-level one). */
  void check() {
    Set<String> hosts = new HashSet<>();
    for (int i = 0; i < v.s.getHostsCount(); i++) {
      String h = v.s.getHosts(i).getName();
      if (h.isEmpty() || !h.matches("[A-Za-z0-9_-]{1,64}")) {
        v.problem("hosts[" + i + "].name", "a host name is 1 to 64 letters, digits, '-' or '_', not '" + h + "'");
      } else if (!hosts.add(h)) {
        v.problem("hosts[" + i + "].name", "host '" + h + "' is declared twice");
      }
    }
    for (int i = 0; i < v.s.getNodesCount(); i++) {
      String h = v.s.getNodes(i).getHost();
      if (!h.isEmpty() && !hosts.contains(h)) {
        v.problem("nodes[" + i + "].host", "node '" + v.s.getNodes(i).getName() + "' names host '" + h + "', which the scenario does not "
            + "declare (hosts: " + hosts + ")");
      }
    }
    Set<String> pciNames = new HashSet<>();
    new PcieChecks(v, v.s.getPcie(), "pcie", pciNames).check(Hosts.devices(v.s, Hosts.DEFAULT));
    for (int i = 0; i < v.s.getHostsCount(); i++) {
      String h = v.s.getHosts(i).getName();
      new PcieChecks(v, v.s.getHosts(i).getPcie(), "hosts[" + i + "].pcie", pciNames).check(Hosts.devices(v.s, h));
      for (int e = 0; e < v.s.getHosts(i).getPcie().getEndpointsCount(); e++) {
        String name = v.s.getHosts(i).getPcie().getEndpoints(e).getName();
        if (v.devices.containsKey(name) && !Hosts.ofDevice(v.s, name).equals(h)) {
          v.problem("hosts[" + i + "].pcie.endpoints[" + e + "]", "device '" + name + "' runs on " + Hosts.describe(Hosts.ofDevice(v.s, name))
              + ", not in host " + h + "'s fabric");
        }
      }
    }
  }

  /** Step {@code i}: what it joins stays within one host. */
  void step(int i, Step st) {
    String path = "steps[" + i + "]";
    switch (st.getActionCase()) {
      case PASS -> same(path + ".pass.to", "an fd", processHost(st.getProcess()), processHost(st.getPass().getTo()),
          "process " + st.getProcess(), "process " + st.getPass().getTo());
      case IMPORT -> same(path + ".import.device", "a dma-buf", bufferHost(st.getImport().getBuffer()), Hosts.ofDevice(v.s,
          st.getImport().getDevice()), "buffer " + st.getImport().getBuffer(), "device " + st.getImport().getDevice());
      case MIGRATE_VMA -> same(path + ".migrate_vma.device", "device-private memory", processHost(st.getProcess()),
          Hosts.ofDevice(v.s, st.getMigrateVma().getDevice()), "process " + st.getProcess(), "device " + st.getMigrateVma().getDevice());
      case USERPTR -> same(path + ".userptr.device", "a userptr", processHost(st.getProcess()), Hosts.ofDevice(v.s, st.getUserptr().getDevice()),
          "process " + st.getProcess(), "device " + st.getUserptr().getDevice());
      case ALLOC_PD -> pdNics.put(st.getAllocPd().getAs(), st.getAllocPd().getDevice());
      case REG_MR -> {
        String nic = pdNics.get(st.getRegMr().getPd());
        if (!st.getRegMr().getBuffer().isEmpty() && nic != null) {
          same(path + ".reg_mr.buffer", "a dma-buf MR", bufferHost(st.getRegMr().getBuffer()), Hosts.ofDevice(v.s, nic),
              "buffer " + st.getRegMr().getBuffer(), "NIC " + nic);
        }
      }
      case SUBMIT -> {
        var sub = st.getSubmit();
        List<String> buffers = new java.util.ArrayList<>(sub.getReadsList());
        buffers.addAll(sub.getWritesList());
        if (sub.hasCopy()) {
          buffers.add(sub.getCopy().getFrom());
          buffers.add(sub.getCopy().getTo());
        }
        String device = Hosts.ofDevice(v.s, sub.getDevice());
        buffers.forEach(b -> same(path + ".submit", "a job's DMA", bufferHost(b), device, "buffer " + b, "device " + sub.getDevice()));
      }
      case P2P_DISTANCE, P2P_FIND -> {
        List<String> names = new java.util.ArrayList<>(st.hasP2PDistance() ? st.getP2PDistance().getClientsList() : st.getP2PFind().getClientsList());
        if (st.hasP2PDistance()) {
          names.add(0, st.getP2PDistance().getProvider());
        }
        for (String n : names) {
          same(path + "." + ScenarioSteps.action(st), "a p2pdma query", Hosts.ofFunction(v.s, names.get(0)), Hosts.ofFunction(v.s, n),
              names.get(0), n);
        }
      }
      default -> {}
    }
  }

  private String processHost(String process) {
    return Hosts.ofProcess(v.s, process);
  }

  private String bufferHost(String buffer) {
    return v.buffers.containsKey(buffer) ? Hosts.ofDevice(v.s, v.buffers.get(buffer).getDevice()) : null;
  }

  private void same(String path, String what, String a, String b, String aName, String bName) {
    if (a != null && b != null && !a.equals(b)) {
      v.problem(path, what + " does not cross machines: " + aName + " is on " + Hosts.describe(a) + ", " + bName + " on " + Hosts.describe(b));
    }
  }
}
