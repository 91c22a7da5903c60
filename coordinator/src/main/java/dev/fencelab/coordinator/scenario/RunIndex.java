package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.trace.v1.ClockOffset;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run's merged trace, indexed for the checker, the latency tables and the exporters: every event on the runner's
 * clock ({@link #wall}), fences with their creation and signals, waits with their ends, jobs by out-fence.
 */
public final class RunIndex {
  /** One job, by its out-fence. */
  public static final class Job {
    public TraceEvent queued;
    public TraceEvent deps;
    public TraceEvent start;
    public TraceEvent end;
  }

  public final RunRecord record;
  public final List<TraceEvent> events;
  public final Map<String, Long> offsets = new HashMap<>();
  public final Map<String, Long> uncertainty = new HashMap<>();
  public final Map<String, TraceEvent> created = new LinkedHashMap<>();
  /** Fences whose last reference was dropped unsignalled without callbacks: freed, not leaked. */
  public final java.util.Set<String> released = new java.util.HashSet<>();
  public final Map<String, List<TraceEvent>> signals = new HashMap<>();
  public final Map<String, TraceEvent> waitBegins = new LinkedHashMap<>();
  public final Map<String, TraceEvent> waitEnds = new HashMap<>();
  public final Map<String, List<TraceEvent>> waitEndsByFence = new HashMap<>();
  public final Map<String, Job> jobs = new LinkedHashMap<>();
  public final List<TraceEvent> violations = new ArrayList<>();
  public final Set<String> dead = new HashSet<>();
  public final Map<String, String> nodeByAddress = new HashMap<>();
  public final Map<String, Long> killedAt = new HashMap<>();
  /** The end event of each STEP_BEGIN (by step index) and UNPLUG_BEGIN (by node and track). */
  public final Map<String, TraceEvent> ends = new HashMap<>();

  public RunIndex(RunRecord record) {
    this.record = record;
    for (ClockOffset c : record.getClocksList()) {
      offsets.put(c.getNode(), c.getOffsetNanos());
      uncertainty.put(c.getNode(), c.getUncertaintyNanos());
    }
    record.getNodeAddressesMap().forEach((name, address) -> nodeByAddress.put(address, name));
    dead.addAll(record.getDeadNodesList());
    List<TraceEvent> all = new ArrayList<>(record.getEventsList());
    all.sort(Comparator.comparingLong(this::wall));
    this.events = List.copyOf(all);
    for (TraceEvent e : events) {
      String wk = e.getNode() + "#" + e.getId();
      String jk = e.getFence();
      switch (e.getKind()) {
        case FENCE_CREATED -> created.putIfAbsent(e.getFence(), e);
        case FENCE_RELEASED -> released.add(e.getFence());
        case FENCE_SIGNALED -> signals.computeIfAbsent(e.getFence(), k -> new ArrayList<>()).add(e);
        case WAIT_BEGIN -> waitBegins.put(wk, e);
        case WAIT_END -> {
          waitEnds.put(wk, e);
          waitEndsByFence.computeIfAbsent(e.getFence(), k -> new ArrayList<>()).add(e);
        }
        case JOB_QUEUED -> jobs.computeIfAbsent(jk, k -> new Job()).queued = e;
        case JOB_DEPS -> jobs.computeIfAbsent(jk, k -> new Job()).deps = e;
        case JOB_START -> jobs.computeIfAbsent(jk, k -> new Job()).start = e;
        case JOB_END -> jobs.computeIfAbsent(jk, k -> new Job()).end = e;
        case VIOLATION -> violations.add(e);
        case NODE_DOWN -> killedAt.putIfAbsent(e.getSubject(), wall(e));
        case STEP_END -> ends.putIfAbsent("step#" + e.getId(), e);
        case UNPLUG_END -> ends.putIfAbsent("unplug#" + e.getNode() + "#" + e.getTrack(), e);
        case INVALIDATE_END -> ends.putIfAbsent(endKey(e), e);
        case NOTIFIER_END -> ends.putIfAbsent(endKey(e), e);
        case WR_END -> ends.putIfAbsent("wr#" + e.getNode() + "#" + e.getId() + "#" + e.getTrack(), e);
        case SECTION_END -> ends.putIfAbsent("section#" + e.getNode() + "#" + e.getId(), e);
        default -> {}
      }
    }
  }

  /** The job a COPY event belongs to (same member, job id and label), or {@code null}. */
  public Job jobOfCopy(TraceEvent copy) {
    for (Job j : jobs.values()) {
      if (j.start != null && j.end != null && j.start.getNode().equals(copy.getNode()) && j.start.getId() == copy.getId()
          && j.start.getName().equals(copy.getName())) {
        return j;
      }
    }
    return null;
  }

  /** The matching end of a STEP_BEGIN, UNPLUG_BEGIN, INVALIDATE_BEGIN, NOTIFIER_BEGIN, WR_BEGIN or SECTION_BEGIN, or the event itself when it never ended. */
  public TraceEvent endOf(TraceEvent begin) {
    String key = switch (begin.getKind()) {
      case STEP_BEGIN -> "step#" + begin.getId();
      case INVALIDATE_BEGIN, NOTIFIER_BEGIN -> endKey(begin);
      case WR_BEGIN -> "wr#" + begin.getNode() + "#" + begin.getId() + "#" + begin.getTrack();
      case SECTION_BEGIN -> "section#" + begin.getNode() + "#" + begin.getId();
      default -> "unplug#" + begin.getNode() + "#" + begin.getTrack();
    };
    return ends.getOrDefault(key, begin);
  }

  /** An invalidation round (per mm, by round id) or one subscriber's callback in it (by its track too). */
  private static String endKey(TraceEvent e) {
    boolean round = e.getKind() == EventKind.INVALIDATE_BEGIN || e.getKind() == EventKind.INVALIDATE_END;
    return (round ? "inv#" : "cb#") + e.getNode() + "#" + e.getId() + "#" + e.getTrack();
  }

  /** The event's time on the runner's monotonic clock. */
  public long wall(TraceEvent e) {
    return e.getWallNanos() - offsets.getOrDefault(e.getNode(), 0L);
  }

  public long wallEnd(TraceEvent e) {
    return e.getWallEndNanos() - offsets.getOrDefault(e.getNode(), 0L);
  }

  /** Runner-clock nanoseconds since the run started. */
  public long sinceStart(long runnerWall) {
    return runnerWall - record.getWallStartNanos();
  }

  public boolean nodeDead(String node) {
    return dead.contains(node);
  }

  /** The node that owns a fence: where it was created, or (no record) the node of the member address waiters saw. */
  public String ownerNode(String fence) {
    TraceEvent c = created.get(fence);
    if (c != null) {
      return c.getNode();
    }
    for (TraceEvent b : waitBegins.values()) {
      if (b.getFence().equals(fence) && nodeByAddress.containsKey(b.getSubject())) {
        return nodeByAddress.get(b.getSubject());
      }
    }
    return null;
  }

  /**
   * The fence's final status: its signal ({@code 1} or {@code -errno}); for a fence whose node died unsignalled, what
   * its waiters saw (or {@code -ENODEV}); {@code 0} while pending; {@code null} when nothing is known.
   */
  public Integer finalStatus(String fence) {
    List<TraceEvent> sig = signals.get(fence);
    if (sig != null && !sig.isEmpty()) {
      return sig.get(0).getStatus();
    }
    String owner = ownerNode(fence);
    if (owner != null && nodeDead(owner)) {
      for (TraceEvent end : waitEndsByFence.getOrDefault(fence, List.of())) {
        if (end.getStatus() < 0) {
          return end.getStatus();
        }
      }
      return -19;
    }
    if (created.containsKey(fence)) {
      return 0;
    }
    for (TraceEvent end : waitEndsByFence.getOrDefault(fence, List.of())) {
      if (end.getStatus() != 0) {
        return end.getStatus();
      }
    }
    return null;
  }

  public List<TraceEvent> ofKind(EventKind kind) {
    return events.stream().filter(e -> e.getKind() == kind).toList();
  }

  public static String status(int value) {
    if (value == 0) return "pending";
    if (value == 1) return "signaled";
    return errno(value);
  }

  /** {@code ENODEV} for -19; the raw number for unknown codes. */
  public static String errno(int negative) {
    dev.fencelab.protocol.Errno e = dev.fencelab.protocol.Errno.of(negative);
    return e == dev.fencelab.protocol.Errno.UNKNOWN ? "errno " + negative : e.name();
  }
}
