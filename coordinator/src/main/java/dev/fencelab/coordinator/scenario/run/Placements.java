package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.Hosts;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Process;
import dev.fencelab.protocol.step.v1.Placement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * The run's set-up through the step protocol, in two rounds: every device and process on its node (at once), then
 * every buffer (its device's driver allocates it for its owning process, which needs both placed). Names on the
 * nodes carry the run's tag, so that runs sharing a cluster do not collide; the bindings keep the scenario's names.
 */
final class Placements {
  private final RunDirectory names;
  private final StepClient client;
  private final UnaryOperator<String> tagged;

  Placements(RunDirectory names, StepClient client, UnaryOperator<String> tagged) {
    this.names = names;
    this.client = client;
    this.tagged = tagged;
  }

  /**
   * Each host's PCIe fabric, on the node of its first device (none for a host without devices): the one place where
   * transfers of the host's devices on any node share links in model time. Placed before the devices, which are given it.
   */
  CompletableFuture<List<StepClient.Sent>> fabric() {
    List<CompletableFuture<StepClient.Sent>> placed = new ArrayList<>();
    var s = names.scenario();
    for (String host : Hosts.withDevices(s)) {
      String node = s.getDevicesList().stream().filter(d -> Hosts.ofNode(s, d.getNode()).equals(host)).findFirst().orElseThrow().getNode();
      Placement p = Placement.newBuilder().setPcieFabric(true).setAs(host).build();
      placed.add(client.place(node, p).toCompletableFuture());
    }
    return Futures.allOf(placed);
  }

  CompletableFuture<List<StepClient.Sent>> devicesAndProcesses() {
    List<CompletableFuture<StepClient.Sent>> placed = new ArrayList<>();
    for (Device d : names.scenario().getDevicesList()) {
      Placement p = Placement.newBuilder().setDevice(d.toBuilder().setName(tagged.apply(d.getName()))).setAs(d.getName()).build();
      placed.add(client.place(d.getNode(), p).toCompletableFuture());
    }
    for (Process pr : names.scenario().getProcessesList()) {
      Placement p = Placement.newBuilder().setProcess(pr.toBuilder().setName(tagged.apply(pr.getName()))).setAs(pr.getName())
          .setNodeMemory(names.nodeMemory(pr.getNode())).build();
      placed.add(client.place(pr.getNode(), p).toCompletableFuture());
    }
    return Futures.allOf(placed);
  }

  CompletableFuture<List<StepClient.Sent>> buffers() {
    List<CompletableFuture<StepClient.Sent>> created = new ArrayList<>();
    for (Buffer b : names.scenario().getBuffersList()) {
      Placement p = Placement.newBuilder().setBuffer(b).setAs(b.getName()).build();
      created.add(client.place(names.nodeOfDevice(b.getDevice()), p).toCompletableFuture());
    }
    return Futures.allOf(created);
  }

  /** Binds what the placements bound; returns their failures, joined ("" when all succeeded). */
  String apply(List<StepClient.Sent> placed) {
    List<String> errors = new ArrayList<>();
    for (StepClient.Sent s : placed) {
      if (s.result().getRet() != 0 || !s.result().getExecuted()) {
        errors.add(s.result().getDetail().isEmpty() ? "on " + s.node() + ": " + Errno.describe((int) s.result().getRet())
            : s.result().getDetail());
      } else {
        s.result().getBoundMap().forEach(names::bind);
      }
    }
    return String.join("; ", errors);
  }
}
