package dev.fencelab.node.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmActor;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.mm.MmuEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Userptr buffers (kernel-semantics §1.15) by the device's policy: the amdgpu-style callback that waits for the
 * buffer's fences, its refusal of a non-blockable range, a broken driver that returns early, jobs that write the
 * process's pages, and what the driver refuses to do with a userptr.
 */
class UserptrTest {
  private static final long LEN = 64 * 1024;
  private static DeviceFixture fx;
  private static final AtomicInteger N = new AtomicInteger();

  @BeforeAll
  static void start() {
    fx = new DeviceFixture("userptr");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  /** A process's address space with one mapping, and a GPU of the given policy holding a userptr over it. */
  private record Setup(ActorRef<MmProtocol.Command> mm, long addr, ActorRef<DriverProtocol.Command> gpu, int handle) {}

  private static Setup setup(DeviceSpec.UserptrPolicy policy) {
    int n = N.incrementAndGet();
    ActorRef<MmProtocol.Command> mm = fx.f.testKit.spawn(MmActor.create("test/p" + n, 1 << 20, fx.f.services), "mm-" + n);
    long addr = call(mm, r -> new MmProtocol.Mmap(0, LEN, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, r)).ret();
    ActorRef<DriverProtocol.Command> gpu = fx.driver(DeviceSpec.gpu("g" + n).withUserptr(policy, Duration.ofMillis(1)));
    TestProbe<DriverProtocol.BoReply> created = fx.f.testKit.createTestProbe();
    gpu.tell(new DriverProtocol.CreateUserptr("p", "u", mm, addr, LEN, created.ref()));
    DriverProtocol.BoReply bo = created.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, bo.result());
    return new Setup(mm, addr, gpu, bo.handle());
  }

  private static MmProtocol.Reply call(ActorRef<MmProtocol.Command> mm,
      java.util.function.Function<ActorRef<MmProtocol.Reply>, MmProtocol.Command> message) {
    TestProbe<MmProtocol.Reply> probe = fx.f.testKit.createTestProbe();
    mm.tell(message.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  /** A job writing the userptr buffer after an in-fence nobody has signalled yet; returns the in-fence's timeline. */
  private static ActorRef<ContextOwner.Command> pendingWrite(Setup s, FenceRef[] fences) {
    ActorRef<ContextOwner.Command> timeline = fx.f.timeline();
    FenceRef gate = fx.f.createFence(timeline);
    fences[0] = gate;
    fences[1] = fx.submitOk(s.gpu(), "p", JobSpec.compute("w", 1_000, List.of(), List.of(s.handle())), gate);
    return timeline;
  }

  @Test
  void theWaitPolicysCallbackHoldsMunmapUntilTheBuffersFencesSignal() {
    Setup s = setup(DeviceSpec.UserptrPolicy.WAIT);
    FenceRef[] f = new FenceRef[2];
    ActorRef<ContextOwner.Command> timeline = pendingWrite(s, f);
    TestProbe<MmProtocol.Reply> unmapped = fx.f.testKit.createTestProbe();
    s.mm().tell(new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, s.addr(), LEN, 0, unmapped.ref()));
    unmapped.expectNoMessage(Duration.ofMillis(300));
    fx.f.signal(timeline, f[0], 0);
    assertEquals(0, unmapped.receiveMessage(Duration.ofSeconds(10)).ret());
    assertEquals(1, fx.await(f[1]).status().value());
  }

  @Test
  void theWaitPolicyRefusesANonBlockableRangeSoTheOomReaperGetsEAGAIN() {
    Setup s = setup(DeviceSpec.UserptrPolicy.WAIT);
    MmProtocol.Reply r = call(s.mm(), to -> new MmProtocol.InvalidateRange(s.addr(), s.addr() + LEN, MmuEvent.UNMAP, false, "", to));
    assertEquals(-11, r.ret());
  }

  @Test
  void aJobWritesTheProcesssPagesThroughTheUserptr() {
    Setup s = setup(DeviceSpec.UserptrPolicy.WAIT);
    String before = call(s.mm(), r -> new MmProtocol.CpuAccess(s.addr(), LEN, false, 0, r)).out().get("checksum");
    FenceRef out = fx.submitOk(s.gpu(), "p", JobSpec.compute("w", 1_000, List.of(), List.of(s.handle())));
    assertEquals(1, fx.await(out).status().value());
    String after = call(s.mm(), r -> new MmProtocol.CpuAccess(s.addr(), LEN, false, 0, r)).out().get("checksum");
    assertNotEquals(before, after);
  }

  @Test
  void aDriverThatReturnsBeforeItsFencesSignalIsReportedAndItsLateWriteIsStale() {
    Setup s = setup(DeviceSpec.UserptrPolicy.NONE);
    FenceRef[] f = new FenceRef[2];
    ActorRef<ContextOwner.Command> timeline = pendingWrite(s, f);
    assertEquals(0, call(s.mm(), to -> new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, s.addr(), LEN, 0, to)).ret());
    fx.f.expectViolation(Violation.Kind.NOTIFIER_RETURNED_EARLY);
    fx.f.signal(timeline, f[0], 0);
    fx.await(f[1]);
    fx.f.expectViolation(Violation.Kind.STALE_TRANSLATION);
  }

  @Test
  void theFaultPolicyReturnsAtOnceAndTheDeviceFaultsThePagesBack() {
    Setup s = setup(DeviceSpec.UserptrPolicy.FAULT);
    FenceRef[] f = new FenceRef[2];
    ActorRef<ContextOwner.Command> timeline = pendingWrite(s, f);
    assertEquals(0, call(s.mm(), to -> new MmProtocol.Change(MmProtocol.Change.Kind.DONTNEED, s.addr(), LEN, 0, to)).ret());
    String zeros = call(s.mm(), r -> new MmProtocol.CpuAccess(s.addr(), LEN, false, 0, r)).out().get("checksum");
    fx.f.signal(timeline, f[0], 0);
    assertEquals(1, fx.await(f[1]).status().value());
    assertNotEquals(zeros, call(s.mm(), r -> new MmProtocol.CpuAccess(s.addr(), LEN, false, 0, r)).out().get("checksum"));
  }

  @Test
  void aUserptrBufferCannotBeExported() {
    Setup s = setup(DeviceSpec.UserptrPolicy.WAIT);
    TestProbe<DriverProtocol.ExportReply> probe = fx.f.testKit.createTestProbe();
    s.gpu().tell(new DriverProtocol.Export("p", s.handle(), probe.ref()));
    assertEquals(-1, probe.receiveMessage().result());
  }

  @Test
  void aUserptrOverAnUnalignedRangeIsEINVAL() {
    Setup s = setup(DeviceSpec.UserptrPolicy.WAIT);
    TestProbe<DriverProtocol.BoReply> created = fx.f.testKit.createTestProbe();
    s.gpu().tell(new DriverProtocol.CreateUserptr("p", "odd", s.mm(), s.addr() + 1, LEN, created.ref()));
    assertEquals(-22, created.receiveMessage().result());
  }

  /** A userptr subscriber alone (fault policy), validated at seq 1, then invalidated (seq 3) before its lock check. */
  private static UserptrBo.Checked checkAfterAnInvalidation(boolean skipRetry) {
    int n = N.incrementAndGet();
    ActorRef<MmProtocol.Command> mm = fx.f.testKit.spawn(MmActor.create("test/p" + n, 1 << 20, fx.f.services), "mm-" + n);
    long addr = call(mm, r -> new MmProtocol.Mmap(0, LEN, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, r)).ret();
    TestProbe<DriverProtocol.BoReply> created = fx.f.testKit.createTestProbe();
    ActorRef<Object> u = fx.f.testKit.spawn(UserptrBo.create("test/u" + n, mm, addr, LEN,
        DeviceSpec.gpu("g").withUserptr(DeviceSpec.UserptrPolicy.FAULT, Duration.ofMillis(1)).withSkipRetry(skipRetry),
        fx.f.testKit.<dev.fencelab.node.resv.Resv.Command>createTestProbe().ref(), fx.f.services, Duration.ofSeconds(5), 1, created.ref()));
    assertEquals(0, created.receiveMessage().result());
    TestProbe<UserptrBo.Validated> validated = fx.f.testKit.createTestProbe();
    u.tell(new UserptrBo.Validate(validated.ref()));
    assertEquals(1, validated.receiveMessage(Duration.ofSeconds(10)).seq());
    assertEquals(0, call(mm, to -> new MmProtocol.Change(MmProtocol.Change.Kind.DONTNEED, addr, LEN, 0, to)).ret());
    TestProbe<UserptrBo.Checked> checked = fx.f.testKit.createTestProbe();
    u.tell(new UserptrBo.LockCheck(1, checked.ref()));
    return checked.receiveMessage(Duration.ofSeconds(10));
  }

  @Test
  void readRetryUnderTheNotifierLockMakesASubmissionFaultAgainAfterAnInvalidation() {
    assertEquals(false, checkAfterAnInvalidation(false).ok());
  }

  @Test
  void aDriverThatSkipsReadRetryPublishesOverPagesAnInvalidationTookAndIsReported() {
    assertEquals(true, checkAfterAnInvalidation(true).ok());
    fx.f.expectViolation(Violation.Kind.USERPTR_PUBLISHED_WITHOUT_RETRY);
  }
}
