package dev.fencelab.node.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmActor;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.mm.MmuEvent;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two NICs and two address spaces in one test kit (serialize-messages on: every NIC-to-NIC and NIC-to-mm message
 * crosses protobuf): WRITE, READ and SEND/RECV moving the bytes, the completion statuses of the error paths, ODP
 * faults and zaps, and a dead peer.
 */
class RdmaNicTest {
  private static final long PAGE = AddressSpace.PAGE;
  private static final int RW = AddressSpace.PROT_READ | AddressSpace.PROT_WRITE;
  private static final int ALL = Verbs.LOCAL_WRITE | Verbs.REMOTE_WRITE | Verbs.REMOTE_READ;
  private static FenceFixture f;
  private static int n;

  @BeforeAll
  static void start() {
    f = new FenceFixture("rdma-nic", Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** Two connected NICs (a: requester side, b: responder side), each with a process, a PD, a CQ and a QP. */
  private static final class Pair {
    final ActorRef<Object> a = nic(true);
    final ActorRef<Object> b = nic(true);
    final ActorRef<MmProtocol.Command> mmA = mm();
    final ActorRef<MmProtocol.Command> mmB = mm();

    Pair() {
      ok(a, r -> new RdmaProtocol.AllocPd("pd", r));
      ok(b, r -> new RdmaProtocol.AllocPd("pd", r));
      ok(a, r -> new RdmaProtocol.CreateCq("cq", 64, r));
      ok(b, r -> new RdmaProtocol.CreateCq("cq", 64, r));
      ok(a, r -> new RdmaProtocol.CreateQp("qa", "pd", "cq", r));
      ok(b, r -> new RdmaProtocol.CreateQp("qb", "pd", "cq", r));
      ok(a, r -> new RdmaProtocol.ConnectQp("qa", b, "qb", r));
    }

    long region(ActorRef<MmProtocol.Command> mm, long length, long seed) {
      TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
      mm.tell(new MmProtocol.Mmap(0, length, RW, false, false, probe.ref()));
      long addr = probe.receiveMessage().ret();
      mm.tell(new MmProtocol.CpuAccess(addr, length, true, seed, probe.ref()));
      assertEquals(0, probe.receiveMessage().ret());
      return addr;
    }

    void reg(ActorRef<Object> nic, String mr, ActorRef<MmProtocol.Command> mm, long addr, long length, int access) {
      ok(nic, r -> new RdmaProtocol.RegMr(mr, "pd", "test/p", mm, addr, length, access, r));
    }

    void post(String wr, Verbs.Opcode op, String mr, long length, String remote) {
      ok(a, r -> new RdmaProtocol.PostSend("qa", wr, op, mr, 0, length, remote, 0, r));
    }

    RdmaProtocol.Reply poll(ActorRef<Object> nic, int min) {
      return call(nic, r -> new RdmaProtocol.PollCq("cq", 16, min, Duration.ofSeconds(10), r));
    }
  }

  private static ActorRef<Object> nic(boolean odp) {
    return f.testKit.spawn(RdmaNic.create(new RdmaNic.Params("nic" + n, "test/nic" + n, odp, 12.5, 2_000, 5_000, 60_000,
        Duration.ofSeconds(10))), "nic-" + n++);
  }

  private static ActorRef<MmProtocol.Command> mm() {
    return f.testKit.spawn(MmActor.create("test/p" + n, 1 << 20, f.services), "mm-" + n++);
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

  private static long checksum(ActorRef<MmProtocol.Command> mm, long addr, long length) {
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.CpuAccess(addr, length, false, 0, probe.ref()));
    return Long.parseLong(probe.receiveMessage().out().get("checksum").replaceAll("crc32c:([0-9a-f]+)/.*", "$1"), 16);
  }

  @Test
  void aWriteMovesTheBytesIntoTheRemoteProcesssMemory() {
    Pair p = new Pair();
    long len = 3 * RdmaNic.CHUNK + 1000; // several chunks, a window's worth of messages
    long src = p.region(p.mmA, len, 7);
    long dst = p.region(p.mmB, len, 1);
    p.reg(p.a, "src", p.mmA, src, len, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, len, ALL);
    p.post("w", Verbs.Opcode.WRITE, "src", len, "dst");
    RdmaProtocol.Reply done = p.poll(p.a, 1);
    assertEquals(Map.of("w", "success", "order", "w"), done.out());
    assertEquals(checksum(p.mmA, src, len), checksum(p.mmB, dst, len));
  }

  @Test
  void aReadBringsTheRemoteBytesIntoTheLocalMr() {
    Pair p = new Pair();
    long src = p.region(p.mmB, 64 * 1024, 3);
    long dst = p.region(p.mmA, 64 * 1024, 1);
    p.reg(p.b, "src", p.mmB, src, 64 * 1024, ALL);
    p.reg(p.a, "dst", p.mmA, dst, 64 * 1024, Verbs.LOCAL_WRITE);
    p.post("r", Verbs.Opcode.READ, "dst", 64 * 1024, "src");
    assertEquals("success", p.poll(p.a, 1).out().get("r"));
    assertEquals(checksum(p.mmB, src, 64 * 1024), checksum(p.mmA, dst, 64 * 1024));
  }

  @Test
  void aSendWaitsForAReceiveAndCompletesBothSides() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 8 * PAGE, 5);
    long dst = p.region(p.mmB, 16 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 8 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 16 * PAGE, Verbs.LOCAL_WRITE);
    p.post("s", Verbs.Opcode.SEND, "src", 8 * PAGE, "");
    assertEquals(0, call(p.a, r -> new RdmaProtocol.PollCq("cq", 16, 1, Duration.ofMillis(200), r)).ret(), "no receive posted yet");
    ok(p.b, r -> new RdmaProtocol.PostRecv("qb", "rv", "dst", 0, 16 * PAGE, r));
    assertEquals("success", p.poll(p.a, 1).out().get("s"));
    RdmaProtocol.Reply recv = p.poll(p.b, 1);
    assertEquals("success", recv.out().get("rv"));
    assertEquals(Long.toString(8 * PAGE), recv.out().get("bytes:rv"));
    assertEquals(checksum(p.mmA, src, 8 * PAGE), checksum(p.mmB, dst, 8 * PAGE));
  }

  @Test
  void aSendLongerThanItsReceiveIsLocLenErrThereAndRemInvReqErrHere() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 8 * PAGE, 5);
    long dst = p.region(p.mmB, 8 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 8 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 8 * PAGE, Verbs.LOCAL_WRITE);
    ok(p.b, r -> new RdmaProtocol.PostRecv("qb", "rv", "dst", 0, 4 * PAGE, r));
    p.post("s", Verbs.Opcode.SEND, "src", 8 * PAGE, "");
    assertEquals("rem_inv_req_err", p.poll(p.a, 1).out().get("s"));
    assertEquals("loc_len_err", p.poll(p.b, 1).out().get("rv"));
  }

  @Test
  void aWriteToAnMrWithoutRemoteWriteIsRemAccessErrAndFlushesTheWorkRequestsBehindIt() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    long dst = p.region(p.mmB, 4 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 4 * PAGE, Verbs.LOCAL_WRITE | Verbs.REMOTE_READ);
    long before = checksum(p.mmB, dst, 4 * PAGE);
    p.post("w1", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    p.post("w2", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    RdmaProtocol.Reply done = p.poll(p.a, 2);
    assertEquals("rem_access_err", done.out().get("w1"));
    assertEquals("wr_flush_err", done.out().get("w2"));
    assertEquals("w1,w2", done.out().get("order"));
    assertEquals(before, checksum(p.mmB, dst, 4 * PAGE));
  }

  @Test
  void aWritePastTheRemoteMrIsRemAccessErr() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    long dst = p.region(p.mmB, 4 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 2 * PAGE, ALL);
    p.post("w", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    assertEquals("rem_access_err", p.poll(p.a, 1).out().get("w"));
  }

  @Test
  void aReadIntoAnMrWithoutLocalWriteIsLocProtErr() {
    Pair p = new Pair();
    long src = p.region(p.mmB, 4 * PAGE, 5);
    long dst = p.region(p.mmA, 4 * PAGE, 1);
    p.reg(p.b, "src", p.mmB, src, 4 * PAGE, ALL);
    p.reg(p.a, "dst", p.mmA, dst, 4 * PAGE, Verbs.REMOTE_READ);
    p.post("r", Verbs.Opcode.READ, "dst", 4 * PAGE, "src");
    assertEquals("loc_prot_err", p.poll(p.a, 1).out().get("r"));
  }

  @Test
  void anOdpMrFaultsItsPagesInAndTheCallbackZapsThemWithoutWaiting() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    long dst = p.region(p.mmB, 4 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 4 * PAGE, ALL | Verbs.ON_DEMAND);
    p.post("w1", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    assertEquals("success", p.poll(p.a, 1).out().get("w1"));
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    p.mmB.tell(new MmProtocol.Change(MmProtocol.Change.Kind.DONTNEED, dst, 4 * PAGE, 0, probe.ref())); // CLEAR: the NIC zaps
    assertEquals(0, probe.receiveMessage().ret());
    p.mmA.tell(new MmProtocol.CpuAccess(src, 4 * PAGE, true, 11, probe.ref()));
    assertEquals(0, probe.receiveMessage().ret());
    p.post("w2", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    assertEquals("success", p.poll(p.a, 1).out().get("w2"));
    assertEquals(checksum(p.mmA, src, 4 * PAGE), checksum(p.mmB, dst, 4 * PAGE), "the write faulted the new pages in");
  }

  /** An mm whose hmm_range_fault keeps returning -EBUSY (an invalidation keeps racing it); counts the attempts. */
  private static ActorRef<MmProtocol.Command> busyMm(java.util.concurrent.atomic.AtomicInteger faults) {
    return f.testKit.spawn(org.apache.pekko.actor.typed.javadsl.Behaviors.receive(MmProtocol.Command.class)
        .onMessage(MmProtocol.NotifierInsert.class, m -> {
          m.replyTo().tell(new MmProtocol.Inserted(0, 1, 2));
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        })
        .onMessage(MmProtocol.ReadBegin.class, m -> {
          m.replyTo().tell(new MmProtocol.Result(0, 2));
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        })
        .onMessage(MmProtocol.RangeFault.class, m -> {
          faults.incrementAndGet();
          m.replyTo().tell(new MmProtocol.Faulted(-16, java.util.List.of(), 0)); // -EBUSY
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        })
        .build(), "busy-mm-" + n++);
  }

  @Test
  void anOdpFaultRetriesEbusyForHmmRangeDefaultTimeoutThenFailsTheAccess() {
    Pair p = new Pair();
    java.util.concurrent.atomic.AtomicInteger faults = new java.util.concurrent.atomic.AtomicInteger();
    ActorRef<MmProtocol.Command> busy = busyMm(faults);
    long src = p.region(p.mmA, 4 * PAGE, 5);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", busy, 0x7f00_0000_0000L, 4 * PAGE, ALL | Verbs.ON_DEMAND);
    p.post("w", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    assertEquals("rem_access_err", p.poll(p.a, 1).out().get("w"), "the responder's fault failed: the requester sees the access error");
    assertTrue(faults.get() > 1, "hmm_range_fault was retried on -EBUSY: " + faults.get() + " attempt(s)");
  }

  @Test
  void aNonBlockableInvalidationOfAnOdpMrIsEAGAIN() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    long dst = p.region(p.mmB, 4 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 4 * PAGE, ALL | Verbs.ON_DEMAND);
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    p.mmB.tell(new MmProtocol.InvalidateRange(dst, dst + 4 * PAGE, MmuEvent.UNMAP, false, "", probe.ref()));
    assertEquals(-11, probe.receiveMessage().ret());
  }

  @Test
  void anOdpMrOfAnExitedProcessFailsTheAccess() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    long dst = p.region(p.mmB, 4 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 4 * PAGE, ALL | Verbs.ON_DEMAND);
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    p.mmB.tell(new MmProtocol.Change(MmProtocol.Change.Kind.EXIT, 0, 0, 0, probe.ref()));
    assertEquals(0, probe.receiveMessage().ret());
    p.post("w", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    assertEquals("rem_access_err", p.poll(p.a, 1).out().get("w"));
  }

  @Test
  void anOnDemandRegistrationOnANicWithoutOdpIsEOPNOTSUPP() {
    ActorRef<Object> nic = nic(false);
    ActorRef<MmProtocol.Command> mm = mm();
    ok(nic, r -> new RdmaProtocol.AllocPd("pd", r));
    assertEquals(-95, call(nic, r -> new RdmaProtocol.RegMr("mr", "pd", "test/p", mm, 0x10000, PAGE, Verbs.ON_DEMAND, r)).ret());
  }

  @Test
  void aPeerThatNeverAcknowledgesEndsTheWorkRequestWithRetryExcErrAfterTheTransportTimeout() {
    ActorRef<Object> a = f.testKit.spawn(RdmaNic.create(new RdmaNic.Params("nic" + n, "test/nic" + n, true, 12.5, 2_000, 5_000, 60_000,
        Duration.ofMillis(600))), "nic-" + n++);
    ActorRef<Object> silent = f.testKit.spawn(org.apache.pekko.actor.typed.javadsl.Behaviors.receive(Object.class) // connects, then drops all
        .onMessage(RdmaProtocol.Connect.class, c -> {
          c.replyTo().tell(new RdmaProtocol.Connected(0, ""));
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        }).build(), "silent-" + n++);
    ActorRef<MmProtocol.Command> mm = mm();
    ok(a, r -> new RdmaProtocol.AllocPd("pd", r));
    ok(a, r -> new RdmaProtocol.CreateCq("cq", 16, r));
    ok(a, r -> new RdmaProtocol.CreateQp("qa", "pd", "cq", r));
    ok(a, r -> new RdmaProtocol.ConnectQp("qa", silent, "qb", r));
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Mmap(0, PAGE, RW, false, false, probe.ref()));
    long src = probe.receiveMessage().ret();
    ok(a, r -> new RdmaProtocol.RegMr("src", "pd", "test/p", mm, src, PAGE, Verbs.LOCAL_WRITE, r));
    long posted = System.nanoTime();
    ok(a, r -> new RdmaProtocol.PostSend("qa", "w", Verbs.Opcode.WRITE, "src", 0, PAGE, "dst", 0, r));

    RdmaProtocol.Reply done = call(a, r -> new RdmaProtocol.PollCq("cq", 16, 1, Duration.ofSeconds(10), r));
    assertEquals("retry_exc_err", done.out().get("w"));
    assertTrue(System.nanoTime() - posted >= 600_000_000L, "not before the timeout");
  }

  @Test
  void aDeadPeerEndsTheActiveWorkRequestWithRetryExcErrAndFlushesTheRest() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    f.testKit.stop(p.b, Duration.ofSeconds(5));
    p.post("w1", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    p.post("w2", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    RdmaProtocol.Reply done = p.poll(p.a, 2);
    assertEquals("retry_exc_err", done.out().get("w1"));
    assertEquals("wr_flush_err", done.out().get("w2"));
  }

  @Test
  void pollingAnEmptyCqReturnsZeroWhenItsWaitEnds() {
    Pair p = new Pair();
    RdmaProtocol.Reply none = call(p.a, r -> new RdmaProtocol.PollCq("cq", 16, 1, Duration.ofMillis(100), r));
    assertEquals(0, none.ret());
    assertTrue(none.out().get("order").isEmpty());
  }

  @Test
  void postingOnAQpThatIsNotConnectedIsEINVAL() {
    ActorRef<Object> nic = nic(true);
    ok(nic, r -> new RdmaProtocol.AllocPd("pd", r));
    ok(nic, r -> new RdmaProtocol.CreateCq("cq", 8, r));
    ok(nic, r -> new RdmaProtocol.CreateQp("q", "pd", "cq", r));
    assertEquals(-22, call(nic, r -> new RdmaProtocol.PostSend("q", "w", Verbs.Opcode.WRITE, "x", 0, 1, "y", 0, r)).ret());
  }

  @Test
  void workRequestsInFlightTogetherCompleteInPostingOrder() {
    Pair p = new Pair();
    long big = 3 * RdmaNic.CHUNK;
    long src = p.region(p.mmA, big, 7);
    long dst = p.region(p.mmB, big, 1);
    p.reg(p.a, "src", p.mmA, src, big, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, big, ALL);
    p.post("big", Verbs.Opcode.WRITE, "src", big, "dst");
    p.post("small", Verbs.Opcode.WRITE, "src", 64, "dst"); // one packet: done long before the big one
    RdmaProtocol.Reply done = p.poll(p.a, 2);
    assertEquals("big,small", done.out().get("order"));
    assertEquals("success", done.out().get("small"));
  }

  @Test
  void anErrorInThePipelineFlushesTheWorkRequestsAfterItButNotBefore() {
    Pair p = new Pair();
    long src = p.region(p.mmA, 4 * PAGE, 5);
    long dst = p.region(p.mmB, 4 * PAGE, 1);
    p.reg(p.a, "src", p.mmA, src, 4 * PAGE, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, 4 * PAGE, ALL);
    p.post("w1", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    p.post("w2", Verbs.Opcode.WRITE, "src", 4 * PAGE, "nowhere");
    p.post("w3", Verbs.Opcode.WRITE, "src", 4 * PAGE, "dst");
    RdmaProtocol.Reply done = p.poll(p.a, 3);
    assertEquals("w1,w2,w3", done.out().get("order"));
    assertEquals("success", done.out().get("w1"));
    assertEquals("rem_access_err", done.out().get("w2"));
    assertEquals("wr_flush_err", done.out().get("w3"));
  }

  @Test
  void anOdpRegistrationOfLengthZeroIsEOVERFLOW() {
    Pair p = new Pair();
    long a = p.region(p.mmB, PAGE, 1);
    assertEquals(-75, call(p.b, r -> new RdmaProtocol.RegMr("z", "pd", "test/p", p.mmB, a, 0, ALL | Verbs.ON_DEMAND, r)).ret());
  }

  @Test
  void aPinnedRegistrationWithoutMlockPermissionIsEPERM() {
    Pair p = new Pair();
    long a = p.region(p.mmB, PAGE, 1);
    p.mmB.tell(new MmProtocol.SetLimits(0, false));
    assertEquals(-1, call(p.b, r -> new RdmaProtocol.RegMr("m", "pd", "test/p", p.mmB, a, PAGE, ALL, r)).ret());
  }

  @Test
  void smallWritesInFlightTogetherAreAcknowledgedTogetherAndCompleteInPostingOrder() {
    Pair p = new Pair();
    int n = 3 * RdmaNic.MAX_OUTSTANDING + 3; // within the CQ's 64 entries
    long len = n * 64L;
    long src = p.region(p.mmA, len, 7);
    long dst = p.region(p.mmB, len, 1);
    p.reg(p.a, "src", p.mmA, src, len, Verbs.LOCAL_WRITE);
    p.reg(p.b, "dst", p.mmB, dst, len, ALL);
    TestProbe<RdmaProtocol.Reply> posted = f.testKit.createTestProbe();
    for (int i = 0; i < n; i++) { // all at once: the queue pair keeps MAX_OUTSTANDING in flight, the rest wait
      p.a.tell(new RdmaProtocol.PostSend("qa", "w" + i, Verbs.Opcode.WRITE, "src", i * 64L, 64, "dst", i * 64L, posted.ref()));
    }
    RdmaProtocol.Reply done = call(p.a, r -> new RdmaProtocol.PollCq("cq", n, n, Duration.ofSeconds(10), r));
    assertEquals(n, done.ret(), done.detail());
    assertEquals(String.join(",", java.util.stream.IntStream.range(0, n).mapToObj(i -> "w" + i).toList()), done.out().get("order"));
    assertTrue(java.util.stream.IntStream.range(0, n).allMatch(i -> "success".equals(done.out().get("w" + i))), done.detail());
    assertEquals(checksum(p.mmA, src, len), checksum(p.mmB, dst, len));
  }

  /** A requester NIC connected to a peer that answers the first {@code requests} requests with {@code answers}. */
  private static ActorRef<Object> answeringPeer(int requests, java.util.function.Function<String, java.util.List<Object>> answers) {
    java.util.List<Long> seen = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<ActorRef<Object>> requester = new java.util.concurrent.atomic.AtomicReference<>();
    return f.testKit.spawn(org.apache.pekko.actor.typed.javadsl.Behaviors.receive(Object.class)
        .onMessage(RdmaProtocol.Connect.class, c -> {
          requester.set(c.from());
          c.replyTo().tell(new RdmaProtocol.Connected(0, ""));
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        })
        .onMessage(RdmaProtocol.Request.class, r -> {
          seen.add(r.psn());
          if (seen.size() == requests) {
            answers.apply("qa").forEach(requester.get()::tell);
          }
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        }).build(), "answering-" + n++);
  }

  @Test
  void aCoalescedAckCompletesEveryWorkRequestItNamesInPostingOrder() {
    ActorRef<Object> peer = answeringPeer(5, qp -> java.util.List.of(
        new RdmaProtocol.Acks(qp, java.util.List.of(2L, 1L, 3L), java.util.List.of(40_000L, 41_000L, 41_000L)),
        new RdmaProtocol.Acks(qp, java.util.List.of(5L, 4L), java.util.List.of(42_000L, 43_000L))));
    ActorRef<Object> a = nic(true);
    ActorRef<MmProtocol.Command> mm = mm();
    ok(a, r -> new RdmaProtocol.AllocPd("pd", r));
    ok(a, r -> new RdmaProtocol.CreateCq("cq", 16, r));
    ok(a, r -> new RdmaProtocol.CreateQp("qa", "pd", "cq", r));
    ok(a, r -> new RdmaProtocol.ConnectQp("qa", peer, "qb", r));
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Mmap(0, PAGE, RW, false, false, probe.ref()));
    long src = probe.receiveMessage().ret();
    ok(a, r -> new RdmaProtocol.RegMr("src", "pd", "test/p", mm, src, PAGE, Verbs.LOCAL_WRITE, r));
    for (int i = 1; i <= 5; i++) {
      int wr = i;
      ok(a, r -> new RdmaProtocol.PostSend("qa", "w" + wr, Verbs.Opcode.WRITE, "src", 0, 64, "dst", 0, r));
    }
    RdmaProtocol.Reply done = call(a, r -> new RdmaProtocol.PollCq("cq", 16, 5, Duration.ofSeconds(10), r));
    assertEquals("w1,w2,w3,w4,w5", done.out().get("order"));
    assertTrue(java.util.stream.IntStream.rangeClosed(1, 5).allMatch(i -> "success".equals(done.out().get("w" + i))), done.detail());
  }

  @Test
  void theResponderAcknowledgesEveryRequestOnceInOrderAndAPartialBatchWhenTrafficStops() {
    ActorRef<Object> b = nic(true);
    ActorRef<MmProtocol.Command> mmB = mm();
    ok(b, r -> new RdmaProtocol.AllocPd("pd", r));
    ok(b, r -> new RdmaProtocol.CreateCq("cq", 16, r));
    ok(b, r -> new RdmaProtocol.CreateQp("qb", "pd", "cq", r));
    TestProbe<Object> requester = f.testKit.createTestProbe();
    TestProbe<RdmaProtocol.Connected> connected = f.testKit.createTestProbe();
    b.tell(new RdmaProtocol.Connect("qb", "qa", requester.ref(), connected.ref()));
    assertEquals(0, connected.receiveMessage().result());
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mmB.tell(new MmProtocol.Mmap(0, PAGE, RW, false, false, probe.ref()));
    long dst = probe.receiveMessage().ret();
    ok(b, r -> new RdmaProtocol.RegMr("dst", "pd", "test/p", mmB, dst, PAGE, ALL, r));
    int requests = 2 * Responder.ACK_COALESCE + 3; // full batches, then a partial one that no later traffic pushes out
    byte[] data = new byte[64];
    for (int i = 1; i <= requests; i++) {
      java.util.Arrays.fill(data, (byte) i);
      b.tell(new RdmaProtocol.Request("qb", i, Verbs.Opcode.WRITE, "dst", (i - 1) * 64L, 64, 1_000L * i,
          java.util.List.of(new dev.fencelab.node.memory.Chunk.Bytes(0, data.clone()))));
    }
    java.util.List<Long> acked = new java.util.ArrayList<>();
    while (acked.size() < requests) {
      Object m = requester.receiveMessage(Duration.ofSeconds(10));
      if (m instanceof RdmaProtocol.Complete c) {
        assertEquals(0, c.status());
        acked.add(c.psn());
      } else if (m instanceof RdmaProtocol.Acks a) {
        assertTrue(a.psns().size() <= Responder.ACK_COALESCE, "at most ACK_COALESCE in one message: " + a.psns());
        acked.addAll(a.psns());
      }
    }
    assertEquals(java.util.stream.LongStream.rangeClosed(1, requests).boxed().toList(), acked, "every request once, in order");
    requester.expectNoMessage(Duration.ofMillis(200));
  }
}
