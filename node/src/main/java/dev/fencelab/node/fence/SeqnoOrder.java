package dev.fencelab.node.fence;

import java.util.function.LongPredicate;

/**
 * Seqnos in unsigned order, appended as a context creates them (an out-of-order one, a mock fence's chosen seqno, is
 * inserted in place): the earliest one still present decides whether a signal is in order. Removal is lazy — the owner
 * says what is present — and the array is compacted once most of it is gone: 8 bytes per pending fence, no box, no
 * tree node. Not thread-safe: one actor owns it.
 */
final class SeqnoOrder {
  private long[] seqnos = new long[16];
  private int head;
  private int tail;

  void add(long seqno) {
    if (tail == seqnos.length) {
      compactOrGrow(null, 0);
    }
    if (head == tail || Long.compareUnsigned(seqno, seqnos[tail - 1]) > 0) {
      seqnos[tail++] = seqno;
      return;
    }
    int lo = head;
    int hi = tail;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(seqnos[mid], seqno) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    System.arraycopy(seqnos, lo, seqnos, lo + 1, tail - lo);
    seqnos[lo] = seqno;
    tail++;
  }

  /**
   * The earliest seqno for which {@code present} holds, or {@code none}; the ones before it are dropped. {@code live} is
   * how many are present in all: when the array holds far more, the absent ones are dropped everywhere.
   */
  long first(LongPredicate present, int live, long none) {
    while (head < tail && !present.test(seqnos[head])) {
      head++;
    }
    if (tail - head > 64 && tail - head > 4 * live) {
      compactOrGrow(present, live);
    }
    return head < tail ? seqnos[head] : none;
  }

  /** How many seqnos the array holds, present or not (for tests: it stays in proportion to the live ones). */
  int held() {
    return tail - head;
  }

  private void compactOrGrow(LongPredicate present, int live) {
    int n = 0;
    long[] target = seqnos;
    int needed = present == null ? tail - head : live;
    if (needed * 2 > seqnos.length) {
      target = new long[Math.max(16, needed * 2)];
    }
    long previous = 0;
    for (int i = head; i < tail; i++) {
      long s = seqnos[i];
      if ((present == null || present.test(s)) && (n == 0 || s != previous)) {
        target[n++] = s;
        previous = s;
      }
    }
    seqnos = target;
    head = 0;
    tail = n;
  }
}
