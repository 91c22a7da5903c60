package dev.fencelab.node.fence;

import java.util.Arrays;

/**
 * A map from seqno to a value without a box or an entry object per seqno: open addressing with linear probing and
 * backward-shift deletion over a {@code long[]} of keys and an {@code Object[]} of values (null: a free slot). A context
 * owner keeps every pending fence here: about 20 bytes per fence where a {@code HashMap<Long, V>} took about 60.
 * Not thread-safe: one actor owns it.
 */
final class SeqnoMap<V> {
  private static final int MIN_CAPACITY = 16;

  private long[] keys = new long[MIN_CAPACITY];
  private Object[] values = new Object[MIN_CAPACITY];
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  @SuppressWarnings("unchecked")
  V get(long key) {
    int i = find(key);
    return i < 0 ? null : (V) values[i];
  }

  boolean containsKey(long key) {
    return find(key) >= 0;
  }

  /** Sets {@code key}'s value ({@code value} not null); returns the previous one or null. */
  @SuppressWarnings("unchecked")
  V put(long key, V value) {
    if (value == null) {
      throw new IllegalArgumentException("SeqnoMap holds no null values");
    }
    if ((size + 1) * 4 > values.length * 3) {
      resize(values.length * 2);
    }
    int mask = values.length - 1;
    for (int i = slot(key, mask); ; i = (i + 1) & mask) {
      if (values[i] == null) {
        keys[i] = key;
        values[i] = value;
        size++;
        return null;
      }
      if (keys[i] == key) {
        V old = (V) values[i];
        values[i] = value;
        return old;
      }
    }
  }

  /** Removes {@code key}; returns its value or null. */
  @SuppressWarnings("unchecked")
  V remove(long key) {
    int i = find(key);
    if (i < 0) {
      return null;
    }
    V old = (V) values[i];
    int mask = values.length - 1;
    // Backward shift: move later members of the probe run into the hole, so that lookups never need tombstones.
    int hole = i;
    for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
      int home = slot(keys[j], mask);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
    }
    values[hole] = null;
    size--;
    if (values.length > MIN_CAPACITY && size * 8 < values.length) {
      resize(values.length / 2);
    }
    return old;
  }

  /** Every key, in no particular order. */
  long[] keys() {
    long[] out = new long[size];
    int n = 0;
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        out[n++] = keys[i];
      }
    }
    return out;
  }

  private int find(long key) {
    int mask = values.length - 1;
    for (int i = slot(key, mask); values[i] != null; i = (i + 1) & mask) {
      if (keys[i] == key) {
        return i;
      }
    }
    return -1;
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E3779B97F4A7C15L; // Fibonacci hashing: consecutive seqnos spread over the table
    return (int) (h ^ (h >>> 32)) & mask;
  }

  private void resize(int capacity) {
    long[] oldKeys = keys;
    Object[] oldValues = values;
    keys = new long[capacity];
    values = new Object[capacity];
    int mask = capacity - 1;
    for (int i = 0; i < oldValues.length; i++) {
      if (oldValues[i] != null) {
        int j = slot(oldKeys[i], mask);
        while (values[j] != null) {
          j = (j + 1) & mask;
        }
        keys[j] = oldKeys[i];
        values[j] = oldValues[i];
      }
    }
  }

  @Override
  public String toString() {
    return "SeqnoMap" + Arrays.toString(keys());
  }
}
