package dev.fencelab.node.lockdep;

import dev.fencelab.protocol.lockdep.LockClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One kernel code path's held locks, as lockdep keeps them per task (kernel-semantics §1.18). Not thread-safe: a task
 * belongs to the actor that runs the path (a driver's run_job, a scenario's kernel thread).
 *
 * <p>Dependencies follow lockdep's {@code check_prevs_add}: acquiring B adds {@code A → B} from the nearest held lock A
 * that is not a trylock, and from every trylock held above it; a trylock adds no dependency to what it acquires (it
 * cannot block). Acquiring a class already held adds nothing (nested ww/resv locks).
 */
public final class KernelTask {
  /** A held lock: its class, how it was taken, and whether it was taken inside a signalling section. */
  public record Held(String lockClass, boolean read, boolean trylock, boolean inSection) {
    @Override
    public String toString() {
      return lockClass + (read ? " (read)" : "") + (trylock ? " (trylock)" : "");
    }
  }

  /**
   * {@code from → to}, seen by {@code task} doing {@code what}.
   *
   * @param inSection the task was inside a signalling section
   * @param fromInSection {@code from} was taken inside that section (a lock acquired after begin_signalling)
   * @param held the task's locks at that moment, outermost first
   */
  public record Dependency(String from, String to, String task, String what, boolean inSection, boolean fromInSection, List<String> held) {
    public Dependency {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      held = List.copyOf(held);
    }
  }

  /** Where dependencies go (the member's {@link Lockdep}, or a list in a test). */
  @FunctionalInterface
  public interface Sink {
    void dependency(Dependency dependency);

    /** Whether {@code from → to} is worth describing (not seen yet): a seen one costs no description. */
    default boolean wants(String from, String to) {
      return true;
    }

    /** A signalling section of {@code task} begins ({@code what}) and returns its id, or ends ({@code id}). */
    default long section(String task, long id, boolean begin, String what) {
      return 0;
    }
  }

  private final String name;
  private final Sink sink;
  private final ArrayList<Held> held = new ArrayList<>();
  private long section;

  public KernelTask(String name, Sink sink) {
    this.name = Objects.requireNonNull(name, "name");
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  public String name() {
    return name;
  }

  /** Whether the task holds {@code dma_fence_map} for read: it is inside a signalling section. */
  public boolean inSection() {
    return indexOf(LockClass.DMA_FENCE_MAP) >= 0;
  }

  public List<Held> held() {
    return List.copyOf(held);
  }

  public boolean holds(String lockClass) {
    return indexOf(lockClass) >= 0;
  }

  /**
   * {@code dma_fence_begin_signalling()}: returns the cookie — true (nothing acquired) when already inside a section or
   * in atomic context, else false after read-acquiring {@code dma_fence_map} (a read-trylock: no dependency of its own).
   */
  public boolean beginSignalling(boolean atomic) {
    return beginSignalling(atomic, name);
  }

  /** {@link #beginSignalling(boolean)}, the section traced as {@code what} (a slice on the task's track). */
  public boolean beginSignalling(boolean atomic, String what) {
    if (atomic || inSection()) {
      return true;
    }
    held.add(new Held(LockClass.DMA_FENCE_MAP, true, true, false));
    section = sink.section(name, 0, true, what);
    return false;
  }

  /** {@code dma_fence_end_signalling(cookie)}: releases the map unless the cookie says begin was a no-op. */
  public void endSignalling(boolean cookie) {
    if (!cookie && release(LockClass.DMA_FENCE_MAP)) {
      sink.section(name, section, false, "");
    }
  }

  /** {@code lock_acquire}: the dependencies first (lockdep checks before it may block), then the lock is held. */
  public void acquire(String lockClass, boolean read, boolean trylock, String what) {
    if (!trylock) {
      depend(lockClass, what, inSection());
    }
    held.add(new Held(lockClass, read, trylock, inSection()));
  }

  /** {@code lock_release} of the innermost hold of {@code lockClass}; false if the task does not hold it. */
  public boolean release(String lockClass) {
    int i = indexOf(lockClass);
    if (i < 0) {
      return false;
    }
    held.remove(i);
    return true;
  }

  /**
   * {@code __dma_fence_might_wait()}: every fence and resv wait. The section's read hold is dropped, the map is
   * write-acquired (a dependency from whatever else is held) and released, and the read hold comes back.
   */
  public void mightWait(String what) {
    int i = indexOf(LockClass.DMA_FENCE_MAP);
    Held section = i >= 0 ? held.remove(i) : null;
    depend(LockClass.DMA_FENCE_MAP, what, section != null);
    if (section != null) {
      held.add(i, section);
    }
  }

  /**
   * {@code might_alloc(gfp)} / {@code fs_reclaim_acquire}: with direct reclaim, {@code fs_reclaim} (if {@code __GFP_FS})
   * and the mmu-notifier map are acquired and released; GFP_ATOMIC and GFP_NOWAIT touch nothing.
   */
  public void mightAlloc(Gfp gfp, String what) {
    if (!gfp.directReclaim()) {
      return;
    }
    if (gfp.fs()) {
      acquire(LockClass.FS_RECLAIM, false, false, what);
    }
    acquire(LockClass.MMU_NOTIFIER, false, false, what);
    release(LockClass.MMU_NOTIFIER);
    if (gfp.fs()) {
      release(LockClass.FS_RECLAIM);
    }
  }

  /** {@code dma_fence_signal()}: wrapped in begin/end signalling; adds nothing. */
  public void signal() {
    endSignalling(beginSignalling(false));
  }

  private void depend(String to, String what, boolean section) {
    for (int i = held.size() - 1; i >= 0; i--) {
      Held h = held.get(i);
      if (!h.lockClass().equals(to) && sink.wants(h.lockClass(), to)) {
        sink.dependency(new Dependency(h.lockClass(), to, name, what, section, h.inSection(),
            held.stream().map(Held::toString).toList()));
      }
      if (!h.trylock()) {
        break;
      }
    }
  }

  private int indexOf(String lockClass) {
    for (int i = held.size() - 1; i >= 0; i--) {
      if (held.get(i).lockClass().equals(lockClass)) {
        return i;
      }
    }
    return -1;
  }
}
