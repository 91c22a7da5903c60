package dev.fencelab.node.p2p;

import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;

/**
 * The p2pdma queries as steps (kernel-semantics §1.13) over the fabric the request carries: {@code p2p_distance}
 * ({@code pci_p2pdma_distance_many}, with each client's map type, distance and ACS hint) and {@code p2p_find}
 * ({@code pci_p2pmem_find_many}). The fabric's results are cached per run on this node, as the kernel caches them per
 * (provider, client).
 */
public final class P2pSteps implements StepHandler {
  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.P2P_DISTANCE, Step.ActionCase.P2P_FIND);
  }

  /** The run's fabric routes on this node (built once per run from the request's {@code pcie} section). */
  public static PcieRoutes routes(StepCall call) {
    String key = "pcie-routes:" + fabricKey(call);
    PcieRoutes routes = call.localOrNull(key, PcieRoutes.class);
    if (routes == null) {
      try {
        routes = new PcieRoutes(dma(call), call.pcie());
      } catch (IllegalArgumentException e) {
        throw new StepFailure(Errno.EINVAL, e.getMessage());
      }
      call.bindLocal(key, routes);
    }
    return routes;
  }

  /** One host's fabric per run on this node: the section and its devices name it (several hosts may share a node). */
  private static String fabricKey(StepCall call) {
    return Integer.toHexString(call.pcie().hashCode()) + "/" + Integer.toHexString(call.devices().hashCode());
  }

  private static P2pDma dma(StepCall call) {
    String key = "p2pdma:" + fabricKey(call);
    P2pDma dma = call.localOrNull(key, P2pDma.class);
    if (dma == null) {
      try {
        dma = new P2pDma(PciTopology.of(call.pcie(), call.devices()));
      } catch (IllegalArgumentException e) {
        throw new StepFailure(Errno.EINVAL, e.getMessage());
      }
      call.bindLocal(key, dma);
    }
    return dma;
  }

  private static PciTopology.Endpoint function(P2pDma dma, String name) {
    PciTopology.Endpoint e = dma.topology().endpoint(name);
    if (e == null) {
      throw new StepFailure(Errno.ENOENT, "no PCI function or device named '" + name + "' in the fabric");
    }
    return e;
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    P2pDma dma = dma(call);
    return switch (step.getActionCase()) {
      case P2P_DISTANCE -> {
        var d = step.getP2PDistance();
        PciTopology.Endpoint provider = function(dma, d.getProvider());
        if (!provider.pci()) {
          throw new StepFailure(Errno.EINVAL, "provider '" + d.getProvider() + "' is not a PCI device");
        }
        StepResult.Builder b = StepCall.ret(0);
        StringBuilder detail = new StringBuilder();
        for (String c : d.getClientsList()) {
          PciTopology.Endpoint client = function(dma, c);
          if (!client.pci()) {
            b.putOut("map:" + c, "not_pci");
            detail.append(c).append(": not a PCI device; ");
            continue;
          }
          P2pDma.Path path = dma.path(d.getProvider(), c);
          b.putOut("map:" + c, path.map().name().toLowerCase(Locale.ROOT)).putOut("dist:" + c, Integer.toString(path.distance()));
          detail.append(c).append(": ").append(path.map().name().toLowerCase(Locale.ROOT)).append(" dist ").append(path.distance());
          if (!path.acsRedirects().isEmpty()) {
            b.putOut("acs:" + c, String.join(";", path.acsRedirects()));
            detail.append(" (ACS redirect: pci=disable_acs_redir=").append(String.join(";", path.acsRedirects())).append(")");
          }
          detail.append("; ");
        }
        int distance = dma.distanceMany(d.getProvider(), d.getClientsList());
        yield StepCall.done(b.setValue(StepCall.number(distance)).setDetail("pci_p2pdma_distance_many(" + d.getProvider() + ") = "
            + distance + (detail.length() == 0 ? "" : ": " + detail.substring(0, detail.length() - 2))));
      }
      case P2P_FIND -> {
        var f = step.getP2PFind();
        f.getClientsList().forEach(c -> function(dma, c));
        P2pDma.Found found = dma.findMany(f.getClientsList(), call.seed());
        StepResult.Builder b = StepCall.ret(0).putOut("provider", found.provider() == null ? "" : found.provider())
            .putOut("distance", Integer.toString(found.distance()));
        yield StepCall.done(b.setValue(found.provider() == null ? Value.newBuilder().setNull(true).build() : StepCall.number(found.distance()))
            .setDetail("pci_p2pmem_find_many = " + (found.provider() == null ? "none" : found.provider() + " (distance " + found.distance() + ")")));
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a p2pdma step: " + step.getActionCase());
    };
  }
}
