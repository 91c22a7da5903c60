package dev.fencelab.node.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.p2p.P2pDma.MapType;
import dev.fencelab.protocol.scenario.v1.HostBridge;
import dev.fencelab.protocol.scenario.v1.Pcie;
import dev.fencelab.protocol.scenario.v1.PciEndpoint;
import dev.fencelab.protocol.scenario.v1.PciPort;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** drivers/pci/p2pdma.c's distance rules (kernel-semantics §1.13), one rule per test, with the kernel's values. */
class P2pDmaTest {
  private static HostBridge bridge(String name, int device) {
    return HostBridge.newBuilder().setName(name).setVendor(0x8086).setDevice(device).build();
  }

  private static PciPort port(String name, String kind, String parent, boolean acs) {
    return PciPort.newBuilder().setName(name).setKind(kind).setParent(parent).setAcsRedirect(acs).build();
  }

  private static PciEndpoint ep(String name, String port) {
    return PciEndpoint.newBuilder().setName(name).setPort(port).setP2Pmem(true).build();
  }

  /** hb (device id {@code hbDevice}) → rp0 → switch (up, dn0, dn1); rp1 and rp2 directly on hb; a second bridge hb2 → rp9. */
  private static Pcie.Builder fabric(int hbDevice, boolean acsOnDn1) {
    return Pcie.newBuilder().addHostBridges(bridge("hb", hbDevice)).addHostBridges(bridge("hb2", hbDevice))
        .addPorts(port("rp0", "root_port", "hb", false)).addPorts(port("up", "switch_upstream", "rp0", false))
        .addPorts(port("dn0", "switch_downstream", "up", false)).addPorts(port("dn1", "switch_downstream", "up", acsOnDn1))
        .addPorts(port("rp1", "root_port", "hb", false)).addPorts(port("rp2", "root_port", "hb", false))
        .addPorts(port("rp9", "root_port", "hb2", false))
        .addEndpoints(ep("a", "dn0")).addEndpoints(ep("b", "dn1"))
        .addEndpoints(ep("f0", "dn0").toBuilder().setSlot("dev").setFunction(0).build())
        .addEndpoints(ep("f1", "dn0").toBuilder().setSlot("dev").setFunction(1).build())
        .addEndpoints(ep("c", "rp1")).addEndpoints(ep("d", "rp2")).addEndpoints(ep("e", "rp9"));
  }

  private static P2pDma dma(Pcie.Builder pcie) {
    return new P2pDma(PciTopology.of(pcie.build(), List.of()));
  }

  @Test
  void theSameFunctionIsDistanceZeroByBusAddress() {
    P2pDma.Path p = dma(fabric(0x2030, false)).path("a", "a");
    assertEquals(MapType.BUS_ADDR, p.map());
    assertEquals(0, p.distance());
  }

  @Test
  void twoFunctionsOfOneDeviceAreDistanceTwo() {
    assertEquals(new P2pDma.Path(MapType.BUS_ADDR, 2, List.of()), dma(fabric(0x2030, false)).path("f0", "f1"));
  }

  @Test
  void twoDevicesUnderOneSwitchAreDistanceFourByBusAddress() {
    assertEquals(new P2pDma.Path(MapType.BUS_ADDR, 4, List.of()), dma(fabric(0x2030, false)).path("a", "b"));
  }

  @Test
  void anAcsRedirectOnThePathFallsBackToTheHostBridgeAndNamesTheBridge() {
    P2pDma.Path p = dma(fabric(0x2030, true)).path("a", "b");
    assertEquals(MapType.THRU_HOST_BRIDGE, p.map());
    assertEquals(4, p.distance());
    assertEquals(List.of("dn1"), p.acsRedirects());
  }

  @Test
  void anAcsRedirectUnderANonWhitelistedHostBridgeIsNotSupported() {
    assertEquals(MapType.NOT_SUPPORTED, dma(fabric(0x1234, true)).path("a", "b").map());
  }

  @Test
  void differentRootPortsOfAWhitelistedHostBridgeGoThroughIt() {
    assertEquals(new P2pDma.Path(MapType.THRU_HOST_BRIDGE, 4, List.of()), dma(fabric(0x2030, false)).path("c", "d"));
    assertEquals(6, dma(fabric(0x2030, false)).path("a", "c").distance(), "a → dn0 → up → rp0, then rp1 → c");
  }

  @Test
  void differentRootPortsOfAnUnlistedHostBridgeAreNotSupported() {
    P2pDma dma = dma(fabric(0x1234, false));
    assertEquals(MapType.NOT_SUPPORTED, dma.path("c", "d").map());
    assertEquals(-1, dma.distanceMany("c", List.of("d")));
  }

  @Test
  void anAmdZenCpuRoutesThroughItsRootComplexWhateverTheHostBridge() {
    assertEquals(MapType.THRU_HOST_BRIDGE, dma(fabric(0x1234, false).setCpuVendor("amd").setCpuFamily(0x17)).path("c", "d").map());
    assertEquals(MapType.NOT_SUPPORTED, dma(fabric(0x1234, false).setCpuVendor("amd").setCpuFamily(0x16)).path("c", "d").map());
    assertEquals(MapType.NOT_SUPPORTED, dma(fabric(0x1234, false).setCpuVendor("intel").setCpuFamily(0x19)).path("c", "d").map());
  }

  @Test
  void aSameHostBridgeEntryAllowsOneBridgeButNotTwo() {
    P2pDma dma = dma(fabric(0x3c00, false));
    assertEquals(MapType.THRU_HOST_BRIDGE, dma.path("c", "d").map());
    assertEquals(MapType.NOT_SUPPORTED, dma.path("c", "e").map(), "0x3c00 needs both devices under the same host bridge");
    assertEquals(MapType.THRU_HOST_BRIDGE, dma(fabric(0x2030, false)).path("c", "e").map(), "0x2030 does not");
  }

  @Test
  void distanceManyIsTheSumOrMinusOne() {
    P2pDma dma = dma(fabric(0x1234, false));
    assertEquals(-1, dma.distanceMany("a", List.of()), "no clients");
    assertEquals(4 + 2, dma.distanceMany("a", List.of("b", "f0")));
    assertEquals(-1, dma.distanceMany("a", List.of("b", "c")), "one pair not supported");
  }

  @Test
  void aClientThatIsNotAPciDeviceMakesDistanceManyMinusOne() {
    P2pDma dma = dma(fabric(0x2030, false).addEndpoints(ep("plat", "dn0").toBuilder().setBus("platform").build()));
    assertEquals(-1, dma.distanceMany("a", List.of("b", "plat")));
  }

  @Test
  void findManyPicksThePublishedProviderClosestToAllClients() {
    Pcie.Builder f = fabric(0x2030, false);
    f.setEndpoints(0, ep("a", "dn0").toBuilder().setP2Pmem(false).build()); // a does not publish
    P2pDma.Found found = dma(f).findMany(List.of("f0", "f1"), 1);
    assertTrue(found.provider().equals("f0") || found.provider().equals("f1"), found.toString());
    assertEquals(2, found.distance(), "f0 to itself 0 + to f1 2 (or the reverse)");
  }

  @Test
  void findManyBreaksTiesBySeedAndReproducibly() {
    P2pDma dma = dma(fabric(0x2030, false));
    String first = dma.findMany(List.of("f0", "f1"), 7).provider();
    assertEquals(first, dma.findMany(List.of("f0", "f1"), 7).provider());
    boolean both = false;
    for (long seed = 0; seed < 32 && !both; seed++) {
      both = !dma.findMany(List.of("f0", "f1"), seed).provider().equals(first);
    }
    assertTrue(both, "both tied providers are chosen for some seed");
  }

  @Test
  void findManyWithoutAPublishedProviderFindsNone() {
    Pcie.Builder f = Pcie.newBuilder().addHostBridges(bridge("hb", 0x2030)).addPorts(port("rp", "root_port", "hb", false))
        .addEndpoints(PciEndpoint.newBuilder().setName("x").setPort("rp"));
    assertNull(dma(f).findMany(List.of("x"), 1).provider());
  }

  @Test
  void devicesTheFabricDoesNotPlaceSitBehindRootPortsOfTheirOwnOnAWhitelistedBridge() {
    P2pDma dma = new P2pDma(PciTopology.of(Pcie.getDefaultInstance(), List.of("gpuA", "gpuB")));
    assertEquals(new P2pDma.Path(MapType.THRU_HOST_BRIDGE, 4, List.of()), dma.path("gpuA", "gpuB"));
  }

  @Test
  void aPairsResultIsCached() {
    P2pDma dma = dma(fabric(0x2030, false));
    assertSame(dma.path("a", "b"), dma.path("a", "b"));
  }

  @Test
  void aPortWithAnUnknownParentIsRefused() {
    Pcie bad = Pcie.newBuilder().addPorts(port("rp", "root_port", "nowhere", false)).addEndpoints(ep("x", "rp")).build();
    assertThrows(IllegalArgumentException.class, () -> PciTopology.of(bad, List.of()));
  }

  @ParameterizedTest(name = "8086:{0}")
  @ValueSource(ints = {0x3c00, 0x3c01, 0x2f00, 0x2f01, 0x2030, 0x2031, 0x2032, 0x2033, 0x2020, 0x09a2})
  void everyWhitelistedHostBridgeRoutesTwoOfItsRootPortsThroughIt(int device) {
    assertEquals(new P2pDma.Path(MapType.THRU_HOST_BRIDGE, 4, List.of()), dma(fabric(device, false)).path("c", "d"));
  }

  @ParameterizedTest(name = "8086:{0}")
  @ValueSource(ints = {0x3c00, 0x3c01, 0x2f00, 0x2f01})
  void theSameHostBridgeEntriesRefuseTwoBridges(int device) {
    assertEquals(MapType.NOT_SUPPORTED, dma(fabric(device, false)).path("c", "e").map());
  }

  @ParameterizedTest(name = "8086:{0}")
  @ValueSource(ints = {0x2030, 0x2031, 0x2032, 0x2033, 0x2020, 0x09a2})
  void theAnyHostBridgeEntriesAllowTwoBridges(int device) {
    assertEquals(MapType.THRU_HOST_BRIDGE, dma(fabric(device, false)).path("c", "e").map());
  }

  @ParameterizedTest(name = "8086:{0}")
  @ValueSource(ints = {0x3c02, 0x2034, 0x2021, 0x09a3, 0x0000})
  void aHostBridgeOutsideTheWhitelistIsNotSupported(int device) {
    assertEquals(MapType.NOT_SUPPORTED, dma(fabric(device, false)).path("c", "d").map());
  }
}
