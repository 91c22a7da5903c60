package dev.fencelab.node.lockdep;

import dev.fencelab.protocol.lockdep.LockClass;
import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.protocol.Errno;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A run's hand-written kernel threads on this node and the named locks they take (the lock, unlock, begin_signalling
 * and end_signalling steps; alloc, wait, wait_timeout and signal with a {@code thread}). Each thread is a
 * {@link KernelTask} plus its stack of begin_signalling cookies; each lock is a mutex (or rwsem, with {@code read})
 * that really excludes: a thread that asks for a lock another holds waits, in order, until it is released. Bound in the
 * step executor's registry for the run; used on the executor's thread only.
 */
public final class KernelThreads {
  private static final String BINDING = "lockdep:threads";

  /** A kernel thread: its held locks and begin_signalling cookies. */
  public static final class Thread {
    private final KernelTask task;
    private final ArrayDeque<Boolean> cookies = new ArrayDeque<>();

    Thread(KernelTask task) {
      this.task = task;
    }

    public KernelTask task() {
      return task;
    }
  }

  private record Waiter(String thread, boolean read, CompletableFuture<Boolean> granted) {}

  private static final class Mutex {
    String writer;
    final Set<String> readers = new HashSet<>();
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    boolean free(boolean read) {
      return writer == null && (read || readers.isEmpty()) && waiters.isEmpty();
    }

    void take(String thread, boolean read) {
      if (read) {
        readers.add(thread);
      } else {
        writer = thread;
      }
    }

    String holders() {
      return writer != null ? writer : String.join(", ", readers);
    }
  }

  private final Lockdep lockdep;
  private final String node;
  private final Map<String, Thread> threads = new HashMap<>();
  private final Map<String, Mutex> locks = new HashMap<>();

  KernelThreads(Lockdep lockdep, String node) {
    this.lockdep = lockdep;
    this.node = node;
  }

  /** The run's threads on the call's node (made on first use). */
  public static KernelThreads of(StepCall call) {
    KernelThreads t = call.localOrNull(BINDING, KernelThreads.class);
    if (t == null) {
      t = new KernelThreads(Lockdep.get(call.system()), dev.fencelab.node.trace.TraceRecorder.get(call.system()).node());
      call.bindLocal(BINDING, t);
    }
    return t;
  }

  /** Thread {@code name} (made on first use; its trace track is {@code kthread <name>}). */
  public Thread thread(String name) {
    sweep();
    return threads.computeIfAbsent(name, n -> new Thread(lockdep.task("kthread " + n)));
  }

  public boolean beginSignalling(String thread, boolean atomic) {
    Thread t = thread(thread);
    boolean cookie = t.task.beginSignalling(atomic, "kthread " + thread);
    t.cookies.push(cookie);
    return cookie;
  }

  public void endSignalling(String thread) {
    Thread t = thread(thread);
    if (t.cookies.isEmpty()) {
      throw new StepFailure(Errno.EINVAL, "thread " + thread + " is in no signalling section (end_signalling without begin)");
    }
    t.task.endSignalling(t.cookies.pop());
  }

  /**
   * Thread {@code thread} takes lock {@code name}: the dependencies are recorded at once (lockdep checks before it
   * may block); the answer completes when the lock is the thread's (true), at once for a trylock (true or false).
   */
  public CompletableFuture<Boolean> lock(String thread, String name, boolean read, boolean trylock, String what) {
    Thread t = thread(thread);
    String cls = LockClass.of(name);
    if (t.task.holds(cls) && !read) {
      throw new StepFailure(Errno.EDEADLK, "thread " + thread + " already holds " + name + ": it would wait for itself");
    }
    Mutex m = locks.computeIfAbsent(name, n -> new Mutex());
    if (trylock && !m.free(read)) {
      return CompletableFuture.completedFuture(false);
    }
    t.task.acquire(cls, read, trylock, what);
    if (m.free(read)) {
      m.take(thread, read);
      return CompletableFuture.completedFuture(true);
    }
    Waiter w = new Waiter(thread, read, new CompletableFuture<>());
    m.waiters.add(w);
    return w.granted();
  }

  /** Who holds lock {@code name} now, for the answer of a lock step that gave up. */
  public String holders(String name) {
    Mutex m = locks.get(name);
    return m == null ? "" : m.holders();
  }

  /** {@code mutex_unlock}/{@code up_read}: -EINVAL (lockdep's bad unlock balance) unless the thread holds it. */
  public void unlock(String thread, String name) {
    Thread t = thread(thread);
    Mutex m = locks.get(name);
    boolean mine = m != null && (thread.equals(m.writer) || m.readers.contains(thread));
    if (!mine || !t.task.release(LockClass.of(name))) {
      throw new StepFailure(Errno.EINVAL, "thread " + thread + " does not hold " + name + " (bad unlock balance)");
    }
    if (thread.equals(m.writer)) {
      m.writer = null;
    } else {
      m.readers.remove(thread);
    }
    handOver(name, m);
  }

  /** Waiters whose step gave up (its bound; completed on another thread) never got their lock: forget them here. */
  private void sweep() {
    locks.forEach((name, m) -> m.waiters.removeIf(w -> {
      if (!w.granted().isDone()) {
        return false;
      }
      Thread t = threads.get(w.thread());
      if (t != null) {
        t.task.release(LockClass.of(name));
      }
      return true;
    }));
  }

  private void handOver(String name, Mutex m) {
    for (Iterator<Waiter> it = m.waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      boolean can = m.writer == null && (w.read() || m.readers.isEmpty());
      if (!can) {
        return;
      }
      it.remove();
      m.take(w.thread(), w.read());
      if (!w.granted().complete(true)) {
        // its bound fired in between: it is not waiting any more
        if (w.read()) {
          m.readers.remove(w.thread());
        } else {
          m.writer = null;
        }
        threads.get(w.thread()).task.release(LockClass.of(name));
        continue;
      }
      if (!w.read()) {
        return;
      }
    }
  }

  public String node() {
    return node;
  }
}
