package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.mm.IntervalNotifiers.CallbackOutcome;
import dev.fencelab.node.mm.IntervalNotifiers.Interval;
import java.util.List;
import org.junit.jupiter.api.Test;

/** mmu_interval_notifier, rule by rule (kernel-semantics §1.14), with the kernel's exact values. */
class IntervalNotifiersTest {
  private static final long PAGE = 4096;
  private final IntervalNotifiers<String> mm = new IntervalNotifiers<>();

  private Interval insert(long start, long length) {
    IntervalNotifiers.Inserted r = mm.insert(start, length);
    assertEquals(0, r.errno());
    return r.interval();
  }

  @Test
  void theSequenceStartsAtTwo() {
    assertEquals(2, mm.invalidateSeq());
    assertFalse(mm.invalidating());
  }

  @Test
  void anIntervalInsertedWhileNothingInvalidatesGetsTheSequenceMinusOne() {
    Interval i = insert(0x10000, PAGE);
    assertEquals(1, i.seq());
    assertTrue(i.inTree());
    assertEquals(0x10000 + PAGE - 1, i.last());
  }

  @Test
  void anEmptyOrOverflowingIntervalIsEOVERFLOW() {
    assertEquals(-75, mm.insert(0x1000, 0).errno());
    assertEquals(-75, mm.insert(-PAGE, 2 * PAGE).errno()); // start + length - 1 wraps past 2^64
    assertEquals(0, mm.insert(-PAGE, PAGE).errno()); // ends exactly at the top: fine
  }

  @Test
  void anInvalidationThatHitsAnIntervalMakesTheSequenceOddAndItsEndEven() {
    Interval i = insert(0x10000, PAGE);
    IntervalNotifiers.Start start = mm.start(0x10000, 0x10000 + PAGE);
    assertEquals(3, start.seq());
    assertEquals(List.of(i), start.hit());
    assertTrue(mm.invalidating());
    mm.end();
    assertEquals(4, mm.invalidateSeq());
  }

  @Test
  void anInvalidationThatHitsNothingLeavesTheSequenceEven() {
    insert(0x10000, PAGE);
    IntervalNotifiers.Start start = mm.start(0x20000, 0x30000);
    assertEquals(2, start.seq());
    assertTrue(start.hit().isEmpty());
    assertEquals(List.of(), mm.end());
    assertEquals(2, mm.invalidateSeq());
  }

  @Test
  void theSequenceBecomesEvenOnlyWhenTheLastActiveRangeEnds() {
    insert(0x10000, PAGE);
    mm.start(0x10000, 0x11000);
    mm.start(0x40000, 0x41000);
    mm.end();
    assertEquals(3, mm.invalidateSeq(), "one range still active");
    mm.end();
    assertEquals(4, mm.invalidateSeq());
  }

  @Test
  void readBeginWaitsWhileAnInvalidationThatHitTheIntervalRuns() {
    Interval i = insert(0x10000, PAGE);
    IntervalNotifiers.Start start = mm.start(0x10000, 0x11000);
    mm.setSeq(i, start.seq()); // the driver's callback, under its lock

    IntervalNotifiers.ReadBegin begin = mm.readBegin(i, "reader");

    assertTrue(begin.waits());
    assertEquals(3, begin.seq());
    assertEquals(List.of("reader"), mm.end(), "woken when the sequence is released");
    assertFalse(mm.readRetry(i, begin.seq()), "no invalidation since: the fault result may be published");
  }

  @Test
  void readBeginDoesNotWaitWhenNoInvalidationHitTheInterval() {
    Interval i = insert(0x10000, PAGE);
    IntervalNotifiers.ReadBegin begin = mm.readBegin(i, "reader");
    assertFalse(begin.waits());
    assertEquals(1, begin.seq());
  }

  @Test
  void readRetryIsTrueAfterAnInvalidationSetTheIntervalsSequence() {
    Interval i = insert(0x10000, PAGE);
    long seq = mm.readBegin(i, "reader").seq();
    IntervalNotifiers.Start start = mm.start(0x10000, 0x11000);
    mm.setSeq(i, start.seq());
    mm.end();
    assertTrue(mm.readRetry(i, seq));
  }

  @Test
  void anInsertDuringAnInvalidationOfTheTreeIsDeferredWithTheOddSequence() {
    insert(0x10000, PAGE);
    mm.start(0x10000, 0x11000);

    Interval late = insert(0x80000, PAGE);

    assertEquals(3, late.seq());
    assertFalse(late.inTree(), "deferred: the tree may not change while it is walked");
    assertTrue(mm.readBegin(late, "reader").waits(), "its first read_begin waits for the invalidation");
    assertEquals(List.of("reader"), mm.end());
    assertTrue(late.inTree());
  }

  @Test
  void anInsertWhileARangeIsActiveButTheTreeIsNotInvalidatingMakesItSo() {
    mm.start(0x10000, 0x11000); // hits nothing: the sequence stays even
    Interval i = insert(0x10000, PAGE);
    assertEquals(3, i.seq());
    assertTrue(i.inTree());
    assertTrue(mm.invalidating());
    mm.end();
    assertEquals(4, mm.invalidateSeq());
  }

  @Test
  void removeDuringAnInvalidationWaitsForItsEnd() {
    Interval i = insert(0x10000, PAGE);
    mm.start(0x10000, 0x11000);

    assertFalse(mm.remove(i, "remover"));
    assertTrue(i.inTree(), "still in the tree until the invalidation ends");
    assertEquals(List.of("remover"), mm.end());
    assertFalse(i.inTree());
    assertTrue(mm.intervals().isEmpty());
  }

  @Test
  void removeWhileNothingInvalidatesIsImmediate() {
    Interval i = insert(0x10000, PAGE);
    assertTrue(mm.remove(i, "remover"));
    assertFalse(i.inTree());
  }

  @Test
  void removingAnIntervalWhoseInsertWasDeferredDropsItWithoutWaiting() {
    insert(0x10000, PAGE);
    mm.start(0x10000, 0x11000);
    Interval late = insert(0x80000, PAGE);
    assertTrue(mm.remove(late, "remover"));
    mm.end();
    assertFalse(late.inTree());
    assertEquals(1, mm.intervals().size());
  }

  @Test
  void aCallbackThatCannotBlockOnANonBlockableRangeEndsTheRoundWithEAGAIN() {
    assertEquals(CallbackOutcome.WOULD_BLOCK, IntervalNotifiers.callback(false, false));
  }

  @Test
  void aCallbackReturningFalseOnABlockableRangeIsTheWarnAndTheRoundGoesOn() {
    assertEquals(CallbackOutcome.WARN_AND_CONTINUE, IntervalNotifiers.callback(false, true));
    assertEquals(CallbackOutcome.CONTINUE, IntervalNotifiers.callback(true, false));
  }

  @Test
  void intervalsAreHitByOverlapWithTheirLastAddressIncluded() {
    Interval i = insert(0x10000, PAGE); // [0x10000, 0x10fff]
    assertEquals(List.of(i), mm.start(0x10fff, 0x11000).hit());
    mm.end();
    assertTrue(mm.start(0x11000, 0x12000).hit().isEmpty());
    mm.end();
    assertNull(mm.insert(0, 0).interval());
  }
}
