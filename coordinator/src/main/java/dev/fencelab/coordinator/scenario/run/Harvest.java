package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.CollectTrace;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.TracePage;
import dev.fencelab.protocol.control.WaitsListed;
import dev.fencelab.protocol.trace.v1.ClockOffset;
import dev.fencelab.protocol.trace.v1.RunRecord;
import dev.fencelab.protocol.trace.v1.TraceChunk;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Every node's trace and, at the end of a run, how many waits are still open (the runner polls until none or its
 * drain bound). Traces stream: while the steps run, each live node is asked every {@link #POLL} for the events it
 * recorded since the last ask (by sequence number, page by page), so a node killed later — by SIGKILL or, on a cluster
 * of other machines, by a crash command — keeps everything up to its last poll; at the end the live nodes are asked
 * for the rest. Events are kept once (by node and sequence); only this run's are kept (a long-lived cluster holds
 * earlier runs' too), aligned by the clock offsets measured at the start.
 */
final class Harvest {
  private static final Duration LIST_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(20);
  private static final int PAGE = 500;

  /** The waits open on the live nodes: their number (-1: could not list) and one of them, for people. */
  /** The waits open on the live nodes: how many, one as an example, and how many a standing deadlock explains. */
  record Open(int waits, String sample, int inDeadlock) {
    Open(int waits, String sample) {
      this(waits, sample, 0);
    }
  }

  /** The live nodes' traces, and what could not be collected. */
  record Traces(List<TraceChunk> chunks, List<String> notes) {}

  /** How often a running scenario's traces are collected. */
  static final Duration POLL = Duration.ofMillis(500);

  private final RunDirectory names;
  private final Scheduler scheduler;
  /** Per node: the events collected so far (by sequence), the next sequence to ask for, and whether an ask is out. */
  private final Map<String, java.util.TreeMap<Long, TraceEvent>> got = new HashMap<>();
  private final Map<String, Long> next = new HashMap<>();
  private final Map<String, Long> dropped = new HashMap<>();
  private final java.util.Set<String> asking = java.util.concurrent.ConcurrentHashMap.newKeySet();

  Harvest(RunDirectory names, Scheduler scheduler) {
    this.names = names;
    this.scheduler = scheduler;
  }

  CompletableFuture<Open> openWaits() {
    List<CompletableFuture<WaitsListed>> lists = new ArrayList<>();
    for (String node : names.nodes()) {
      if (!names.dead(node)) {
        lists.add(dev.fencelab.coordinator.OpenWaits.list(names.agent(node), scheduler, LIST_TIMEOUT, Integer.MAX_VALUE).toCompletableFuture());
      }
    }
    return Futures.allOf(lists).handle((done, failure) -> {
      if (failure != null) {
        return new Open(-1, String.valueOf(failure));
      }
      int n = 0;
      int explained = 0;
      String sample = "";
      for (WaitsListed listed : done) {
        n += listed.edges().size();
        for (var e : listed.edges()) {
          if (names.inDeadlock(e.getWaiter(), e.getFence())) {
            explained++;
          }
        }
        if (!listed.edges().isEmpty() && sample.isEmpty()) {
          sample = listed.nodeName() + ": " + WaitsListed.describe(listed.edges().get(0));
        }
      }
      return new Open(n, sample, explained);
    });
  }

  /** While the steps run: each live node's events since its last poll (one ask per node at a time; failures wait for the next). */
  void poll() {
    for (String node : names.nodes()) {
      if (!names.dead(node) && asking.add(node)) {
        long from;
        synchronized (this) {
          from = next.getOrDefault(node, 1L);
        }
        collect(node, names.agent(node), from).whenComplete((done, failure) -> asking.remove(node));
      }
    }
  }

  /** Every node's events: the live ones asked for the rest, the dead ones' as far as the polls got them. */
  CompletableFuture<Traces> traces() {
    List<CompletableFuture<Void>> asks = new ArrayList<>();
    List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
    for (String node : names.nodes()) {
      if (names.dead(node)) {
        continue;
      }
      long from;
      synchronized (this) {
        from = next.getOrDefault(node, 1L);
      }
      asks.add(collect(node, names.agent(node), from).toCompletableFuture().exceptionally(failure -> {
        notes.add("could not collect the trace of " + node + ": " + failure.getMessage());
        return null;
      }));
    }
    return Futures.allOf(asks).thenApply(done -> {
      List<TraceChunk> chunks = new ArrayList<>();
      synchronized (this) {
        for (String node : names.nodes()) {
          java.util.TreeMap<Long, TraceEvent> events = got.getOrDefault(node, new java.util.TreeMap<>());
          chunks.add(TraceChunk.newBuilder().setNode(node).addAllEvents(events.values()).setDropped(dropped.getOrDefault(node, 0L)).build());
          if (names.dead(node) && !events.isEmpty()) {
            notes.add(node + " died: its " + events.size() + " events up to the last collection (every " + POLL.toMillis()
                + " ms) are kept; later ones are lost with it");
          }
        }
      }
      return new Traces(chunks, List.copyOf(notes));
    });
  }

  /** The events of {@code node} from sequence {@code from} on, page by page, added to what it has so far. */
  private CompletionStage<Void> collect(String node, ActorRef<NodeControl> agent, long from) {
    return AskPattern.<NodeControl, TracePage>ask(agent, r -> new CollectTrace(from, PAGE, r), PAGE_TIMEOUT, scheduler)
        .thenCompose(page -> {
          synchronized (this) {
            java.util.TreeMap<Long, TraceEvent> events = got.computeIfAbsent(node, n -> new java.util.TreeMap<>());
            page.chunk().getEventsList().forEach(e -> events.putIfAbsent(e.getSeq(), e));
            dropped.put(node, page.chunk().getDropped());
            next.merge(node, page.chunk().getNextSeq(), Math::max);
          }
          return page.chunk().getDone() ? CompletableFuture.<Void>completedFuture(null) : collect(node, agent, page.chunk().getNextSeq());
        });
  }

  /** Adds this run's events of {@code chunks} to {@code record} (those after its start, on each node's clock); returns how many. */
  static int keep(RunRecord.Builder record, List<TraceChunk> chunks, long runStart) {
    int n = 0;
    Map<String, ClockOffset> offsets = new HashMap<>();
    record.getClocksList().forEach(c -> offsets.put(c.getNode(), c));
    for (TraceChunk c : chunks) {
      ClockOffset o = offsets.get(c.getNode());
      long since = o == null ? Long.MIN_VALUE : runStart + o.getOffsetNanos() - o.getUncertaintyNanos();
      for (TraceEvent e : c.getEventsList()) {
        if (e.getWallNanos() >= since) {
          record.addEvents(e);
          n++;
        }
      }
      record.putDropped(c.getNode(), c.getDropped());
    }
    return n;
  }
}
