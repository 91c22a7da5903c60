package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.CollectTrace;
import dev.fencelab.protocol.control.ListWaits;
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
 * The end of a run, on the live nodes: how many waits are still open (the runner polls until none or its drain
 * bound), and every node's trace, page by page, of which only this run's events are kept (a long-lived cluster
 * holds earlier runs' too), aligned by the clock offsets measured at the start.
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

  private final RunDirectory names;
  private final Scheduler scheduler;

  Harvest(RunDirectory names, Scheduler scheduler) {
    this.names = names;
    this.scheduler = scheduler;
  }

  CompletableFuture<Open> openWaits() {
    List<CompletableFuture<WaitsListed>> lists = new ArrayList<>();
    for (String node : names.nodes()) {
      if (!names.dead(node)) {
        lists.add(allWaits(names.agent(node), 0, new ArrayList<>()).toCompletableFuture());
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

  /** Every open wait of one member, page after page (a page stays under Artery's frame size). */
  private CompletionStage<WaitsListed> allWaits(ActorRef<NodeControl> agent, int offset, List<dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge> acc) {
    return AskPattern.<NodeControl, WaitsListed>ask(agent, r -> new ListWaits(r, offset, ListWaits.PAGE), LIST_TIMEOUT, scheduler)
        .thenCompose(page -> {
          acc.addAll(page.edges());
          return page.more() && !page.edges().isEmpty() ? allWaits(agent, offset + page.edges().size(), acc)
              : CompletableFuture.completedFuture(new WaitsListed(page.nodeName(), acc));
        });
  }

  CompletableFuture<Traces> traces() {
    List<CompletableFuture<TraceChunk>> pages = new ArrayList<>();
    List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
    for (String node : names.nodes()) {
      if (names.dead(node)) {
        continue;
      }
      pages.add(collect(names.agent(node), 1, TraceChunk.newBuilder().setNode(node)).toCompletableFuture()
          .exceptionally(failure -> {
            notes.add("could not collect the trace of " + node + ": " + failure.getMessage());
            return TraceChunk.newBuilder().setNode(node).build();
          }));
    }
    return Futures.allOf(pages).thenApply(chunks -> new Traces(chunks, List.copyOf(notes)));
  }

  private CompletionStage<TraceChunk> collect(ActorRef<NodeControl> agent, long from, TraceChunk.Builder acc) {
    return AskPattern.<NodeControl, TracePage>ask(agent, r -> new CollectTrace(from, PAGE, r), PAGE_TIMEOUT, scheduler)
        .thenCompose(page -> {
          acc.addAllEvents(page.chunk().getEventsList()).setDropped(page.chunk().getDropped());
          return page.chunk().getDone() ? CompletableFuture.completedFuture(acc.build()) : collect(agent, page.chunk().getNextSeq(), acc);
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
