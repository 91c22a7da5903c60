package dev.fencelab.node.resv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceContext;
import dev.fencelab.node.fence.FenceId;
import dev.fencelab.node.fence.FenceProtocol;
import dev.fencelab.node.fence.FenceRef;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The fence list of a reservation object: slots, replacement in place and the 2020 rules (kernel-semantics §1.9). */
class ResvListTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final ActorRef<FenceProtocol.Command> ACTOR = KIT.<FenceProtocol.Command>createTestProbe().ref();
  private static final ActorRef<ContextOwner.Command> OWNER = KIT.<ContextOwner.Command>createTestProbe().ref();

  private final List<String> violations = new ArrayList<>();
  private final List<Violation.Kind> fatal = new ArrayList<>();
  private final List<Integer> followed = new ArrayList<>();
  private final ResvList list = new ResvList(new ResvList.Hooks() {
    @Override
    public void violation(Violation.Kind kind, String detail) {
      violations.add(kind + ": " + detail);
    }

    @Override
    public void fatal(Violation.Kind kind, String detail) {
      fatal.add(kind);
    }

    @Override
    public void follow(FenceRef fence, int key) {
      followed.add(key);
    }
  });

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static FenceRef fence(long context, long seqno) {
    return new FenceRef(new FenceId(new FenceContext(1, context), seqno), FenceRef.Kind.HARDWARE, false, ACTOR, OWNER, 0);
  }

  @Test
  void theFirstReserveGivesAtLeastFourSlotsThenRoundsUpToAPowerOfTwo() {
    list.reserve(1);
    assertEquals(4, list.maxFences());
    ResvList big = new ResvList(null);
    big.reserve(5);
    assertEquals(8, big.maxFences());
  }

  @Test
  void aLaterReserveGrowsToTheLargerOfCountPlusNAndTwiceTheCapacity() {
    list.reserve(4);
    for (int c = 1; c <= 4; c++) {
      assertEquals(0, list.addModern(fence(c, 1), ResvUsage.WRITE));
    }
    list.reserve(1);
    assertEquals(8, list.maxFences()); // max(4 + 1, 2 * 4)
    list.reserve(20);
    assertEquals(24, list.maxFences()); // max(4 + 20, 2 * 8)
  }

  @Test
  void reservingZeroIsAWarnAndReservesNothing() {
    list.reserve(0);
    assertEquals(1, violations.size());
    assertTrue(violations.get(0).startsWith("RESV_NO_SLOT"), violations.toString());
    assertEquals(0, list.maxFences()); // an empty list already has the 0 free slots asked for
  }

  @Test
  void addingWithoutAReservedSlotIsAFatalBugAnsweredWithENOSPC() {
    assertEquals(-28, list.addModern(fence(1, 1), ResvUsage.WRITE));
    assertEquals(List.of(Violation.Kind.RESV_NO_SLOT), fatal);
    assertEquals(0, list.count());
  }

  @Test
  void aLaterFenceOfTheSameContextReplacesItsPredecessorInPlace() {
    list.reserve(1);
    list.addModern(fence(1, 1), ResvUsage.WRITE);
    assertEquals(0, list.addModern(fence(1, 2), ResvUsage.WRITE));
    assertEquals(1, list.count());
    assertEquals(2, list.selectUpTo(ResvUsage.BOOKKEEP).get(0).fence.id().seqno());
  }

  @Test
  void aFenceOfAWeakerUsageDoesNotReplaceAStrongerOne() {
    list.reserve(2);
    list.addModern(fence(1, 1), ResvUsage.KERNEL);
    list.addModern(fence(1, 2), ResvUsage.READ);
    assertEquals(2, list.count());
  }

  @Test
  void aSignalledFenceIsReplacedByAnyNewOne() {
    list.reserve(1);
    list.addModern(fence(1, 1), ResvUsage.WRITE);
    list.signalled(followed.get(0), 500);
    assertEquals(0, list.addModern(fence(2, 1), ResvUsage.READ));
    assertEquals(1, list.count());
  }

  @Test
  void aQueryForAUsageSeesEveryFenceOfThatUsageOrStronger() {
    list.reserve(3);
    list.addModern(fence(1, 1), ResvUsage.KERNEL);
    list.addModern(fence(2, 1), ResvUsage.WRITE);
    list.addModern(fence(3, 1), ResvUsage.READ);
    assertEquals(2, list.selectUpTo(ResvUsage.WRITE).size());
    assertEquals(3, list.selectUpTo(ResvUsage.BOOKKEEP).size());
  }

  @Test
  void reserveCompactsSignalledFences() {
    list.reserve(2);
    list.addModern(fence(1, 1), ResvUsage.WRITE);
    list.addModern(fence(2, 1), ResvUsage.WRITE);
    list.signalled(followed.get(0), 100);
    list.reserve(1);
    assertEquals(1, list.count());
  }

  @Test
  void unlockForgetsUnusedReservations() {
    list.reserve(4);
    list.addModern(fence(1, 1), ResvUsage.WRITE);
    list.forgetReservations();
    assertEquals(1, list.maxFences());
  }

  @Test
  void theExclusiveAddOf2020DropsEverySharedFenceAndFlagsTheUnorderedOnes() {
    list.reserve(2);
    list.addShared(fence(1, 1), List.of(), "dma_resv_add_shared_fence");
    list.addShared(fence(2, 1), List.of(), "dma_resv_add_shared_fence");
    list.addExclusive(fence(3, 1), List.of(fence(1, 1).id().toString()), "dma_resv_add_excl_fence");
    assertEquals(1, list.count());
    assertEquals(1, violations.size()); // context 2's fence was not ordered before the new exclusive one
    assertTrue(violations.get(0).startsWith("RESV_REPLACE_HAZARD"), violations.toString());
  }

  @Test
  void waitAllOf2020SeesTheExclusiveFenceOnlyWhenThereIsNoSharedOne() {
    list.addExclusive(fence(3, 1), List.of(), "dma_resv_add_excl_fence");
    assertEquals(3, list.select2020(true).get(0).fence.id().context().id());
    list.reserve(1);
    list.addShared(fence(1, 1), List.of(), "dma_resv_add_shared_fence");
    assertEquals(1, list.select2020(true).get(0).fence.id().context().id());
    assertEquals(3, list.select2020(false).get(0).fence.id().context().id());
  }

  @Test
  void aSignalForAFenceNoLongerListedIsIgnored() {
    list.reserve(1);
    list.addModern(fence(1, 1), ResvUsage.WRITE);
    int replacedKey = followed.get(0);
    list.addModern(fence(1, 2), ResvUsage.WRITE);
    list.signalled(replacedKey, 100);
    assertFalse(list.selectUpTo(ResvUsage.BOOKKEEP).get(0).signalled);
  }
}
