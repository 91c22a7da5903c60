package dev.fencelab.node.resv;

import dev.fencelab.node.check.Violation;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.Seqnos;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fences of one reservation object (kernel-semantics §1.9): modern, one list of fences with usages
 * ({@code struct dma_resv_list}); 2020, a shared list and one exclusive fence. The state and the rules, no messaging,
 * as {@link WwMutex} is for the lock: replacing in place, appending into reserved slots, the slot count
 * ({@code dma_resv_reserve_fences}, reset on unlock), the premature-free check, and the selections queries and waits
 * use. What a rule reports and which fences must be followed go out through {@link Hooks}.
 */
final class ResvList {
  /** What the list needs from its object: its violations, and a follower per fence added. */
  interface Hooks {
    void violation(Violation.Kind kind, String detail);

    /** A kernel BUG: recorded, and the operation does not happen. */
    void fatal(Violation.Kind kind, String detail);

    /** Follows an unsignalled fence; its signal comes back as {@link #signalled(int, long)} with this key. */
    void follow(FenceRef fence, int key);
  }

  /** One entry: a fence, its usage, and whether it is known to have signalled. */
  static final class Slot {
    final int key;
    final FenceRef fence;
    final ResvUsage usage;
    boolean signalled;
    /** The model time it signalled at (known once followed). */
    long signalModel;

    Slot(int key, FenceRef fence, ResvUsage usage) {
      this.key = key;
      this.fence = fence;
      this.usage = usage;
    }
  }

  private final Hooks hooks;
  /** Modern: every fence. 2020: the shared fences. */
  private final List<Slot> slots = new ArrayList<>();
  private final Map<Integer, Slot> byKey = new HashMap<>();
  private Slot exclusive; // 2020 only
  private int maxFences;
  private int nextKey;

  ResvList(Hooks hooks) {
    this.hooks = hooks;
  }

  int count() {
    return slots.size() + (exclusive != null ? 1 : 0);
  }

  int maxFences() {
    return maxFences;
  }

  /** Unlock forgets unused reservations (CONFIG_DEBUG_MUTEXES), so a missing reserve is always caught. */
  void forgetReservations() {
    maxFences = count();
  }

  /**
   * {@code dma_resv_reserve_fences(n)}: compacts signalled fences, then grows the capacity to
   * {@code max(4, roundup_pow_of_two(n))} the first time and {@code max(num + n, 2 * max)} later.
   */
  void reserve(int n) {
    if (n <= 0) {
      hooks.violation(Violation.Kind.RESV_NO_SLOT, "dma_resv_reserve_fences(" + n + "): a driver bug (WARN)");
    }
    int wanted = Math.max(0, n);
    slots.removeIf(s -> {
      if (s.signalled) {
        byKey.remove(s.key);
      }
      return s.signalled; // compaction on reallocation
    });
    if (maxFences - slots.size() < wanted) {
      maxFences = maxFences == 0 ? Math.max(4, roundUpPowerOfTwo(wanted)) : Math.max(slots.size() + wanted, 2 * maxFences);
    }
  }

  /** A submission's own {@code dma_resv_reserve_fences(1)}, without compaction. */
  void reserveOne() {
    if (maxFences - slots.size() < 1) {
      maxFences = maxFences == 0 ? 4 : Math.max(slots.size() + 1, 2 * maxFences);
    }
  }

  private static int roundUpPowerOfTwo(int n) {
    return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
  }

  /** Modern {@code dma_resv_add_fence}: 0, or -ENOSPC when no slot was reserved (the fence is not added). */
  int addModern(FenceRef fence, ResvUsage usage) {
    if (fence.isContainer()) {
      hooks.violation(Violation.Kind.NESTED_CONTAINER, "dma_resv_add_fence with container " + fence + " (add its leaves)");
    }
    for (int i = 0; i < slots.size(); i++) {
      Slot old = slots.get(i);
      boolean sameTimelineLater = old.fence.id().context().equals(fence.id().context())
          && old.usage.ordinal() >= usage.ordinal()
          && Seqnos.isLaterOrSame(fence.id().seqno(), old.fence.id().seqno(), fence.seqno64());
      if (sameTimelineLater || old.signalled) {
        replaceAt(i, fence, usage);
        return 0;
      }
    }
    return append(fence, usage);
  }

  /** 2020 {@code dma_resv_add_shared_fence}: replaces a fence of the same context (any seqno) or a signalled one. */
  int addShared(FenceRef fence, List<String> orderedAfter, String call) {
    for (int i = 0; i < slots.size(); i++) {
      Slot old = slots.get(i);
      if (old.fence.id().context().equals(fence.id().context()) || old.signalled) {
        checkOrdered(old, fence, orderedAfter, call);
        replaceAt(i, fence, ResvUsage.READ);
        return 0;
      }
    }
    return append(fence, ResvUsage.READ);
  }

  /** 2020 {@code dma_resv_add_excl_fence}: drops every shared fence and the old exclusive one ({@code fence} may be null). */
  void addExclusive(FenceRef fence, List<String> orderedAfter, String call) {
    List<Slot> dropped = new ArrayList<>(slots);
    if (exclusive != null) {
      dropped.add(exclusive);
    }
    for (Slot d : dropped) {
      checkOrdered(d, fence, orderedAfter, call);
      byKey.remove(d.key);
    }
    slots.clear(); // the DAG assumption: the new exclusive fence signals after everything it replaces
    exclusive = fence == null ? null : follow(fence, ResvUsage.WRITE);
  }

  /** König's hazard: an unsignalled fence may only be replaced by one that cannot signal before it. */
  private void checkOrdered(Slot old, FenceRef replacement, List<String> orderedAfter, String call) {
    if (old.signalled) {
      return;
    }
    boolean ordered = replacement != null && (orderedAfter.contains(old.fence.id().toString())
        || old.fence.id().context().equals(replacement.id().context())
            && Seqnos.isLaterOrSame(replacement.id().seqno(), old.fence.id().seqno(), replacement.seqno64()));
    if (!ordered) {
      hooks.violation(Violation.Kind.RESV_REPLACE_HAZARD, call + " replaced unsignalled " + old.fence
          + " with " + (replacement == null ? "nothing" : replacement.toString())
          + ", which is not ordered after it: the buffer can be seen idle (and freed) while " + old.fence + " is still pending");
    }
  }

  private void replaceAt(int index, FenceRef fence, ResvUsage usage) {
    byKey.remove(slots.get(index).key);
    slots.set(index, follow(fence, usage));
  }

  private int append(FenceRef fence, ResvUsage usage) {
    if (slots.size() >= maxFences) {
      hooks.fatal(Violation.Kind.RESV_NO_SLOT, "adding " + fence + " without a reserved slot ("
          + slots.size() + "/" + maxFences + "): kernel BUG; the fence is not added");
      return Errno.ENOSPC.negative();
    }
    slots.add(follow(fence, usage));
    return 0;
  }

  private Slot follow(FenceRef fence, ResvUsage usage) {
    Slot slot = new Slot(nextKey++, fence, usage);
    byKey.put(slot.key, slot);
    if (fence.isStub()) {
      slot.signalled = true;
    } else {
      hooks.follow(fence, slot.key);
    }
    return slot;
  }

  /** A followed fence signalled at {@code modelNanos}; a key no longer listed (replaced, dropped) is ignored. */
  void signalled(int key, long modelNanos) {
    Slot slot = byKey.get(key);
    if (slot != null) {
      slot.signalled = true;
      slot.signalModel = modelNanos;
    }
  }

  /** Modern: the fences whose usage is at most {@code usage} (2020: the exclusive fence first, then the shared). */
  List<Slot> selectUpTo(ResvUsage usage) {
    List<Slot> out = new ArrayList<>();
    if (exclusive != null && usage.includes(exclusive.usage)) {
      out.add(exclusive);
    }
    for (Slot s : slots) {
      if (usage.includes(s.usage)) {
        out.add(s);
      }
    }
    return out;
  }

  /** 2020: test_all/wait_all → shared fences (exclusive only when none); otherwise only the exclusive fence. */
  List<Slot> select2020(boolean all) {
    if (!all) {
      return exclusive == null ? List.of() : List.of(exclusive);
    }
    return slots.isEmpty() && exclusive != null ? List.of(exclusive) : List.copyOf(slots);
  }
}
