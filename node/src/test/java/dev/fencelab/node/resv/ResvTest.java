package dev.fencelab.node.resv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.WaitResult;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** dma_resv, kernel-semantics §1.9: modern and 2020 rules, slots, lock, queries. */
class ResvTest {
  private static final AcquireCtx OLD = new AcquireCtx(100, "old");
  private static final AcquireCtx YOUNG = new AcquireCtx(200, "young");

  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> containers;

  @BeforeEach
  void start() {
    fx = new FenceFixture("resv-test");
    containers = fx.containers();
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  private ActorRef<Resv.Command> resv(Resv.Mode mode) {
    return fx.testKit.spawn(Resv.create("bo", mode, containers, fx.services));
  }

  /** Locks with {@code ctx}; the returned probe is the holder (the lock follows its life). */
  private TestProbe<Resv.LockReply> lock(ActorRef<Resv.Command> resv, AcquireCtx ctx) {
    TestProbe<Resv.LockReply> holder = fx.testKit.createTestProbe();
    resv.tell(new Resv.Lock(ctx, false, holder.ref()));
    assertEquals(0, holder.receiveMessage().result());
    return holder;
  }

  private int reserve(ActorRef<Resv.Command> resv, AcquireCtx ctx, int n) {
    TestProbe<Resv.Result> probe = fx.testKit.createTestProbe();
    resv.tell(new Resv.Reserve(ctx, n, probe.ref()));
    return probe.receiveMessage().result();
  }

  private int add(ActorRef<Resv.Command> resv, FenceRef fence, ResvUsage usage) {
    TestProbe<Resv.Result> probe = fx.testKit.createTestProbe();
    resv.tell(new Resv.AddFence(OLD, fence, usage, probe.ref()));
    return probe.receiveMessage().result();
  }

  private List<Resv.Entry> fences(ActorRef<Resv.Command> resv, ResvUsage usage, boolean includeSignalled) {
    TestProbe<Resv.Fences> probe = fx.testKit.createTestProbe();
    resv.tell(new Resv.GetFences(usage, includeSignalled, probe.ref()));
    return probe.receiveMessage().entries();
  }

  private Resv.State state(ActorRef<Resv.Command> resv) {
    TestProbe<Resv.State> probe = fx.testKit.createTestProbe();
    resv.tell(new Resv.GetState(probe.ref()));
    return probe.receiveMessage();
  }

  /** A modern resv, locked by OLD, with {@code slots} reserved. */
  private ActorRef<Resv.Command> lockedModern(int slots) {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, OLD);
    assertEquals(0, reserve(resv, OLD, slots));
    return resv;
  }

  @Test
  void shouldReturnEveryFenceWithUsageUpToTheQueriedUsage() {
    ActorRef<Resv.Command> resv = lockedModern(4);
    for (ResvUsage u : ResvUsage.values()) {
      add(resv, fx.createFence(fx.timeline()), u);
    }

    assertEquals(List.of(ResvUsage.KERNEL, ResvUsage.WRITE, ResvUsage.READ),
        fences(resv, ResvUsage.READ, true).stream().map(Resv.Entry::usage).sorted().toList());
    assertEquals(1, fences(resv, ResvUsage.KERNEL, true).size());
  }

  @Test
  void shouldPromoteSameContextReadFenceWhenLaterWriteFenceIsAdded() {
    ActorRef<Resv.Command> resv = lockedModern(2);
    ActorRef<ContextOwner.Command> ring = fx.timeline();
    add(resv, fx.createFence(ring), ResvUsage.READ);
    FenceRef later = fx.createFence(ring);

    add(resv, later, ResvUsage.WRITE);

    List<Resv.Entry> all = fences(resv, ResvUsage.BOOKKEEP, true);
    assertEquals(1, all.size(), "replaced in place: " + all);
    assertEquals(later, all.get(0).fence());
    assertEquals(ResvUsage.WRITE, all.get(0).usage());
  }

  @Test
  void shouldAppendReadFenceInsteadOfDegradingSameContextWriteFence() {
    ActorRef<Resv.Command> resv = lockedModern(2);
    ActorRef<ContextOwner.Command> ring = fx.timeline();
    add(resv, fx.createFence(ring), ResvUsage.WRITE);

    add(resv, fx.createFence(ring), ResvUsage.READ);

    assertEquals(2, fences(resv, ResvUsage.BOOKKEEP, true).size());
  }

  @Test
  void shouldNeverDropFencesOfOtherContextsWhenAdding() {
    ActorRef<Resv.Command> resv = lockedModern(3);
    add(resv, fx.createFence(fx.timeline()), ResvUsage.READ);
    add(resv, fx.createFence(fx.timeline()), ResvUsage.READ);

    add(resv, fx.createFence(fx.timeline()), ResvUsage.WRITE);

    assertEquals(3, fences(resv, ResvUsage.BOOKKEEP, true).size(), "modern: a writer does not drop readers");
  }

  @Test
  void shouldReuseSlotOfSignalledFence() {
    ActorRef<Resv.Command> resv = lockedModern(1);
    ActorRef<ContextOwner.Command> ring = fx.timeline();
    FenceRef done = fx.createFence(ring);
    add(resv, done, ResvUsage.READ);
    fx.signal(ring, done, 0);
    fx.violations.awaitAssert(() -> {
      assertTrue(fences(resv, ResvUsage.READ, false).isEmpty(), "the unlocked iterator skips signalled fences");
      return null;
    });

    assertEquals(0, add(resv, fx.createFence(fx.timeline()), ResvUsage.READ), "no new slot needed");
  }

  @Test
  void shouldRecordFatalViolationAndRefuseAddWithoutReservedSlot() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, OLD);

    int result = add(resv, fx.createFence(fx.timeline()), ResvUsage.WRITE);

    assertEquals(Errno.ENOSPC.negative(), result);
    Violation v = fx.expectViolation(Violation.Kind.RESV_NO_SLOT);
    assertTrue(v.fatal(), "the kernel BUGs");
  }

  @Test
  void shouldGrowSlotsToFourFirstThenDouble() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, OLD);
    reserve(resv, OLD, 1);
    assertEquals(4, state(resv).maxFences(), "max(4, roundup_pow_of_two(1))");
    for (int i = 0; i < 4; i++) {
      add(resv, fx.createFence(fx.timeline()), ResvUsage.READ);
    }

    reserve(resv, OLD, 1);

    assertEquals(8, state(resv).maxFences(), "max(num + n, 2 * max)");
  }

  @Test
  void shouldForgetUnusedReservationsOnUnlock() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, OLD);
    reserve(resv, OLD, 2);
    resv.tell(new Resv.Unlock(OLD));
    lock(resv, OLD);

    assertEquals(Errno.ENOSPC.negative(), add(resv, fx.createFence(fx.timeline()), ResvUsage.READ));
  }

  @Test
  void shouldRecordViolationWhenAddingWithoutHoldingTheLock() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, YOUNG);
    reserve(resv, YOUNG, 1);

    add(resv, fx.createFence(fx.timeline()), ResvUsage.READ); // as OLD

    fx.expectViolation(Violation.Kind.RESV_NOT_LOCKED);
  }

  @Test
  void shouldGiveYoungerContextEdeadlkSoItBacksOff() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, OLD);
    TestProbe<Resv.LockReply> young = fx.testKit.createTestProbe();

    resv.tell(new Resv.Lock(YOUNG, false, young.ref()));

    assertEquals(Errno.EDEADLK.negative(), young.receiveMessage().result());
  }

  @Test
  void shouldLetOlderContextWaitAndGrantItOnUnlock() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    lock(resv, YOUNG);
    TestProbe<Resv.LockReply> old = fx.testKit.createTestProbe();

    resv.tell(new Resv.Lock(OLD, false, old.ref()));
    old.expectNoMessage(Duration.ofMillis(200));
    resv.tell(new Resv.Unlock(YOUNG));

    assertEquals(0, old.receiveMessage().result());
    assertEquals("old", state(resv).holder());
  }

  @Test
  void shouldAnswerEalreadyToTheHoldersOwnContext() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    TestProbe<Resv.LockReply> holder = lock(resv, OLD);

    resv.tell(new Resv.Lock(OLD, false, holder.ref()));

    assertEquals(Errno.EALREADY.negative(), holder.receiveMessage().result());
  }

  @Test
  void shouldReleaseLockWhenHolderDies() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    TestProbe<Resv.LockReply> holder = lock(resv, OLD);
    TestProbe<Resv.LockReply> next = fx.testKit.createTestProbe();
    resv.tell(new Resv.Lock(YOUNG, true, next.ref())); // lock_slow: waits regardless of age

    holder.stop();

    assertEquals(0, next.receiveMessage().result());
  }

  @Test
  void shouldSerialiseRacingContextsThroughBackoffAndSlowLock() {
    // Race: eight contexts contend at once. The oldest wins; every younger one dies with -EDEADLK, backs off and
    // takes the slow path; unlocks then grant the slow waiters oldest first. Each holds the lock exactly once.
    ActorRef<Resv.Command> resv = resv(Resv.Mode.MODERN);
    List<TestProbe<Resv.LockReply>> holders = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      TestProbe<Resv.LockReply> p = fx.testKit.createTestProbe();
      holders.add(p);
      resv.tell(new Resv.Lock(new AcquireCtx(1000 + i, "c" + i), false, p.ref()));
    }
    assertEquals(0, holders.get(0).receiveMessage().result(), "the oldest context wins");
    for (int i = 1; i < 8; i++) {
      assertEquals(Errno.EDEADLK.negative(), holders.get(i).receiveMessage().result(), "c" + i + " is younger: it dies");
      resv.tell(new Resv.Lock(new AcquireCtx(1000 + i, "c" + i), true, holders.get(i).ref()));
    }
    for (int i = 0; i < 8; i++) {
      if (i > 0) {
        assertEquals(0, holders.get(i).receiveMessage(Duration.ofSeconds(5)).result(), "c" + i + " granted in age order");
      }
      assertEquals("c" + i, state(resv).holder());
      resv.tell(new Resv.Unlock(new AcquireCtx(1000 + i, "c" + i)));
    }
    assertEquals("", state(resv).holder());
  }

  @Test
  void shouldGiveNullSingleThenTheFenceThenAnArray() {
    ActorRef<Resv.Command> resv = lockedModern(2);
    TestProbe<Resv.Singleton> probe = fx.testKit.createTestProbe();
    resv.tell(new Resv.GetSingleton(ResvUsage.BOOKKEEP, probe.ref()));
    assertNull(probe.receiveMessage().fence());
    FenceRef a = fx.createFence(fx.timeline());
    add(resv, a, ResvUsage.WRITE);
    resv.tell(new Resv.GetSingleton(ResvUsage.BOOKKEEP, probe.ref()));
    assertEquals(a, probe.receiveMessage().fence());
    add(resv, fx.createFence(fx.timeline()), ResvUsage.READ);

    resv.tell(new Resv.GetSingleton(ResvUsage.BOOKKEEP, probe.ref()));

    assertEquals(FenceRef.Kind.ARRAY, probe.receiveMessage().fence().kind());
  }

  @Test
  void shouldWaitForEveryFenceOfTheUsageAndTimeOutWhileOneIsPending() {
    ActorRef<Resv.Command> resv = lockedModern(2);
    ActorRef<ContextOwner.Command> r1 = fx.timeline();
    ActorRef<ContextOwner.Command> r2 = fx.timeline();
    FenceRef w = fx.createFence(r1);
    FenceRef r = fx.createFence(r2);
    add(resv, w, ResvUsage.WRITE);
    add(resv, r, ResvUsage.READ);
    fx.signal(r1, w, 0);
    TestProbe<WaitResult> probe = fx.testKit.createTestProbe();

    resv.tell(new Resv.Wait(ResvUsage.WRITE, Duration.ofSeconds(5).toNanos(), "reader", probe.ref()));
    assertTrue(probe.receiveMessage(Duration.ofSeconds(6)).signalled(), "a reader waits only for writers");
    resv.tell(new Resv.Wait(ResvUsage.READ, Duration.ofMillis(100).toNanos(), "writer", probe.ref()));
    assertEquals(0, probe.receiveMessage(Duration.ofSeconds(5)).result(), "a writer waits for readers too");
  }

  // --- 2020 mode

  @Test
  void shouldDropEverySharedFenceWhenExclusiveFenceIsAddedIn2020Mode() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.Y2020);
    lock(resv, OLD);
    reserve(resv, OLD, 2);
    FenceRef s1 = fx.createFence(fx.timeline());
    FenceRef s2 = fx.createFence(fx.timeline());
    resv.tell(new Resv.AddShared(OLD, s1, List.of(), null));
    resv.tell(new Resv.AddShared(OLD, s2, List.of(), null));
    FenceRef excl = fx.createFence(fx.timeline());

    resv.tell(new Resv.AddExclusive(OLD, excl, List.of(s1.id().toString(), s2.id().toString()), null));

    List<Resv.Entry> all = fences(resv, ResvUsage.BOOKKEEP, true);
    assertEquals(List.of(excl), all.stream().map(Resv.Entry::fence).toList());
    fx.violations.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void shouldFlagExclusiveFenceThatIsNotOrderedAfterTheSharedFencesItDrops() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.Y2020);
    lock(resv, OLD);
    reserve(resv, OLD, 1);
    FenceRef reader = fx.createFence(fx.timeline());
    resv.tell(new Resv.AddShared(OLD, reader, List.of(), null));

    resv.tell(new Resv.AddExclusive(OLD, fx.createFence(fx.timeline()), List.of(), null));

    Violation v = fx.expectViolation(Violation.Kind.RESV_REPLACE_HAZARD);
    assertTrue(v.detail().contains(reader.toString()), v.detail());
  }

  @Test
  void shouldFlagSharedFenceReplacedByAnEarlierOneOfItsContextIn2020Mode() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.Y2020);
    lock(resv, OLD);
    reserve(resv, OLD, 1);
    ActorRef<ContextOwner.Command> ring = fx.timeline();
    FenceRef early = fx.createFence(ring);
    FenceRef late = fx.createFence(ring);
    resv.tell(new Resv.AddShared(OLD, late, List.of(), null));

    resv.tell(new Resv.AddShared(OLD, early, List.of(), null)); // same context, regardless of seqno

    fx.expectViolation(Violation.Kind.RESV_REPLACE_HAZARD);
    assertEquals(List.of(early), fences(resv, ResvUsage.BOOKKEEP, true).stream().map(Resv.Entry::fence).toList());
  }

  @Test
  void shouldNotFlagTheSameSequenceInModernMode() {
    ActorRef<Resv.Command> resv = lockedModern(2);
    FenceRef reader = fx.createFence(fx.timeline());
    add(resv, reader, ResvUsage.READ);

    add(resv, fx.createFence(fx.timeline()), ResvUsage.WRITE);

    assertEquals(2, fences(resv, ResvUsage.BOOKKEEP, true).size());
    fx.violations.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void shouldTestOnlyExclusiveFenceWithoutTestAllIn2020Mode() {
    ActorRef<Resv.Command> resv = resv(Resv.Mode.Y2020);
    lock(resv, OLD);
    reserve(resv, OLD, 1);
    resv.tell(new Resv.AddShared(OLD, fx.createFence(fx.timeline()), List.of(), null));
    TestProbe<WaitResult> exclusiveOnly = fx.testKit.createTestProbe(); // one probe each: the two answers come in any order
    TestProbe<WaitResult> all = fx.testKit.createTestProbe();

    resv.tell(new Resv.Wait2020(false, 0, "t", exclusiveOnly.ref()));
    resv.tell(new Resv.Wait2020(true, 0, "t", all.ref()));

    assertTrue(exclusiveOnly.receiveMessage().signalled(), "no exclusive fence: idle for !test_all");
    assertEquals(0, all.receiveMessage().result(), "test_all sees the pending shared fence");
  }

}
