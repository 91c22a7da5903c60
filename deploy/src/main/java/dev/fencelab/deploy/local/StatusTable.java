package dev.fencelab.deploy.local;

import dev.fencelab.protocol.control.ClusterStatus;
import java.io.PrintStream;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** Renders a {@link ClusterStatus} for people. */
public final class StatusTable {
  private StatusTable() {}

  /**
   * @param names member address to launcher name (from the manifest), when the CLI knows the cluster
   */
  public static void print(ClusterStatus s, Function<String, Optional<String>> names, PrintStream out) {
    out.printf("coordinator: %s%n%n", s.coordinatorAddress());
    out.printf("%-14s %-22s %-36s %-9s %-11s %s%n", "MEMBER", "ROLES", "ADDRESS", "STATUS", "REACHABLE", "PING RTT");
    List<ClusterStatus.Member> members = s.members().stream()
        .sorted(Comparator.comparing(ClusterStatus.Member::address))
        .toList();
    for (ClusterStatus.Member m : members) {
      String name = names.apply(m.address()).orElse(m.nodeName().isEmpty() ? "-" : m.nodeName());
      String rtt = s.nodes().stream()
          .filter(n -> n.address().equals(m.address()))
          .findFirst()
          .map(n -> n.responded() ? String.format("%.3f ms", n.rttNanos() / 1e6) : "no answer")
          .orElse(m.roles().contains("node") ? "not registered" : "-");
      out.printf("%-14s %-22s %-36s %-9s %-11s %s%n",
          name, String.join(",", m.roles()), m.address(), m.status(), m.reachable() ? "yes" : "NO", rtt);
    }
    List<ClusterStatus.MemberEvent> gone = s.events().stream()
        .filter(e -> e.kind() == ClusterStatus.Kind.REMOVED)
        .toList();
    if (!gone.isEmpty()) {
      out.println();
      out.println("removed members:");
      for (ClusterStatus.MemberEvent e : gone) {
        out.printf("  %-14s %s at %s%n", names.apply(e.address()).orElse("-"), e.address(), java.time.Instant.ofEpochMilli(e.epochMillis()));
      }
    }
  }

  /** Open waits printed at most; {@code --json} has them all. */
  static final int WAITS_SHOWN = 50;

  /** The wait-for graph of the waits open now: per node how many, the first edges with their age, then every cycle. */
  public static void printWaits(dev.fencelab.coordinator.OpenWaits.Graph g, PrintStream out) {
    int total = g.nodes().stream().mapToInt(dev.fencelab.coordinator.OpenWaits.Node::total).sum();
    StringBuilder per = new StringBuilder();
    for (var n : g.nodes()) {
      per.append(per.length() == 0 ? "" : ", ").append(n.node()).append(' ').append(n.answered() ? String.valueOf(n.total()) : "no answer");
    }
    out.printf("%nopen waits: %d (%s)%n", total, per);
    int shown = 0;
    for (var e : g.edges()) {
      if (shown++ == WAITS_SHOWN) {
        out.printf("  ... %d more (--json lists up to 1,000 per node)%n", g.edges().size() - WAITS_SHOWN);
        break;
      }
      double age = Math.max(0, g.asOfEpochMillis() - e.sinceEpochMillis()) / 1000.0;
      out.printf("  %-4s %s -> %s (%s, open %.1f s)%n", e.node(), e.from(), e.to(), e.reason().isEmpty() ? "wait" : e.reason(), age);
    }
    if (g.cycles().isEmpty()) {
      out.println(total == 0 ? "no deadlock" : "no deadlock: no cycle among the open waits");
      return;
    }
    out.printf("DEADLOCK: %d cycle%s of open waits%n", g.cycles().size(), g.cycles().size() == 1 ? "" : "s");
    for (var c : g.cycles()) {
      out.printf("  %s%n", c.path());
      for (var e : c.edges()) {
        out.printf("    on %s: %s waits for %s (%s)%n", e.node(), e.from(), e.to(), e.reason().isEmpty() ? "wait" : e.reason());
      }
    }
  }

  /** Whether every expected member is Up and reachable, and every expected node registered and answered. */
  public static boolean formed(ClusterStatus s, int expectedMembers, int expectedNodes) {
    long up = s.members().stream().filter(m -> m.status().equals("Up") && m.reachable()).count();
    long answered = s.nodes().stream().filter(n -> n.responded() && !n.nodeName().equals("?")).count();
    return up == expectedMembers && s.members().size() == expectedMembers && answered == expectedNodes;
  }
}
