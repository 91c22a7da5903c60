package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** kernel-semantics §1.2: 32-bit wrap-around and 64-bit seqno ordering. */
class SeqnosTest {
  @Test
  void shouldTreatOneAsLaterThanMaxU32With32BitSeqnos() {
    assertTrue(Seqnos.isLater(1, 0xFFFFFFFFL, false));
  }

  @Test
  void shouldNotTreatHalfRangeAwayAsLaterWith32BitSeqnos() {
    assertFalse(Seqnos.isLater(0x80000001L, 1, false));
  }

  @Test
  void shouldCompareOnlyLow32BitsWith32BitSeqnos() {
    assertFalse(Seqnos.isLater(0x1_0000_0001L, 2, false));
  }

  @Test
  void shouldCompareUnsigned64BitWith64BitSeqnos() {
    assertFalse(Seqnos.isLater(1, 0xFFFFFFFFL, true));
    assertTrue(Seqnos.isLater(0xFFFF_FFFF_FFFF_FFFFL, 1, true));
  }

  @Test
  void shouldTreatSameSeqnoAsLaterOrSameButNotLater() {
    assertFalse(Seqnos.isLater(7, 7, false));
    assertTrue(Seqnos.isLaterOrSame(7, 7, true));
  }
}
