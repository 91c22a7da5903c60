package dev.fencelab.node.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.HostBridge;
import dev.fencelab.protocol.scenario.v1.PciEndpoint;
import dev.fencelab.protocol.scenario.v1.PciPort;
import dev.fencelab.protocol.scenario.v1.Pcie;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * dma-buf peer2peer (kernel-semantics §1.12 with §1.13): the exporter keeps {@code attach->peer2peer} only when the
 * importer allows it and the p2pdma distance is not negative; a mapping for an attachment without it is served from
 * system memory, the buffer moved out of VRAM first.
 */
class PeerToPeerDmaBufTest {
  private static final DeviceFixture fx = new DeviceFixture("p2p-dmabuf-test");
  private static int devices;

  /**
   * gpuA and gpuB under one switch; gpuC and gpuD on root ports of two unlisted host bridges (no P2P between them or
   * with the switch's GPUs).
   */
  private static final Pcie PCIE = Pcie.newBuilder()
      .addHostBridges(HostBridge.newBuilder().setName("skx").setVendor(0x8086).setDevice(0x2030))
      .addHostBridges(HostBridge.newBuilder().setName("odd0").setVendor(0x8086).setDevice(0x1234))
      .addHostBridges(HostBridge.newBuilder().setName("odd1").setVendor(0x8086).setDevice(0x1234))
      .addPorts(PciPort.newBuilder().setName("rp0").setKind("root_port").setParent("skx"))
      .addPorts(PciPort.newBuilder().setName("up").setKind("switch_upstream").setParent("rp0"))
      .addPorts(PciPort.newBuilder().setName("dn0").setKind("switch_downstream").setParent("up"))
      .addPorts(PciPort.newBuilder().setName("dn1").setKind("switch_downstream").setParent("up"))
      .addPorts(PciPort.newBuilder().setName("dn2").setKind("switch_downstream").setParent("up"))
      .addPorts(PciPort.newBuilder().setName("rp1").setKind("root_port").setParent("odd0"))
      .addPorts(PciPort.newBuilder().setName("rp2").setKind("root_port").setParent("odd1"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuA").setPort("dn0"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuB").setPort("dn1"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuS").setPort("dn2").setBar("512KiB")) // no resizable BAR
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuC").setPort("rp1"))
      .addEndpoints(PciEndpoint.newBuilder().setName("gpuD").setPort("rp2"))
      .build();

  @AfterAll
  static void close() {
    fx.close();
  }

  private static ActorRef<DriverProtocol.Command> gpu(String endpoint) {
    var d = fx.driver(DeviceSpec.gpu("g" + devices++));
    d.tell(new DriverProtocol.UsePcie(endpoint, PCIE, List.of(), null));
    return d;
  }

  private record Shared(ActorRef<DriverProtocol.Command> exporter, int handle, ActorRef<DriverProtocol.Command> importer, int imported) {}

  private static Shared share(String from, String to, boolean peer2peer) {
    var a = gpu(from);
    var b = gpu(to);
    int bo = fx.createBo(a, "p", "shared", 1 << 20);
    DriverProtocol.BoReply imp = fx.importBuf(b, "q", fx.export(a, "p", bo), true, peer2peer);
    assertEquals(0, imp.result());
    return new Shared(a, bo, b, imp.handle());
  }

  @Test
  void aPeerToPeerImporterUnderOneSwitchMapsTheBufferInVramThroughTheSwitch() {
    Shared s = share("gpuA", "gpuB", true);
    DriverProtocol.MapReply m = fx.map(s.importer(), "q", s.imported());
    assertEquals(0, m.result());
    assertFalse(m.system());
    assertEquals(0, m.migrated());
    assertEquals("bus_addr", m.route());
  }

  @Test
  void anImporterWithoutPeer2peerGetsSystemMemoryAndTheExporterMovesTheBufferFirst() {
    Shared s = share("gpuA", "gpuB", false);
    DriverProtocol.MapReply m = fx.map(s.importer(), "q", s.imported());
    assertEquals(0, m.result());
    assertTrue(m.system());
    assertEquals(1 << 20, m.migrated());
    assertTrue(m.migrateNanos() > 0, "the move out of VRAM costs model time");
    assertEquals("host_memory", m.route());
    assertEquals(DriverProtocol.Placement.SYSTEM, fx.state(s.exporter()).buffers().get(0).placement(), "the buffer left VRAM");
  }

  @Test
  void theExporterClearsPeer2peerWhenTheDistanceIsNegative() {
    Shared s = share("gpuC", "gpuD", true); // two unlisted host bridges: NOT_SUPPORTED, distance -1
    DriverProtocol.MapReply m = fx.map(s.importer(), "q", s.imported());
    assertEquals(0, m.result());
    assertTrue(m.system(), "peer2peer cleared: the mapping is system memory");
    assertEquals(1 << 20, m.migrated());
  }

  @Test
  void aBufferPinnedInVramCannotBeMappedForAnImporterWithoutPeer2peer() {
    var a = gpu("gpuA");
    var b = gpu("gpuB");
    var c = gpu("gpuC");
    int bo = fx.createBo(a, "p", "scanout", 1 << 20);
    DmaBufRef buf = fx.export(a, "p", bo);
    int p2p = fx.importBuf(b, "q", buf, true, true).handle();
    assertEquals(0, fx.call(r -> new DriverProtocol.Pin("q", p2p, true, r), b), "pinned by the P2P importer, in VRAM");
    int other = fx.importBuf(c, "r", buf, true, false).handle();
    assertEquals(Errno.EBUSY.negative(), fx.map(c, "r", other).result(), "it cannot move to system memory while pinned");
  }

  @Test
  void aPinWithAnAttachmentThatIsNotPeerToPeerPinsTheBufferInSystemMemory() {
    var a = gpu("gpuA");
    var b = gpu("gpuB");
    var c = gpu("gpuC");
    int bo = fx.createBo(a, "p", "shared", 1 << 20);
    DmaBufRef buf = fx.export(a, "p", bo);
    int p2p = fx.importBuf(b, "q", buf, true, true).handle();
    fx.importBuf(c, "r", buf, true, false);
    assertEquals(0, fx.call(r -> new DriverProtocol.Pin("q", p2p, true, r), b));
    DriverProtocol.MapReply m = fx.map(b, "q", p2p);
    assertTrue(m.system(), "pinned in GTT, not VRAM: every attachment can reach it");
    assertEquals(0, m.migrated(), "already moved by the pin");
  }

  @Test
  void aCopyFromAMigratedBufferWaitsForTheMoveThenReadsHostMemory() {
    Shared s = share("gpuA", "gpuB", false);
    DriverProtocol.MapReply m = fx.map(s.importer(), "q", s.imported());
    int out = fx.createBo(s.importer(), "q", "out", 1 << 20);
    var done = fx.await(fx.submitOk(s.importer(), "q", JobSpec.copy("pull", 0, new JobSpec.Copy(s.imported(), 0, out, 0, 1 << 20))));
    assertEquals(1, done.status().value(), "signalled without an error");
    // the move's fence is KERNEL in the shared resv: the copy starts after it, then takes 1 MiB over a 32 GB/s link
    assertTrue(done.status().modelNanos() >= m.migrateNanos() + (1 << 20) / 32, "ended at " + done.status().modelNanos());
  }

  @Test
  void aBufferLargerThanTheExportersBarIsServedFromSystemMemoryEvenToAPeerToPeerImporter() {
    Shared s = share("gpuS", "gpuB", true); // 1 MiB through a 512 KiB BAR
    DriverProtocol.MapReply m = fx.map(s.importer(), "q", s.imported());
    assertEquals(0, m.result());
    assertTrue(m.system());
    assertEquals(1 << 20, m.migrated());
  }
}
