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

  /** Whether every expected member is Up and reachable, and every expected node registered and answered. */
  public static boolean formed(ClusterStatus s, int expectedMembers, int expectedNodes) {
    long up = s.members().stream().filter(m -> m.status().equals("Up") && m.reachable()).count();
    long answered = s.nodes().stream().filter(n -> n.responded() && !n.nodeName().equals("?")).count();
    return up == expectedMembers && s.members().size() == expectedMembers && answered == expectedNodes;
  }
}
