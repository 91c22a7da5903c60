package dev.fencelab.protocol.scenario;

import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Host;
import dev.fencelab.protocol.scenario.v1.Pcie;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The emulated hosts of a scenario (DESIGN.md "Hosts and members"): a node names its host, or belongs to the default
 * host ({@code ""}), whose PCIe fabric is the scenario's top-level {@code pcie}. Pure.
 */
public final class Hosts {
  /** The default host's name. */
  public static final String DEFAULT = "";

  private Hosts() {}

  public static String ofNode(Scenario s, String node) {
    return s.getNodesList().stream().filter(n -> n.getName().equals(node)).map(n -> n.getHost()).findFirst().orElse(DEFAULT);
  }

  public static String ofDevice(Scenario s, String device) {
    return s.getDevicesList().stream().filter(d -> d.getName().equals(device)).map(d -> ofNode(s, d.getNode())).findFirst().orElse(DEFAULT);
  }

  public static String ofProcess(Scenario s, String process) {
    return s.getProcessesList().stream().filter(p -> p.getName().equals(process)).map(p -> ofNode(s, p.getNode())).findFirst()
        .orElse(DEFAULT);
  }

  /** A host's PCIe fabric: the top-level section for the default host. */
  public static Pcie pcie(Scenario s, String host) {
    if (host.isEmpty()) {
      return s.getPcie();
    }
    return s.getHostsList().stream().filter(h -> h.getName().equals(host)).map(Host::getPcie).findFirst().orElse(Pcie.getDefaultInstance());
  }

  /** The scenario's devices on the host's nodes, in order. */
  public static List<String> devices(Scenario s, String host) {
    List<String> out = new ArrayList<>();
    for (Device d : s.getDevicesList()) {
      if (ofNode(s, d.getNode()).equals(host)) {
        out.add(d.getName());
      }
    }
    return out;
  }

  /** The hosts that have devices, in the order of their first device. */
  public static List<String> withDevices(Scenario s) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    s.getDevicesList().forEach(d -> out.add(ofNode(s, d.getNode())));
    return List.copyOf(out);
  }

  /**
   * The host whose fabric has a PCI function named {@code function}: a device's host, or the host whose {@code pcie}
   * lists it as an endpoint; the default host when none does.
   */
  public static String ofFunction(Scenario s, String function) {
    if (s.getDevicesList().stream().anyMatch(d -> d.getName().equals(function))) {
      return ofDevice(s, function);
    }
    for (Host h : s.getHostsList()) {
      if (h.getPcie().getEndpointsList().stream().anyMatch(e -> e.getName().equals(function))) {
        return h.getName();
      }
    }
    return DEFAULT;
  }

  /** How a host is named to people. */
  public static String describe(String host) {
    return host.isEmpty() ? "the default host" : "host " + host;
  }
}
