package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.HostBridge;
import dev.fencelab.protocol.scenario.v1.Pcie;
import dev.fencelab.protocol.scenario.v1.PciEndpoint;
import dev.fencelab.protocol.scenario.v1.PciPort;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

class TopologyDrawingTest {
  private static final long MIB = 1 << 20;

  /** skx - rp0 - a gen5 x8 switch (sw-up) with gpuA under sw-dn0 and gpuB under sw-dn1 (ACS redirect). */
  private static final Pcie SWITCHED = Pcie.newBuilder()
      .addHostBridges(HostBridge.newBuilder().setName("skx").setVendor(0x8086).setDevice(0x2030))
      .addPorts(port("rp0", "root_port", "skx"))
      .addPorts(port("sw-up", "switch_upstream", "rp0").setGen(5).setWidth(8))
      .addPorts(port("sw-dn0", "switch_downstream", "sw-up"))
      .addPorts(port("sw-dn1", "switch_downstream", "sw-up").setAcsRedirect(true))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuA").setPort("sw-dn0"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuB").setPort("sw-dn1"))
      .build();

  private static PciPort.Builder port(String name, String kind, String parent) {
    return PciPort.newBuilder().setName(name).setKind(kind).setParent(parent);
  }

  private static Scenario scenario(Pcie pcie, Device... devices) {
    return Scenario.newBuilder().setName("t").setPcie(pcie).addAllDevices(List.of(devices)).build();
  }

  private static Device device(String name, String node, String kind) {
    return Device.newBuilder().setName(name).setNode(node).setKind(kind).build();
  }

  private static TraceEvent transfer(long bytes, String detail) {
    return TraceEvent.newBuilder().setKind(EventKind.MARK).setName("pcie transfer").setNode("n1").setSubject("t1").setBytes(bytes)
        .setDetail(detail).build();
  }

  private static Document parse(String svg) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
  }

  /** Every text element of the drawing, parsed as XML (so every test also proves the output well-formed). */
  private static List<Element> texts(String svg) throws Exception {
    NodeList nodes = parse(svg).getElementsByTagName("text");
    List<Element> out = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      out.add((Element) nodes.item(i));
    }
    return out;
  }

  private static List<String> words(String svg) throws Exception {
    return texts(svg).stream().map(Element::getTextContent).toList();
  }

  private static int y(String svg, String text) throws Exception {
    return Integer.parseInt(texts(svg).stream().filter(t -> t.getTextContent().equals(text)).findFirst().orElseThrow().getAttribute("y"));
  }

  @Test
  void aSwitchTopologyDrawsEveryBridgePortAndEndpointWithItsLinks() throws Exception {
    List<String> words = words(TopologyDrawing.svg(scenario(SWITCHED), List.of()));
    for (String w : List.of("host memory (DRAM)", "skx", "host bridge 8086:2030", "rp0", "root port", "sw-up", "switch upstream", "sw-dn0",
        "sw-dn1", "switch downstream", "gpuA", "gpuB", "gen5 x8")) {
      assertTrue(words.contains(w), w + " in " + words);
    }
    assertEquals(2, words.stream().filter("gen4 x16"::equals).count(), "one link per endpoint: " + words);
  }

  @Test
  void aLinkThatCarriedATransferShowsItsBytesInTheDirectionTheyWent() throws Exception {
    String svg = TopologyDrawing.svg(scenario(SWITCHED), List.of(transfer(64 * MIB,
        "bus_addr link:gpuA/up,link:gpuB/down,vram:gpuA,vram:gpuB | gpuA -> gpuB (switch sw-up) => vram:gpuB")));
    List<String> words = words(svg);
    assertTrue(words.contains("↑ 64 MiB ↓ 0"), "gpuA's link carried it up: " + words);
    assertTrue(words.contains("↑ 0 ↓ 64 MiB"), "gpuB's link carried it down: " + words);
    assertTrue(words.contains("vram 64 MiB"), words.toString());
  }

  @Test
  void onlyTheLinksThatCarriedTrafficAreDrawnInTheLoadColour() throws Exception {
    String svg = TopologyDrawing.svg(scenario(SWITCHED), List.of(transfer(MIB, "bus_addr link:gpuA/up,link:gpuB/down | gpuA -> gpuB")));
    NodeList paths = parse(svg).getElementsByTagName("path");
    int hot = 0;
    for (int i = 0; i < paths.getLength(); i++) {
      hot += ((Element) paths.item(i)).getAttribute("stroke").equals("#e07020") ? 1 : 0;
    }
    assertEquals(2, hot);
  }

  @Test
  void bytesThroughARootComplexAndHostMemoryAreShownOnTheirBoxes() throws Exception {
    String svg = TopologyDrawing.svg(scenario(SWITCHED), List.of(
        transfer(1024 * MIB, "thru_host_bridge link:gpuA/up,link:sw-up/up,rc:skx,link:sw-up/down,link:gpuB/down | gpuA -> gpuB"),
        transfer(4096, "host_memory dram,link:sw-up/down,link:gpuA/down | dram -> gpuA")));
    List<String> words = words(svg);
    assertTrue(words.contains("P2P via root complex 1 GiB"), words.toString());
    assertTrue(words.contains("traffic 4 KiB"), words.toString());
    assertTrue(words.contains("↑ 1 GiB ↓ 1 GiB"), "the switch's uplink both ways: " + words);
  }

  @Test
  void aScenarioDeviceThePcieSectionDoesNotPlaceIsDrawnBehindItsOwnRootPortOnTheDefaultHostBridge() throws Exception {
    Scenario s = scenario(SWITCHED, device("gpuA", "n1", "gpu"), device("nic0", "n2", "rdma_nic"));
    String svg = TopologyDrawing.svg(s, List.of());
    List<String> words = words(svg);
    assertTrue(words.contains("default-host-bridge") && words.contains("rp-nic0") && words.contains("rdma_nic on n2"), words.toString());
    assertTrue(y(svg, "default-host-bridge") < y(svg, "rp-nic0") && y(svg, "rp-nic0") < y(svg, "nic0"), "bridge, root port, device");
    assertTrue(words.contains("gpu on n1") && !words.contains("rp-gpuA"), "a placed device stays where the section puts it: " + words);
  }

  @Test
  void withoutAPcieSectionTheDevicesThatTransferredAreDrawnOnTheDefaultFabric() throws Exception {
    Scenario s = Scenario.newBuilder().setName("t").addDevices(device("g0", "n1", "gpu")).addDevices(device("g1", "n1", "gpu")).build();
    String svg = TopologyDrawing.svg(s, List.of(transfer(2 * MIB, "thru_host_bridge link:g0/up,rc:default-host-bridge,link:g1/down | g0 -> g1")));
    List<String> words = words(svg);
    assertTrue(words.containsAll(List.of("rp-g0", "rp-g1", "P2P via root complex 2 MiB", "↑ 2 MiB ↓ 0")), words.toString());
  }

  @Test
  void functionsOfOneSlotShareOneBoxAndOneLink() throws Exception {
    Pcie pcie = SWITCHED.toBuilder()
        .addEndpoints(PciEndpoint.newBuilder().setName("nvme0").setPort("sw-dn1").setSlot("nvme").setP2Pmem(true))
        .addEndpoints(PciEndpoint.newBuilder().setName("nvme1").setPort("sw-dn1").setSlot("nvme").setFunction(1).setGen(3).setWidth(4))
        .build();
    List<String> words = words(TopologyDrawing.svg(scenario(pcie), List.of()));
    assertTrue(words.containsAll(List.of("nvme", "fn0 nvme0 · p2pmem", "fn1 nvme1", "gen4 x16")), words.toString());
    assertEquals(4, words.stream().filter(w -> w.matches("gen\\d x\\d+")).count(), "gpuA, gpuB, the nvme slot and the uplink: " + words);
  }

  @Test
  void anAcsRedirectPortIsMarked() throws Exception {
    List<String> words = words(TopologyDrawing.svg(scenario(SWITCHED), List.of()));
    assertEquals(1, words.stream().filter("ACS"::equals).count());
  }

  @Test
  void namesAreXmlEscaped() throws Exception {
    Pcie pcie = Pcie.newBuilder().addHostBridges(HostBridge.newBuilder().setName("a<b&\"c'"))
        .addPorts(port("rp<0>", "root_port", "a<b&\"c'")).addEndpoints(PciEndpoint.newBuilder().setName("g&1").setPort("rp<0>")).build();
    String svg = TopologyDrawing.svg(scenario(pcie), List.of());
    assertTrue(svg.contains("a&lt;b&amp;&quot;c&apos;") && svg.contains("rp&lt;0&gt;") && svg.contains("g&amp;1"), svg);
    assertTrue(words(svg).containsAll(List.of("a<b&\"c'", "rp<0>", "g&1")));
  }

  @Test
  void noPcieSectionAndNoTransfersDrawsNothing() {
    Scenario s = Scenario.newBuilder().setName("t").addDevices(device("g0", "n1", "gpu")).build();
    TraceEvent other = TraceEvent.newBuilder().setKind(EventKind.MARK).setName("something else").setBytes(1).build();
    assertEquals("", TopologyDrawing.svg(s, List.of(other)));
  }

  @Test
  void theDrawingIsAWellFormedSvgDocument() throws Exception {
    Element svg = parse(TopologyDrawing.svg(scenario(SWITCHED), List.of())).getDocumentElement();
    assertEquals("svg", svg.getTagName());
    assertEquals("http://www.w3.org/2000/svg", svg.getAttribute("xmlns"));
    assertTrue(Integer.parseInt(svg.getAttribute("width")) > 0 && Integer.parseInt(svg.getAttribute("height")) > 0);
  }

  @Test
  void theSameRunDrawsTheSameString() {
    List<TraceEvent> events = List.of(transfer(MIB, "bus_addr link:gpuA/up,link:gpuB/down | gpuA -> gpuB"));
    Scenario s = scenario(SWITCHED, device("x", "n1", "gpu"), device("y", "n2", "gpu"));
    assertEquals(TopologyDrawing.svg(s, events), TopologyDrawing.svg(Scenario.newBuilder(s).build(), List.copyOf(events)));
  }

  @Test
  void theReportShowsTheDrawingInlineAndNoImageWhenNothingCompleted(@TempDir Path dir) throws Exception {
    RunRecord record = RunRecord.newBuilder().setScenario("t")
        .addEvents(transfer(MIB, "bus_addr link:gpuA/up,link:gpuB/down | gpuA -> gpuB")).build();
    RunReport.write(scenario(SWITCHED), record, dir);
    String html = Files.readString(dir.resolve("report.html"));
    assertTrue(html.contains("<h2>PCIe topology</h2><div class=\"wide\"><svg xmlns="), html);
    assertFalse(html.contains("data:image/svg+xml;base64,"), "no latency plot, so no image");
  }

  @Test
  void eachHostIsDrawnWithItsOwnDevicesAndOnlyTheTransfersOfItsMembers() throws Exception {
    Scenario two = Scenario.newBuilder().setName("t")
        .addHosts(dev.fencelab.protocol.scenario.v1.Host.newBuilder().setName("a"))
        .addHosts(dev.fencelab.protocol.scenario.v1.Host.newBuilder().setName("b"))
        .addNodes(dev.fencelab.protocol.scenario.v1.Node.newBuilder().setName("n1").setHost("a"))
        .addNodes(dev.fencelab.protocol.scenario.v1.Node.newBuilder().setName("n2").setHost("b"))
        .addDevices(device("gpuA", "n1", "gpu")).addDevices(device("gpuB", "n2", "gpu")).build();
    TraceEvent onA = transfer(64 * MIB, "host_memory dram,link:gpuA/down,vram:gpuA | dram -> gpuA");
    var drawings = TopologyDrawing.svgs(two, List.of(onA));
    assertEquals(List.of("a"), List.copyOf(drawings.keySet()), "host b moved nothing and has no pcie section");
    List<String> a = words(drawings.get("a"));
    assertTrue(a.contains("gpuA") && !a.contains("gpuB"), a.toString());
  }
}
