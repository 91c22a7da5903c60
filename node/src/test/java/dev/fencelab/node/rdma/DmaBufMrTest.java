package dev.fencelab.node.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.driver.DriverActor;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.driver.DriverSettings;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmActor;
import dev.fencelab.node.mm.MmProtocol;
import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * dma-buf MRs on a real GPU driver as exporter (serialize-messages on): ib_umem_dmabuf_get's range rule, the dynamic
 * importer's need for ODP, move_notify and the remap, the pinned variant holding the buffer in place, and the revoke
 * when the exporter's device goes.
 */
class DmaBufMrTest {
  private static final long PAGE = AddressSpace.PAGE;
  private static FenceFixture f;
  private static int n;

  @BeforeAll
  static void start() {
    f = new FenceFixture("dmabuf-mr", Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** A GPU with a filled buffer, a NIC (ODP or not) with a PD, a CQ and a QP connected to a second NIC whose MR is process memory. */
  private static final class Setup {
    final ActorRef<DriverProtocol.Command> gpu = f.testKit.spawn(DriverActor.create(new DeviceSpec("gpu" + n, DeviceSpec.Kind.GPU, 1, 1L << 30,
        true, false, Duration.ofSeconds(2)), "test/gpu" + n, f.services, f.containers(), DriverSettings.defaults()), "gpu-" + n++);
    final int bo;
    final ActorRef<Object> nic;
    final ActorRef<Object> peer = nic(true);
    final ActorRef<MmProtocol.Command> mm = f.testKit.spawn(MmActor.create("test/q" + n, 1 << 20, f.services), "mm-" + n++);
    final long dst;
    final long size;

    Setup(boolean odp, long size) {
      this(odp, size, false);
    }

    /** {@code keepsMapping}: the NIC has the move_notify_keeps_mapping bug. */
    Setup(boolean odp, long size, boolean keepsMapping) {
      this.size = size;
      nic = nic(odp, keepsMapping);
      TestProbe<DriverProtocol.BoReply> probe = f.testKit.createTestProbe();
      gpu.tell(new DriverProtocol.CreateBo("p", "frame", size, DriverProtocol.Placement.VRAM, probe.ref()));
      bo = probe.receiveMessage().handle();
      TestProbe<DriverProtocol.WriteAck> wrote = f.testKit.createTestProbe();
      gpu.tell(new DriverProtocol.WriteRange(bo, java.util.List.of(new dev.fencelab.node.memory.Chunk.Pattern(0, size, 42, 0)), 1,
          wrote.ref()));
      assertEquals(0, wrote.receiveMessage().result());
      for (ActorRef<Object> x : java.util.List.of(nic, peer)) {
        ok(x, r -> new RdmaProtocol.AllocPd("pd", r));
        ok(x, r -> new RdmaProtocol.CreateCq("cq", 64, r));
      }
      ok(nic, r -> new RdmaProtocol.CreateQp("qa", "pd", "cq", r));
      ok(peer, r -> new RdmaProtocol.CreateQp("qb", "pd", "cq", r));
      ok(nic, r -> new RdmaProtocol.ConnectQp("qa", peer, "qb", r));
      TestProbe<MmProtocol.Reply> mapped = f.testKit.createTestProbe();
      mm.tell(new MmProtocol.Mmap(0, size, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, mapped.ref()));
      dst = mapped.receiveMessage().ret();
      ok(peer, r -> new RdmaProtocol.RegMr("dst", "pd", "test/q", mm, dst, size, Verbs.LOCAL_WRITE | Verbs.REMOTE_WRITE, r));
    }

    RdmaProtocol.Reply reg(long offset, long length, boolean pinned) {
      return call(nic, r -> new RdmaProtocol.RegDmabufMr("frame", "pd", "test/p", gpu, bo, size, offset, length, Verbs.LOCAL_WRITE,
          pinned, r));
    }

    String write(String wr, long length) {
      ok(nic, r -> new RdmaProtocol.PostSend("qa", wr, Verbs.Opcode.WRITE, "frame", 0, length, "dst", 0, r));
      return call(nic, r -> new RdmaProtocol.PollCq("cq", 16, 1, Duration.ofSeconds(10), r)).out().get(wr);
    }

    int evict() {
      TestProbe<DriverProtocol.EvictReply> probe = f.testKit.createTestProbe();
      gpu.tell(new DriverProtocol.Evict(bo, probe.ref()));
      return probe.receiveMessage().result();
    }

    String gpuChecksum() {
      TestProbe<DriverProtocol.ChecksumReply> probe = f.testKit.createTestProbe();
      gpu.tell(new DriverProtocol.Checksum(bo, probe.ref()));
      return probe.receiveMessage().checksum();
    }

    String dstChecksum(long length) {
      TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
      mm.tell(new MmProtocol.CpuAccess(dst, length, false, 0, probe.ref()));
      return probe.receiveMessage().out().get("checksum");
    }
  }

  private static ActorRef<Object> nic(boolean odp) {
    return nic(odp, false);
  }

  private static ActorRef<Object> nic(boolean odp, boolean keepsMapping) {
    RdmaNic.Params p = new RdmaNic.Params("nic" + n, "test/nic" + n, odp, 12.5, 2_000, 5_000, 60_000, Duration.ofSeconds(10));
    return f.testKit.spawn(RdmaNic.create(keepsMapping ? p.keepingMappingsOnMoveNotify() : p), "nic-" + n++);
  }

  private static RdmaProtocol.Reply call(ActorRef<Object> nic, Function<ActorRef<RdmaProtocol.Reply>, Object> message) {
    TestProbe<RdmaProtocol.Reply> probe = f.testKit.createTestProbe();
    nic.tell(message.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(15));
  }

  private static void ok(ActorRef<Object> nic, Function<ActorRef<RdmaProtocol.Reply>, Object> message) {
    RdmaProtocol.Reply reply = call(nic, message);
    assertEquals(0, reply.ret(), reply.detail());
  }

  @Test
  void aRangePastThePageAlignedDmaBufIsEINVAL() {
    Setup s = new Setup(true, 6000);
    assertEquals(-22, s.reg(0, 2 * PAGE + 1, false).ret());
    assertEquals(0, s.reg(0, 2 * PAGE, false).ret(), "PAGE_ALIGN(6000) is 8192: the whole last page is inside");
  }

  @Test
  void aDynamicDmaBufMrOnANicWithoutOdpIsEOPNOTSUPPButThePinnedOneIsNot() {
    Setup s = new Setup(false, 2 * PAGE);
    assertEquals(-95, s.reg(0, 4096, false).ret());
    assertEquals(0, s.reg(0, 4096, true).ret());
  }

  @Test
  void aWriteFromADmaBufMrMovesTheExportersBytes() {
    Setup s = new Setup(true, 2 * PAGE);
    assertEquals(0, s.reg(0, 2 * PAGE, false).ret());
    assertEquals("success", s.write("w", 2 * PAGE));
    assertEquals(s.gpuChecksum(), s.dstChecksum(2 * PAGE));
  }

  @Test
  void afterMoveNotifyTheNextAccessMapsAgainAndMovesTheSameBytes() {
    Setup s = new Setup(true, 2 * PAGE);
    assertEquals(0, s.reg(0, 2 * PAGE, false).ret());
    assertEquals("success", s.write("w1", 2 * PAGE));
    assertEquals(0, s.evict(), "a dynamic importer does not keep the buffer in place");
    assertEquals("success", s.write("w2", 2 * PAGE));
    assertEquals(s.gpuChecksum(), s.dstChecksum(2 * PAGE));
  }

  @Test
  void aPinnedDmaBufMrKeepsTheBufferInPlace() {
    Setup s = new Setup(false, 2 * PAGE);
    assertEquals(0, s.reg(0, 2 * PAGE, true).ret());
    assertEquals(-16, s.evict());
  }

  @Test
  void aRevokedDmaBufMrFailsEveryAccess() {
    Setup s = new Setup(true, 2 * PAGE);
    assertEquals(0, s.reg(0, 2 * PAGE, false).ret());
    TestProbe<DriverProtocol.UnplugReport> unplugged = f.testKit.createTestProbe();
    s.gpu.tell(new DriverProtocol.Unplug(unplugged.ref()));
    assertEquals(1, unplugged.receiveMessage().importersRevoked());
    assertEquals("loc_prot_err", s.write("w", 2 * PAGE));
  }

  @Test
  void aDmaBufMrWhoseExporterDiesIsRevoked() {
    Setup s = new Setup(true, 2 * PAGE);
    assertEquals(0, s.reg(0, 2 * PAGE, false).ret());
    f.testKit.stop(s.gpu, Duration.ofSeconds(5)); // its member gone: the death watch tells the NIC
    assertEquals("loc_prot_err", s.write("w", 2 * PAGE));
  }

  @Test
  void aNicWhoseMoveNotifyKeepsItsMappingWritesFromFreedMemoryAndThatIsDmaAfterFree() {
    Setup s = new Setup(true, 2 * PAGE, true);
    assertEquals(0, s.reg(0, 2 * PAGE, false).ret());
    assertEquals("success", s.write("mapped", 2 * PAGE));
    TestProbe<DriverProtocol.UnplugReport> unplugged = f.testKit.createTestProbe();
    s.gpu.tell(new DriverProtocol.Unplug(unplugged.ref()));
    unplugged.receiveMessage();

    int[] attempt = {0};
    f.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> { // until the exporter freed it, the gone device refuses the DMA
      String qp = "retry" + attempt[0]++;
      ok(s.nic, r -> new RdmaProtocol.CreateCq(qp, 4, r));
      ok(s.nic, r -> new RdmaProtocol.CreateQp(qp, "pd", qp, r));
      ok(s.peer, r -> new RdmaProtocol.CreateQp(qp, "pd", "cq", r));
      ok(s.nic, r -> new RdmaProtocol.ConnectQp(qp, s.peer, qp, r));
      ok(s.nic, r -> new RdmaProtocol.PostSend(qp, "w", Verbs.Opcode.WRITE, "frame", 0, 2 * PAGE, "dst", 0, r));
      assertEquals("success", call(s.nic, r -> new RdmaProtocol.PollCq(qp, 1, 1, Duration.ofSeconds(10), r)).out().get("w"),
          "the hardware cannot tell that the memory behind its mapping was freed");
      return null;
    });
    assertTrue(f.expectViolation(dev.fencelab.node.check.Violation.Kind.DMA_AFTER_FREE).detail().contains("after its exporter freed it"));
  }
}
