package dev.fencelab.coordinator;

import dev.fencelab.coordinator.scenario.run.WaitForGraph;
import dev.fencelab.protocol.control.ListWaits;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.WaitsListed;
import dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The waits open across the cluster now, as a wait-for graph: every node agent's open waits (paged {@link ListWaits}, each
 * page far under Artery's frame size), merged, with the cycles among them. What the HTTP API's {@code /api/v1/waits} serves
 * while scenarios run — the verdict shows the same graph only once a run has ended.
 */
public final class OpenWaits {
  /** Edges listed per node at most (the total is always reported). */
  public static final int MAX_PER_NODE = 10_000;

  /** One wait: {@code from} waits for {@code to}, reported by {@code node} under its wait id, open since then. */
  public record Edge(String node, long id, String from, String to, String reason, long sinceEpochMillis) {}

  /** A cycle of waits, each edge's {@code to} the next one's {@code from}: a deadlock while it lasts. */
  public record Cycle(String path, List<Edge> edges) {}

  /** One node's part: how many waits it has open, how many are listed here, whether it answered. */
  public record Node(String node, String address, boolean answered, int total, int listed) {}

  /** The graph at {@code asOfEpochMillis}. */
  public record Graph(long asOfEpochMillis, List<Node> nodes, List<Edge> edges, List<Cycle> cycles) {}

  private OpenWaits() {}

  /** Every node agent the receptionist knows, each asked for up to {@code perNode} open waits within {@code timeout}. */
  public static CompletionStage<Graph> snapshot(ActorSystem<?> system, int perNode, Duration timeout) {
    Scheduler scheduler = system.scheduler();
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            r -> Receptionist.find(NodeAgentKey.KEY, r), timeout, scheduler)
        .thenCompose(listing -> {
          List<ActorRef<NodeControl>> agents = new ArrayList<>(listing.getServiceInstances(NodeAgentKey.KEY));
          List<CompletableFuture<Answer>> answers = new ArrayList<>();
          for (ActorRef<NodeControl> agent : agents) {
            answers.add(list(agent, scheduler, timeout, perNode)
                .handle((listed, failure) -> new Answer(agent, failure == null ? listed : null)).toCompletableFuture());
          }
          return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
              .thenApply(done -> graph(System.currentTimeMillis(), answers.stream().map(CompletableFuture::join).toList()));
        });
  }

  private record Answer(ActorRef<NodeControl> agent, WaitsListed listed) {}

  /**
   * One member's open waits, page after page, up to {@code max} of them ({@code total} says how many there are in all);
   * the stage fails when a page does not come within {@code timeout}.
   */
  public static CompletionStage<WaitsListed> list(ActorRef<NodeControl> agent, Scheduler scheduler, Duration timeout, int max) {
    return page(agent, scheduler, timeout, max, 0, new ArrayList<>());
  }

  private static CompletionStage<WaitsListed> page(
      ActorRef<NodeControl> agent, Scheduler scheduler, Duration timeout, int max, int offset, List<WaitEdge> acc) {
    int ask = Math.min(ListWaits.PAGE, max - acc.size());
    return AskPattern.<NodeControl, WaitsListed>ask(agent, r -> new ListWaits(r, offset, Math.max(1, ask)), timeout, scheduler)
        .thenCompose(p -> {
          acc.addAll(p.edges().subList(0, Math.min(p.edges().size(), max - acc.size())));
          return p.more() && !p.edges().isEmpty() && acc.size() < max
              ? page(agent, scheduler, timeout, max, offset + p.edges().size(), acc)
              : CompletableFuture.completedFuture(new WaitsListed(p.nodeName(), acc, Math.max(p.total(), acc.size()), 0));
        });
  }

  /** The merged graph of what the agents answered (an agent that did not is listed as such), with its cycles. */
  static Graph graph(long now, List<Answer> answers) {
    List<Node> nodes = new ArrayList<>();
    List<Edge> edges = new ArrayList<>();
    WaitForGraph cycles = new WaitForGraph();
    List<Cycle> found = new ArrayList<>();
    for (Answer a : answers) {
      String address = a.agent().path().address().toString();
      if (a.listed() == null) {
        nodes.add(new Node("?", address, false, 0, 0));
        continue;
      }
      WaitsListed l = a.listed();
      nodes.add(new Node(l.nodeName(), address, true, l.total(), l.edges().size()));
      for (WaitEdge w : l.edges()) {
        Edge e = new Edge(l.nodeName(), w.getWaitId(), w.getWaiter(), w.getFence(), w.getReason(), w.getSinceWallNanos() / 1_000_000);
        edges.add(e);
        WaitForGraph.Cycle c = cycles.add(new WaitForGraph.Edge(e.node(), e.id(), e.from(), e.to(), e.reason()));
        if (c != null) {
          found.add(new Cycle(c.path(), c.edges().stream().map(x -> find(edges, x)).toList()));
        }
      }
    }
    nodes.sort(Comparator.comparing(Node::node).thenComparing(Node::address));
    edges.sort(Comparator.comparing(Edge::node).thenComparingLong(Edge::id));
    return new Graph(now, nodes, edges, found);
  }

  private static Edge find(List<Edge> edges, WaitForGraph.Edge x) {
    for (Edge e : edges) {
      if (e.node().equals(x.node()) && e.id() == x.id()) {
        return e;
      }
    }
    throw new IllegalStateException("a cycle's edge " + x + " is not in the graph");
  }
}
