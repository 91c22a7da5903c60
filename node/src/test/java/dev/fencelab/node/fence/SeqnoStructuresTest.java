package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeqnoStructuresTest {
  @Test
  void theSeqnoMapAgreesWithAHashMapThroughRandomPutsAndRemovesWithCollidingKeys() {
    SeqnoMap<String> map = new SeqnoMap<>();
    Map<Long, String> model = new HashMap<>();
    Random random = new Random(7);
    for (int i = 0; i < 200_000; i++) {
      long key = random.nextInt(5_000) * 1024L - 100; // multiples of 1024 share low bits; negatives are seqnos too (unsigned)
      if (random.nextInt(3) == 0) {
        assertEquals(model.remove(key), map.remove(key), "remove " + key);
      } else {
        assertEquals(model.put(key, "v" + i), map.put(key, "v" + i), "put " + key);
      }
      if (i % 9_999 == 0) {
        for (Map.Entry<Long, String> e : model.entrySet()) {
          assertEquals(e.getValue(), map.get(e.getKey()));
        }
      }
    }
    assertEquals(model.size(), map.size());
    Set<Long> keys = new HashSet<>();
    for (long k : map.keys()) {
      keys.add(k);
    }
    assertEquals(model.keySet(), keys);
    assertNull(map.get(-1L));
    assertFalse(map.containsKey(123_456_789L));
  }

  @Test
  void theSeqnoMapShrinksBackWhenItEmpties() {
    SeqnoMap<Integer> map = new SeqnoMap<>();
    for (int i = 0; i < 100_000; i++) {
      map.put(i, i);
    }
    for (int i = 0; i < 100_000; i++) {
      assertEquals(i, map.remove(i));
    }
    assertTrue(map.isEmpty());
    map.put(5, 5);
    assertEquals(5, map.get(5));
  }

  @Test
  void theOrderGivesTheEarliestPresentSeqnoInUnsignedOrderWithOutOfOrderInsertions() {
    SeqnoOrder order = new SeqnoOrder();
    Set<Long> present = new HashSet<>();
    for (long s : new long[] {5, 6, 9, 7, -2, 1}) { // -2 is 2^64-2: the latest in unsigned order
      order.add(s);
      present.add(s);
    }
    assertEquals(1, order.first(present::contains, present.size(), -1));
    present.remove(1L);
    present.remove(5L);
    assertEquals(6, order.first(present::contains, present.size(), -1));
    present.remove(6L);
    present.remove(7L);
    present.remove(9L);
    assertEquals(-2, order.first(present::contains, present.size(), -1));
    present.clear();
    assertEquals(42, order.first(present::contains, 0, 42), "none present: the caller's value");
  }

  @Test
  void theOrderStaysInProportionToThePresentSeqnosWhenAnEarlyOneNeverGoes() {
    SeqnoOrder order = new SeqnoOrder();
    Set<Long> present = new HashSet<>();
    order.add(0);
    present.add(0L); // a stuck fence: always the earliest
    for (long s = 1; s <= 1_000_000; s++) {
      order.add(s);
      present.add(s);
      if (s > 10) {
        present.remove(s - 10); // later ones come and go
      }
      if (s % 1_000 == 0) {
        assertEquals(0, order.first(present::contains, present.size(), -1));
      }
    }
    assertTrue(order.held() < 1_000, "held " + order.held() + " for " + present.size() + " present");
  }
}
