package dev.fencelab.node.mm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * {@code mm->mmap_lock}, a fair reader-writer semaphore: mmap, munmap, mprotect and fork take it for write; page faults,
 * {@code hmm_range_fault} and madvise(DONTNEED) for read. A caller that cannot have it now is queued (never a sleeping
 * thread) and runs when the holders release it; a queued writer stops later readers from jumping it, as rwsem does.
 */
final class MmapLock {
  /** Where the lock's wait-for edges go: a queued caller waits for the lock, the lock waits for its holders. */
  interface Edges {
    long add(String from, String to, String reason);

    void remove(long edge);
  }

  private record Pending(boolean write, String who, Runnable then, long edge) {}

  private final String vertex;
  private final Edges edges;
  private int readers;
  private String writer;
  private final List<String> readerNames = new ArrayList<>();
  private final java.util.Map<String, Long> heldEdges = new java.util.HashMap<>();
  private final Deque<Pending> queue = new ArrayDeque<>();

  /** @param vertex the lock in the wait-for graph ({@code mmap_lock n1/p}) */
  MmapLock(String vertex, Edges edges) {
    this.vertex = vertex;
    this.edges = edges;
  }

  /** Runs {@code then} now or once the lock is granted; the holder must {@link #release} it. */
  void acquire(boolean write, String who, Runnable then) {
    if (queue.isEmpty() && grantable(write)) {
      grant(write, who);
      then.run();
    } else {
      queue.add(new Pending(write, who, then, edges.add(who, vertex, write ? "mmap_write_lock" : "mmap_read_lock")));
    }
  }

  /** {@code mmap_read_trylock}: the read lock now, or false (a writer holds it or waits for it). */
  boolean tryRead(String who) {
    if (!queue.isEmpty() || !grantable(false)) {
      return false;
    }
    grant(false, who);
    return true;
  }

  private boolean grantable(boolean write) {
    return writer == null && (!write || readers == 0);
  }

  private void grant(boolean write, String who) {
    heldEdges.put(who, edges.add(vertex, who, write ? "held for write by" : "held for read by"));
    if (write) {
      writer = who;
    } else {
      readers++;
      readerNames.add(who);
    }
  }

  void release(boolean write, String who) {
    Long held = heldEdges.remove(who);
    if (held != null) {
      edges.remove(held);
    }
    if (write) {
      writer = null;
    } else {
      readers--;
      readerNames.remove(who);
    }
    while (!queue.isEmpty() && grantable(queue.peek().write())) {
      Pending p = queue.poll();
      edges.remove(p.edge());
      grant(p.write(), p.who());
      p.then().run();
    }
  }

  /** Who holds it now ({@code write: munmap}, {@code read: …}), for wait chains; empty when free. */
  String holders() {
    return writer != null ? "write: " + writer : readers > 0 ? "read: " + String.join(", ", readerNames) : "";
  }

  int queued() {
    return queue.size();
  }
}
