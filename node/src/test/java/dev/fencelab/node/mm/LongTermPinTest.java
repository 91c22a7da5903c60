package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.fence.FenceFixture;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ib_umem_get's side in the mm (kernel-semantics §1.16): can_do_mlock, zero pages, RLIMIT_MEMLOCK against pinned_vm
 * (unchanged on failure), CAP_IPC_LOCK, the pin's -EFAULT, and unpin giving pages back.
 */
class LongTermPinTest {
  private static final long PAGE = AddressSpace.PAGE;
  private static FenceFixture f;
  private static int mms;

  @BeforeAll
  static void start() {
    f = new FenceFixture("long-term-pin", Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static ActorRef<MmProtocol.Command> mm(long memlock, boolean cap) {
    ActorRef<MmProtocol.Command> mm = f.testKit.spawn(MmActor.create("test/pin" + mms, 1 << 20, f.services), "pin-" + mms++);
    mm.tell(new MmProtocol.SetLimits(memlock, cap));
    return mm;
  }

  private static long mmap(ActorRef<MmProtocol.Command> mm, long length, int prot) {
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Mmap(0, length, prot, false, false, probe.ref()));
    long addr = probe.receiveMessage().ret();
    assertTrue(addr > 0);
    return addr;
  }

  private static MmProtocol.Pinned pin(ActorRef<MmProtocol.Command> mm, long start, long length, boolean write) {
    TestProbe<MmProtocol.Pinned> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.LongTermPin("nic", start, length, write, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private static final int RW = AddressSpace.PROT_READ | AddressSpace.PROT_WRITE;

  @Test
  void aZeroMemlockLimitWithoutCapIpcLockIsEPERM() {
    ActorRef<MmProtocol.Command> mm = mm(0, false);
    long a = mmap(mm, 4 * PAGE, RW);
    assertEquals(-1, pin(mm, a, 4 * PAGE, true).result());
  }

  @Test
  void capIpcLockPinsPastTheLimit() {
    ActorRef<MmProtocol.Command> mm = mm(0, true);
    long a = mmap(mm, 4 * PAGE, RW);
    MmProtocol.Pinned p = pin(mm, a, 4 * PAGE, true);
    assertEquals(0, p.result());
    assertEquals(4, p.pinnedVm());
  }

  @Test
  void zeroPagesIsEINVAL() {
    ActorRef<MmProtocol.Command> mm = mm(8 << 20, false);
    long a = mmap(mm, PAGE, RW);
    assertEquals(-22, pin(mm, a, 0, true).result());
  }

  @Test
  void pinningPastRlimitMemlockIsENOMEMAndLeavesPinnedVmAsItWas() {
    ActorRef<MmProtocol.Command> mm = mm(4 * PAGE, false);
    long a = mmap(mm, 8 * PAGE, RW);
    MmProtocol.Pinned first = pin(mm, a, 3 * PAGE, true);
    assertEquals(0, first.result());
    assertEquals(3, first.pinnedVm());
    MmProtocol.Pinned second = pin(mm, a + 3 * PAGE, 2 * PAGE, true);
    assertEquals(-12, second.result());
    assertEquals(3, second.pinnedVm());
    assertEquals(0, pin(mm, a + 3 * PAGE, PAGE, true).result(), "exactly at the limit is allowed");
  }

  @Test
  void aRangeWithAnUnmappedPageIsEFAULTAndGivesThePagesBack() {
    ActorRef<MmProtocol.Command> mm = mm(8 << 20, false);
    long a = mmap(mm, 2 * PAGE, RW);
    MmProtocol.Pinned p = pin(mm, a, 3 * PAGE, true);
    assertEquals(-14, p.result());
    assertEquals(0, p.pinnedVm());
  }

  @Test
  void aWritablePinOfAReadOnlyMappingIsEFAULT() {
    ActorRef<MmProtocol.Command> mm = mm(8 << 20, false);
    long a = mmap(mm, 2 * PAGE, AddressSpace.PROT_READ);
    assertEquals(-14, pin(mm, a, 2 * PAGE, true).result());
    assertEquals(0, pin(mm, a, 2 * PAGE, false).result());
  }

  @Test
  void unpinGivesThePagesBackToPinnedVm() {
    ActorRef<MmProtocol.Command> mm = mm(8 << 20, false);
    long a = mmap(mm, 4 * PAGE, RW);
    MmProtocol.Pinned p = pin(mm, a + 100, 2 * PAGE, true); // an unaligned start spans three pages
    assertEquals(3, p.pinnedVm());
    TestProbe<MmProtocol.Result> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Unpin(p.pin(), probe.ref()));
    assertEquals(0, probe.receiveMessage().value());
  }
}
