package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.memory.Chunk;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The address space as an actor (serialize-messages on: every subscriber message crosses protobuf): invalidation
 * rounds that call subscribers one after the other, read_begin parked behind a colliding round, non-blockable
 * rounds, subscribers that die, and DMA through translations that went stale.
 */
class MmActorTest {
  private static final long MIB = 1 << 20;
  private static FenceFixture f;
  private static int mms;

  @BeforeAll
  static void start() {
    f = new FenceFixture("mm-actor", Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static ActorRef<MmProtocol.Command> mm() {
    return f.testKit.spawn(MmActor.create("test/p" + mms, 1 << 20, f.services), "mm-" + mms++);
  }

  private static MmProtocol.Reply call(ActorRef<MmProtocol.Command> mm,
      java.util.function.Function<ActorRef<MmProtocol.Reply>, MmProtocol.Command> message) {
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(message.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private static long mmap(ActorRef<MmProtocol.Command> mm, long length) {
    long addr = call(mm, r -> new MmProtocol.Mmap(0, length, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, r)).ret();
    assertTrue(addr > 0);
    return addr;
  }

  private static MmProtocol.Inserted subscribe(ActorRef<MmProtocol.Command> mm, TestProbe<MmProtocol.Invalidate> sub, long start,
      long length) {
    TestProbe<MmProtocol.Inserted> probe = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.NotifierInsert(sub.ref(), "test/" + sub.ref().path().name(), start, length, probe.ref()));
    MmProtocol.Inserted in = probe.receiveMessage();
    assertEquals(0, in.result());
    return in;
  }

  private static void answer(MmProtocol.Invalidate inv, boolean ok) {
    inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), ok));
  }

  @Test
  void munmapCallsEveryOverlappingSubscriberOneAfterTheOtherAndReturnsWhenAllAnswered() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> first = f.testKit.createTestProbe();
    TestProbe<MmProtocol.Invalidate> second = f.testKit.createTestProbe();
    assertEquals(1, subscribe(mm, first, a, MIB / 2).seq());
    subscribe(mm, second, a + MIB / 2, MIB / 2);
    TestProbe<MmProtocol.Reply> unmapped = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, a, MIB, 0, unmapped.ref()));
    MmProtocol.Invalidate inv = first.receiveMessage();
    assertEquals(3, inv.seq());
    assertEquals(MmuEvent.UNMAP, inv.event());
    assertTrue(inv.blockable());
    second.expectNoMessage(Duration.ofMillis(200));
    unmapped.expectNoMessage(Duration.ZERO);
    answer(inv, true);
    answer(second.receiveMessage(), true);
    assertEquals(0, unmapped.receiveMessage().ret());
    assertEquals(4, call(mm, r -> new MmProtocol.TestCall(MmProtocol.TestCall.Call.SEQ, 0, 0, r)).value());
  }

  @Test
  void readBeginWaitsWhileAnInvalidationThatHitItsIntervalRuns() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    long interval = subscribe(mm, sub, a, MIB).interval();
    TestProbe<MmProtocol.Reply> unmapped = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, a, MIB, 0, unmapped.ref()));
    MmProtocol.Invalidate inv = sub.receiveMessage();
    TestProbe<MmProtocol.Result> begun = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.ReadBegin(interval, begun.ref()));
    begun.expectNoMessage(Duration.ofMillis(200));
    answer(inv, true);
    assertEquals(3, begun.receiveMessage().value());
    unmapped.receiveMessage();
  }

  @Test
  void aNonBlockableInvalidationThatASubscriberRefusesIsEAGAINAndUnmapsNothing() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    call(mm, r -> new MmProtocol.CpuAccess(a, MIB, true, 7, r));
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    subscribe(mm, sub, a, MIB);
    TestProbe<MmProtocol.Reply> reaped = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.InvalidateRange(a, a + MIB, MmuEvent.UNMAP, false, "", reaped.ref()));
    MmProtocol.Invalidate inv = sub.receiveMessage();
    assertFalse(inv.blockable());
    answer(inv, false);
    assertEquals(-11, reaped.receiveMessage().ret());
    assertEquals(4, call(mm, r -> new MmProtocol.TestCall(MmProtocol.TestCall.Call.SEQ, 0, 0, r)).value()); // the round ended
  }

  @Test
  void aCallbackThatRefusesABlockableRangeIsAWarnAndTheRoundGoesOn() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    subscribe(mm, sub, a, MIB);
    TestProbe<MmProtocol.Reply> unmapped = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, a, MIB, 0, unmapped.ref()));
    answer(sub.receiveMessage(), false);
    assertEquals(0, unmapped.receiveMessage().ret());
    assertEquals(Violation.Kind.NOTIFIER_REFUSED_BLOCKABLE, f.expectViolation(Violation.Kind.NOTIFIER_REFUSED_BLOCKABLE).kind());
  }

  @Test
  void aSubscriberThatDiesMidCallbackIsDroppedAndTheRoundCompletes() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> seen = f.testKit.createTestProbe();
    ActorRef<MmProtocol.Invalidate> dying = f.testKit.spawn(Behaviors.<MmProtocol.Invalidate>receiveMessage(inv -> {
      seen.ref().tell(inv);
      return Behaviors.stopped(); // the subscriber's member died while its callback waited
    }));
    TestProbe<MmProtocol.Inserted> in = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.NotifierInsert(dying, "test/dying", a, MIB, in.ref()));
    assertEquals(0, in.receiveMessage().result());
    TestProbe<MmProtocol.Reply> unmapped = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, a, MIB, 0, unmapped.ref()));
    seen.receiveMessage();
    assertEquals(0, unmapped.receiveMessage(Duration.ofSeconds(10)).ret());
  }

  @Test
  void aRangeFaultAgainstASeqAnInvalidationMovedIsEBUSY() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, 2 * MIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    MmProtocol.Inserted in = subscribe(mm, sub, a, 2 * MIB);
    TestProbe<MmProtocol.Reply> cleared = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Change(MmProtocol.Change.Kind.DONTNEED, a + MIB, MIB, 0, cleared.ref()));
    answer(sub.receiveMessage(), true);
    cleared.receiveMessage();
    TestProbe<MmProtocol.Faulted> faulted = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.RangeFault(in.interval(), in.seq(), a, MIB, true, false, faulted.ref()));
    assertEquals(-16, faulted.receiveMessage().result());
    mm.tell(new MmProtocol.RangeFault(in.interval(), 3, a, MIB, true, false, faulted.ref()));
    MmProtocol.Faulted ok = faulted.receiveMessage();
    assertEquals(0, ok.result());
    assertEquals(256, ok.frames().stream().mapToLong(Frames::pages).sum());
  }

  @Test
  void aDmaWriteThroughFramesTheMunmapTookIsAStaleTranslation() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    MmProtocol.Inserted in = subscribe(mm, sub, a, MIB);
    TestProbe<MmProtocol.Faulted> faulted = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.RangeFault(in.interval(), in.seq(), a, MIB, true, false, faulted.ref()));
    List<Frames> frames = faulted.receiveMessage().frames();
    TestProbe<MmProtocol.Reply> unmapped = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Change(MmProtocol.Change.Kind.MUNMAP, a, MIB, 0, unmapped.ref()));
    answer(sub.receiveMessage(), true);
    unmapped.receiveMessage();
    TestProbe<MmProtocol.DmaAck> ack = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.DmaWrite("test/gpu", a, List.of(new Chunk.Pattern(0, 4096, 3, 0)), frames, 1, ack.ref()));
    ack.receiveMessage();
    assertTrue(f.expectViolation(Violation.Kind.STALE_TRANSLATION).detail().contains("stale"));
  }

  @Test
  void aDeviceWriteThroughAValidTranslationLandsInTheProcesssMemory() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, 64 * 1024);
    String before = call(mm, r -> new MmProtocol.CpuAccess(a, 65536, false, 0, r)).out().get("checksum");
    TestProbe<MmProtocol.Faulted> faulted = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.RangeFault(0, 0, a, 65536, true, true, faulted.ref())); // a long-term pin
    List<Frames> frames = faulted.receiveMessage().frames();
    TestProbe<MmProtocol.DmaAck> ack = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.DmaWrite("test/nic", a, List.of(new Chunk.Pattern(0, 65536, 11, 0)), frames, 1, ack.ref()));
    assertEquals(0, ack.receiveMessage().result());
    String after = call(mm, r -> new MmProtocol.CpuAccess(a, 65536, false, 0, r)).out().get("checksum");
    assertFalse(before.equals(after));
  }

  /** The first {@code n} bytes the chunks describe. */
  private static byte[] bytes(List<Chunk> chunks, int n) {
    byte[] out = new byte[n];
    for (Chunk c : chunks) {
      if (c instanceof Chunk.Bytes b) {
        System.arraycopy(b.data(), 0, out, (int) b.offset(), b.data().length);
      } else if (c instanceof Chunk.Pattern p) {
        dev.fencelab.node.memory.Content.pattern(p.seed(), p.patternOffset(), out, (int) p.offset(), (int) p.length());
      }
    }
    return out;
  }

  @Test
  void aDmaBatchIsDoneInOrderAsIfSentOneByOneEachAnsweredOnItsOwn() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, 64 * 1024);
    TestProbe<MmProtocol.Faulted> faulted = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.RangeFault(0, 0, a, 65536, true, true, faulted.ref())); // a long-term pin
    List<Frames> frames = faulted.receiveMessage().frames();
    TestProbe<MmProtocol.DmaData> data = f.testKit.createTestProbe();
    TestProbe<MmProtocol.DmaAck> ack = f.testKit.createTestProbe();
    byte[] bytes = {9, 8, 7, 6};
    mm.tell(new MmProtocol.DmaBatch(List.of(
        new MmProtocol.DmaRead("test/nic", a + 100, 4, frames, 1, data.ref()),
        new MmProtocol.DmaWrite("test/nic", a + 100, List.of(new Chunk.Bytes(0, bytes)), frames, 2, ack.ref()),
        new MmProtocol.DmaRead("test/nic", a + 100, 4, frames, 3, data.ref()))));
    MmProtocol.DmaData before = data.receiveMessage();
    assertEquals(1, before.tag());
    assertFalse(java.util.Arrays.equals(bytes, bytes(before.chunks(), 4)), "the first read comes before the write");
    assertEquals(new MmProtocol.DmaAck(2, 0), ack.receiveMessage());
    MmProtocol.DmaData after = data.receiveMessage();
    assertEquals(3, after.tag());
    assertTrue(java.util.Arrays.equals(bytes, bytes(after.chunks(), 4)), "the read after the write sees it");
  }

  @Test
  void aMigrationToDevicePrivateMemoryIsAMigrateInvalidationWithItsOwner() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    subscribe(mm, sub, a, MIB);
    TestProbe<MmProtocol.Reply> migrated = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.Migrate(a, MIB, "hive0", "gpu0", false, migrated.ref()));
    MmProtocol.Invalidate inv = sub.receiveMessage();
    assertEquals(MmuEvent.MIGRATE, inv.event());
    assertEquals("hive0", inv.owner(), "the owner's own driver skips it");
    answer(inv, true);
    assertEquals(MIB / AddressSpace.PAGE, migrated.receiveMessage().value(), "cpages");
  }

  @Test
  void aCpuTouchOfDevicePrivatePagesMigratesThemBackWithTheirOwnerAndReadsTheData() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    String written = call(mm, r -> new MmProtocol.CpuAccess(a, MIB, true, 5, r)).out().get("checksum");
    call(mm, r -> new MmProtocol.Migrate(a, MIB, "gpu0", "gpu0", false, r));
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    subscribe(mm, sub, a, MIB);
    TestProbe<MmProtocol.Reply> read = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.CpuAccess(a, MIB, false, 0, read.ref()));
    MmProtocol.Invalidate inv = sub.receiveMessage();
    assertEquals(MmuEvent.MIGRATE, inv.event());
    assertEquals("gpu0", inv.owner());
    answer(inv, true);
    assertEquals(written, read.receiveMessage().out().get("checksum"), "migrate_to_ram kept the data");
  }

  @Test
  void hmmRangeFaultOfAnotherOwnersPagesMigratesThemToRamFirst() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    call(mm, r -> new MmProtocol.Migrate(a, MIB, "gpu0", "gpu0", false, r));
    MmProtocol.Reply own = call(mm, r -> new MmProtocol.HmmFault(a, MIB, "gpu0", true, false, r));
    assertEquals("256", own.out().get("device"), "its own pages: device pfns, nothing faulted");
    MmProtocol.Reply other = call(mm, r -> new MmProtocol.HmmFault(a, MIB, "gpu1", true, true, r));
    assertEquals("256", other.out().get("migrated"));
    assertEquals("256", other.out().get("write"));
    assertEquals("0", other.out().get("device"));
  }

  @Test
  void aSoftUnplugEvictsTheDevicesPagesBackToRamWithTheirData() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    String written = call(mm, r -> new MmProtocol.CpuAccess(a, MIB, true, 9, r)).out().get("checksum");
    TestProbe<dev.fencelab.node.driver.DriverProtocol.Command> driver = f.testKit.createTestProbe();
    call(mm, r -> new MmProtocol.Migrate(a, MIB, "gpu0", "gpu0", false, driver.ref(), r));
    assertEquals(mm, ((dev.fencelab.node.driver.DriverProtocol.HoldsDevicePrivate) driver.receiveMessage()).mm(), "the device learns who holds its pages");
    TestProbe<MmProtocol.Result> evicted = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.EvictDevicePrivate("gpu0", evicted.ref()));
    assertEquals(MIB / AddressSpace.PAGE, evicted.receiveMessage().value());
    assertEquals(written, call(mm, r -> new MmProtocol.CpuAccess(a, MIB, false, 0, r)).out().get("checksum"));
  }

  @Test
  void whenTheDevicesMemberDiesItsPagesAreLostAndACpuAccessIsSigbus() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> driver = f.testKit.spawn(
        org.apache.pekko.actor.typed.javadsl.Behaviors.ignore(), "dying-driver-" + mms);
    call(mm, r -> new MmProtocol.Migrate(a, MIB, "gpu0", "gpu0", false, driver, r));
    f.testKit.stop(driver);
    // the death reaches the mm when it does; a snapshot (no fault) sees it without touching the pages, where a CPU
    // access before it would still migrate them back to RAM intact
    f.testKit.createTestProbe().awaitAssert(java.time.Duration.ofSeconds(15), () -> {
      assertEquals("256", call(mm, r -> new MmProtocol.HmmFault(a, MIB, "gpu1", false, false, r)).out().get("error"));
      return null;
    });
    MmProtocol.Reply read = call(mm, r -> new MmProtocol.CpuAccess(a, MIB, false, 0, r));
    assertEquals(dev.fencelab.protocol.Errno.EFAULT.negative(), read.ret());
    assertTrue(read.detail().contains("SIGBUS"), read.detail());
  }

  @Test
  void makeDeviceExclusiveAnnouncesItsOwnerAndACpuAccessRevokesItThroughTheExclusiveNotifier() {
    ActorRef<MmProtocol.Command> mm = mm();
    long a = mmap(mm, MIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    subscribe(mm, sub, a, MIB);
    TestProbe<MmProtocol.Reply> made = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.MakeExclusive(a, MIB, "gpu0", made.ref()));
    MmProtocol.Invalidate grant = sub.receiveMessage();
    assertEquals(MmuEvent.EXCLUSIVE, grant.event());
    assertEquals("gpu0", grant.owner(), "the device's own notifier skips its own grant");
    answer(grant, true);
    assertEquals(MIB / AddressSpace.PAGE, made.receiveMessage().value());
    TestProbe<MmProtocol.Reply> write = f.testKit.createTestProbe();
    mm.tell(new MmProtocol.CpuAccess(a, AddressSpace.PAGE, true, 3, write.ref()));
    MmProtocol.Invalidate revoke = sub.receiveMessage();
    assertEquals(MmuEvent.EXCLUSIVE, revoke.event());
    assertEquals("", revoke.owner(), "the CPU's restore is for the device to honour");
    answer(revoke, true);
    assertEquals(0, write.receiveMessage().ret());
  }
}
