package dev.fencelab.node.trace;

import com.typesafe.config.Config;
import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceChunk;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trace recorder of one member: every actor of the member hands it events ({@link #record}); it never
 * blocks them (a lock-free hand-off queue) and never logs per event. A daemon writer thread drains the queue
 * every few milliseconds into a bounded in-memory record (served page by page to {@code CollectTrace}) and appends
 * each event, length-delimited protobuf, to {@code <run-dir>/<member>.trace} and flushes — so the events of a member
 * that is SIGKILLed are on disk up to the last drain (at most {@code fencelab.trace.flush-interval} old).
 *
 * <p>Events carry the member's monotonic clock ({@code System.nanoTime}); the collector aligns clocks across
 * members. Model time: the recorder keeps the member's model clock, the largest model time any of its actors has
 * reported; an event without its own model time gets that value (model time never goes backwards on a member).
 */
public final class TraceRecorder implements Extension {
  private static final Logger LOG = LoggerFactory.getLogger(TraceRecorder.class);

  public static final class Id extends ExtensionId<TraceRecorder> {
    private static final Id INSTANCE = new Id();

    @Override
    public TraceRecorder createExtension(ActorSystem<?> system) {
      return new TraceRecorder(system.settings().config());
    }
  }

  public static TraceRecorder get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  private final boolean enabled;
  private final String node;
  private final int capacity;
  private final long flushNanos;
  private final Path file;
  private final AtomicLong seq = new AtomicLong();
  private final AtomicLong model = new AtomicLong();
  private final ConcurrentLinkedQueue<TraceEvent> handOff = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<TraceEvent> kept = new ArrayDeque<>();
  private long dropped;
  private OutputStream out; // guarded by kept

  TraceRecorder(Config config) {
    this.enabled = !config.hasPath("fencelab.trace.enabled") || config.getBoolean("fencelab.trace.enabled");
    this.node = config.hasPath("fencelab.member.name") ? config.getString("fencelab.member.name") : "local";
    this.capacity = config.hasPath("fencelab.trace.buffer-events") ? config.getInt("fencelab.trace.buffer-events") : 200_000;
    this.flushNanos = config.hasPath("fencelab.trace.flush-interval")
        ? config.getDuration("fencelab.trace.flush-interval").toNanos() : 10_000_000L;
    String runDir = config.hasPath("fencelab.member.run-dir") ? config.getString("fencelab.member.run-dir") : "";
    this.file = enabled && !runDir.isEmpty() ? Path.of(runDir).resolve(node + ".trace") : null;
    if (enabled) {
      Thread writer = new Thread(this::drainLoop, "fencelab-trace-writer");
      writer.setDaemon(true);
      writer.start();
    }
  }

  public String node() {
    return node;
  }

  public boolean enabled() {
    return enabled;
  }

  /** The file this member appends its events to, or {@code null} (no run directory). */
  public Path file() {
    return file;
  }

  /** Advances the member's model clock to at least {@code modelNanos}; returns the clock. */
  public long observeModel(long modelNanos) {
    return modelNanos > 0 ? model.accumulateAndGet(modelNanos, Math::max) : model.get();
  }

  /**
   * A run ended on this member: the next run's model time starts at 0 again, as on a fresh cluster (its devices are
   * new, and a wake's model time is the later of its signal's and the member's clock — a clock left at the previous
   * run's end would add that run's time to the next run's latencies).
   */
  public void resetModel() {
    model.set(0);
  }

  public long modelNow() {
    return model.get();
  }

  /** Records one event; fills in the member, the sequence number, the wall clock and (if unset) the model clock. */
  public void record(TraceEvent.Builder event) {
    if (!enabled) {
      return;
    }
    if (event.getWallNanos() == 0) {
      event.setWallNanos(System.nanoTime());
    }
    if (event.getModelNanos() == 0) {
      event.setModelNanos(model.get());
    } else {
      observeModel(event.getModelNanos());
    }
    handOff.add(event.setNode(node).setSeq(seq.incrementAndGet()).build());
  }

  /**
   * A short track name for an actor of this member: its path below the node agent ({@code driver-gpuA/device/engine-0},
   * {@code timeline-gate}).
   */
  public static String label(org.apache.pekko.actor.typed.ActorRef<?> ref) {
    scala.collection.Iterator<String> it = ref.path().elements().iterator();
    StringBuilder b = new StringBuilder();
    int i = 0;
    while (it.hasNext()) {
      String e = it.next();
      if (i++ < 2) {
        continue; // "user" and the agent
      }
      if (b.length() > 0) {
        b.append('/');
      }
      b.append(e);
    }
    return b.length() > 0 ? b.toString() : ref.path().name();
  }

  public static TraceEvent.Builder event(EventKind kind, String track) {
    return TraceEvent.newBuilder().setKind(kind).setTrack(track == null ? "" : track);
  }

  /** The events with {@code seq >= fromSeq} still held, at most {@code max}, oldest first. */
  public TraceChunk page(long fromSeq, int max) {
    drain(); // whatever is queued now is part of the answer
    synchronized (kept) {
      List<TraceEvent> out = new ArrayList<>(Math.min(max, kept.size()));
      long next = fromSeq;
      for (TraceEvent e : kept) {
        if (e.getSeq() >= fromSeq) {
          if (out.size() == max) {
            return TraceChunk.newBuilder().setNode(node).addAllEvents(out).setNextSeq(next).setDone(false).setDropped(dropped).build();
          }
          out.add(e);
          next = e.getSeq() + 1;
        }
      }
      return TraceChunk.newBuilder().setNode(node).addAllEvents(out).setNextSeq(next).setDone(true).setDropped(dropped).build();
    }
  }

  private void drainLoop() {
    try {
      if (file != null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
        OutputStream opened = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), 1 << 16);
        synchronized (kept) {
          out = opened;
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot write the trace file {} ({}); events are kept in memory only", file, e.toString());
    }
    for (;;) {
      drain();
      LockSupport.parkNanos(flushNanos);
    }
  }

  private void drain() {
    synchronized (kept) {
      boolean any = false;
      TraceEvent e;
      while ((e = handOff.poll()) != null) {
        any = true;
        if (kept.size() == capacity) {
          kept.removeFirst();
          dropped++;
        }
        kept.addLast(e);
        if (out != null) {
          try {
            e.writeDelimitedTo(out);
          } catch (IOException ex) {
            LOG.warn("trace file {} write failed: {}", file, ex.toString());
          }
        }
      }
      if (any && out != null) {
        try {
          out.flush();
        } catch (IOException ex) {
          LOG.warn("trace file {} flush failed: {}", file, ex.toString());
        }
      }
    }
  }
}
