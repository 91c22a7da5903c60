package dev.fencelab.node.mm;

import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.node.mm.MmProtocol.Reply;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Memory pressure on an mm, a part of {@link MmActor} run on its thread: the member's accounting of the mm's resident
 * pages ({@link HostMemory}), direct reclaim of them, the OOM reaper (mm/oom_kill.c: non-blockable invalidations that
 * give up on a subscriber that would block, retried), and an explicit invalidation of a range as reclaim or a migration
 * would make it — each one an invalidation round its subscribers see (kernel-semantics §1.14).
 */
final class MemoryPressure {
  /** One attempt of the OOM reaper, after {@code reaped} pages by the attempts before it. */
  record ReapAttempt(int attempt, long reaped, ActorRef<Reply> replyTo) implements MmActor.Internal {}

  /** mm/oom_kill.c: MAX_OOM_REAP_RETRIES attempts, schedule_timeout_idle(HZ/10) between them. */
  static final int MAX_OOM_REAP_RETRIES = 10;
  static final java.time.Duration OOM_REAP_PAUSE = java.time.Duration.ofMillis(100);

  private final String label;
  private final AddressSpace space;
  private final MmapLock mmapLock;
  private final DevicePrivateCalls.Rounds rounds;
  private final WaitEdges edges;
  private final TimerScheduler<MmProtocol.Command> timers;
  private final TraceRecorder trace;
  private final ActorRef<MmProtocol.Command> self;
  private final ActorRef<HostMemory.Command> memory;
  private long reportedResident = -1;

  /** @param memory the member's physical memory, told of this mm's resident pages (null: not accounted) */
  MemoryPressure(String label, AddressSpace space, MmapLock mmapLock, DevicePrivateCalls.Rounds rounds, WaitEdges edges,
      TimerScheduler<MmProtocol.Command> timers, TraceRecorder trace, ActorRef<MmProtocol.Command> self, ActorRef<HostMemory.Command> memory) {
    this.label = label;
    this.space = space;
    this.mmapLock = mmapLock;
    this.rounds = rounds;
    this.edges = edges;
    this.timers = timers;
    this.trace = trace;
    this.self = self;
    this.memory = memory;
  }

  /** Tells the member's memory how many pages this mm has resident, when that changed. */
  void reportResident() {
    long now = space.residentPages();
    if (memory != null && now != reportedResident) {
      reportedResident = now;
      memory.tell(new HostMemory.Resident(self, label, now));
    }
  }

  /** Direct reclaim: unmap every resident page (a blockable CLEAR round per mapping with pages); value = pages freed. */
  void reclaim(MmProtocol.Reclaim r) {
    long before = space.residentPages();
    List<Invalidation> ranges = space.residentRanges();
    rounds.round(ranges, true, "", "reclaim", () -> ranges.forEach(i -> space.reclaim(i.start(), i.end() - i.start())), result -> {
      long freed = before - space.residentPages();
      r.replyTo().tell(new Reply(result, freed, Map.of("freed", Long.toString(freed)), "reclaim: " + freed + " page(s) freed"));
    });
  }

  /** An explicit invalidation of a range: UNMAP and CLEAR unmap its pages (reclaim), MIGRATE moves them. */
  void invalidateRange(MmProtocol.InvalidateRange r) {
    if (r.end() <= r.start()) {
      r.replyTo().tell(Reply.of(Errno.EINVAL.negative(), "an empty range"));
      return;
    }
    boolean zaps = r.event() == MmuEvent.UNMAP || r.event() == MmuEvent.CLEAR;
    String who = (r.blockable() ? "" : "nonblock ") + r.event().name().toLowerCase(java.util.Locale.ROOT);
    rounds.round(List.of(new Invalidation(r.start(), r.end(), r.event())), r.blockable(), r.owner(), who,
        () -> {
          if (zaps) {
            space.reclaim(r.start(), r.end() - r.start());
          } else if (r.event() == MmuEvent.MIGRATE) {
            space.migrate(r.start(), r.end() - r.start());
          }
        },
        result -> r.replyTo().tell(Reply.of(result, who + (result == 0 ? ": done" : ": " + Errno.describe(result)))));
  }

  /** The OOM reaper on this mm: its first attempt now, or after the step's delay. */
  void oomReap(MmProtocol.OomReap r) {
    if (r.delay().isZero()) {
      reap(new ReapAttempt(1, 0, r.replyTo()));
    } else {
      timers.startSingleTimer(new ReapAttempt(1, 0, r.replyTo()), r.delay());
    }
  }

  /**
   * One attempt of the OOM reaper: mmap_read_trylock (fails while a writer holds it), then per private anonymous
   * mapping a non-blockable UNMAP — a mapping whose subscriber would block is skipped, the others are reaped. The
   * attempt succeeds when nothing was skipped; after {@link #MAX_OOM_REAP_RETRIES} the reaper gives up.
   */
  void reap(ReapAttempt a) {
    if (!mmapLock.tryRead(edges.op("oom_reaper"))) {
      reapFailed(a, a.reaped());
      return;
    }
    List<Invalidation> ranges = space.reapable();
    reapNext(a, ranges, 0, a.reaped(), false);
  }

  private void reapNext(ReapAttempt a, List<Invalidation> ranges, int i, long reaped, boolean skipped) {
    if (i == ranges.size()) {
      mmapLock.release(false, edges.op("oom_reaper"));
      if (skipped) {
        reapFailed(a, reaped);
      } else {
        a.replyTo().tell(new Reply(0, reaped, Map.of("attempts", Integer.toString(a.attempt()), "reaped", Long.toString(reaped)),
            "oom_reaper: reaped " + reaped + " page(s) after " + a.attempt() + " attempt(s)"));
      }
      return;
    }
    Invalidation r = ranges.get(i);
    long[] got = new long[1];
    rounds.round(List.of(r), false, "", "oom_reaper", () -> got[0] = space.reap(r.start(), r.end()),
        result -> reapNext(a, ranges, i + 1, reaped + got[0], skipped || result != 0));
  }

  private void reapFailed(ReapAttempt a, long reaped) {
    if (a.attempt() < MAX_OOM_REAP_RETRIES) {
      timers.startSingleTimer(new ReapAttempt(a.attempt() + 1, reaped, a.replyTo()), OOM_REAP_PAUSE);
      return;
    }
    trace.record(TraceRecorder.event(EventKind.MARK, label).setName("oom_reaper: unable to reap")
        .setDetail(MAX_OOM_REAP_RETRIES + " attempts; MMF_OOM_SKIP set: the memory is freed when the process exits"));
    a.replyTo().tell(new Reply(Errno.EAGAIN.negative(), reaped, Map.of("attempts", Integer.toString(a.attempt()),
        "reaped", Long.toString(reaped)), "oom_reaper: unable to reap " + label + " after " + a.attempt() + " attempts"));
  }
}
