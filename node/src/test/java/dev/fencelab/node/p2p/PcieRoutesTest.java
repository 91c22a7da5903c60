package dev.fencelab.node.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fencelab.protocol.scenario.v1.HostBridge;
import dev.fencelab.protocol.scenario.v1.PciEndpoint;
import dev.fencelab.protocol.scenario.v1.PciPort;
import dev.fencelab.protocol.scenario.v1.Pcie;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The path a transfer takes (kernel-semantics §1.13) and the figures of its links (§4: PCIe 4.0 x16 ≈ 32 GB/s). */
class PcieRoutesTest {
  /** gpuA, gpuB (gen 3 x8) under one switch (uplink gen 4 x16); gpuC on its own root port; gpuX, gpuY on unlisted bridges. */
  private static final Pcie PCIE = Pcie.newBuilder()
      .addHostBridges(HostBridge.newBuilder().setName("skx").setVendor(0x8086).setDevice(0x2030).setP2PBandwidth("20GB/s"))
      .addHostBridges(HostBridge.newBuilder().setName("odd0").setVendor(0x8086).setDevice(0x1234))
      .addHostBridges(HostBridge.newBuilder().setName("odd1").setVendor(0x8086).setDevice(0x1234))
      .addPorts(PciPort.newBuilder().setName("rp0").setKind("root_port").setParent("skx"))
      .addPorts(PciPort.newBuilder().setName("up").setKind("switch_upstream").setParent("rp0"))
      .addPorts(PciPort.newBuilder().setName("dn0").setKind("switch_downstream").setParent("up"))
      .addPorts(PciPort.newBuilder().setName("dn1").setKind("switch_downstream").setParent("up"))
      .addPorts(PciPort.newBuilder().setName("rp1").setKind("root_port").setParent("skx"))
      .addPorts(PciPort.newBuilder().setName("rp2").setKind("root_port").setParent("odd0"))
      .addPorts(PciPort.newBuilder().setName("rp3").setKind("root_port").setParent("odd1"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuA").setPort("dn0"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuB").setPort("dn1").setGen(3).setWidth(8))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuC").setPort("rp1"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuX").setPort("rp2"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuY").setPort("rp3"))
      .setLinkLatency("100ns")
      .build();
  private final PcieRoutes routes = new PcieRoutes(new P2pDma(PciTopology.of(PCIE, List.of())), PCIE);

  private static PcieRoutes.Location vram(String device) {
    return new PcieRoutes.Location(device);
  }

  @Test
  void aLinkOfGenerationFourAndSixteenLanesCarriesThirtyTwoGigabytesPerSecond() {
    assertEquals(32.0, PciTopology.linkRate(4, 16));
    assertEquals(8.0, PciTopology.linkRate(3, 8));
    assertEquals(64.0, PciTopology.linkRate(5, 16));
    assertEquals(32.0, PciTopology.linkRate(0, 0), "the default link");
  }

  @Test
  void aLinkOutsideTheSpecificationIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> PciTopology.linkRate(7, 16));
  }

  @Test
  void aCopyWithinOneDeviceStaysInItsMemory() {
    PcieRoutes.Route r = routes.route(vram("gpuA"), "gpuA", vram("gpuA"));
    assertEquals("local", r.kind());
    assertEquals(Map.of("vram:gpuA", 2), r.crossings());
    assertEquals(0, r.latencyNanos());
  }

  @Test
  void aReadOfAPeerUnderOneSwitchGoesUpItsLinkAndDownTheReaders() {
    PcieRoutes.Route r = routes.route(vram("gpuB"), "gpuA", vram("gpuA"));
    assertEquals("bus_addr", r.kind());
    assertEquals(Map.of("vram:gpuB", 1, "link:gpuB/up", 1, "link:gpuA/down", 1, "vram:gpuA", 1), r.crossings());
    assertEquals(200, r.latencyNanos(), "two links");
  }

  @Test
  void aTransferUnderOneSwitchIsLimitedByItsSlowestLink() {
    PcieRoutes.Route r = routes.route(vram("gpuB"), "gpuA", vram("gpuA"));
    assertEquals(200 + 1_000_000, routes.aloneNanos(r, 8_000_000), "gen 3 x8: 8 GB/s");
  }

  @Test
  void aPeerOnAnotherRootPortIsReachedThroughTheRootComplex() {
    PcieRoutes.Route r = routes.route(vram("gpuC"), "gpuA", vram("gpuA"));
    assertEquals("thru_host_bridge", r.kind());
    assertEquals(Map.of("vram:gpuC", 1, "link:gpuC/up", 1, "rc:skx", 1, "link:up/down", 1, "link:gpuA/down", 1, "vram:gpuA", 1),
        r.crossings());
    assertEquals(20.0, routes.capacity("rc:skx"), "the host bridge's P2P bandwidth");
  }

  @Test
  void aPairThatCannotDoPeerToPeerBouncesThroughHostMemory() {
    PcieRoutes.Route r = routes.route(vram("gpuY"), "gpuX", vram("gpuX"));
    assertEquals("bounce", r.kind());
    assertEquals(2, r.crossings().get("dram"), "written to DRAM and read back");
    assertEquals(1, r.crossings().get("link:gpuY/up"));
    assertEquals(1, r.crossings().get("link:gpuX/down"));
  }

  @Test
  void anImporterWithoutPeer2peerBouncesEvenWhereTheSwitchCouldRouteIt() {
    PcieRoutes.Route r = routes.route(new PcieRoutes.Location("gpuB", true), "gpuA", vram("gpuA"));
    assertEquals("bounce", r.kind());
  }

  @Test
  void hostMemoryIsReadOverTheEnginesChainToTheRoot() {
    PcieRoutes.Route r = routes.route(PcieRoutes.Location.HOST, "gpuA", vram("gpuA"));
    assertEquals("host_memory", r.kind());
    assertEquals(Map.of("dram", 1, "link:gpuA/down", 1, "link:up/down", 1, "vram:gpuA", 1), r.crossings());
  }

  @Test
  void aWriteToAPeerCrossesTheLinksUpwardFromTheEngine() {
    PcieRoutes.Route r = routes.route(vram("gpuA"), "gpuA", vram("gpuB"));
    assertEquals("bus_addr", r.kind());
    assertEquals(1, r.crossings().get("link:gpuA/up"));
    assertEquals(1, r.crossings().get("link:gpuB/down"));
  }

  @Test
  void aDeviceOutsideTheFabricHasNoRoute() {
    assertThrows(IllegalArgumentException.class, () -> routes.route(vram("gpuZ"), "gpuA", vram("gpuA")));
  }
}
