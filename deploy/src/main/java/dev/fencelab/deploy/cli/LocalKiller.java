package dev.fencelab.deploy.cli;

import dev.fencelab.coordinator.scenario.run.NodeKiller;
import dev.fencelab.deploy.local.ClusterManifest;
import dev.fencelab.protocol.control.Crash;
import dev.fencelab.protocol.control.NodeControl;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The kill faults of a run: SIGKILL of the member's JVM when this CLI started the cluster (its manifest has the
 * pids), a {@link Crash} command to a node member of a cluster started elsewhere. The coordinator has no agent: it is
 * killed only on a cluster this run started.
 */
final class LocalKiller implements NodeKiller {
  private final ClusterManifest manifest;

  /** {@code manifest}: the cluster this run started, or null (a cluster given with --cluster). */
  LocalKiller(ClusterManifest manifest) {
    this.manifest = manifest;
  }

  @Override
  public String kill(String node, ActorRef<NodeControl> agent) {
    Optional<ClusterManifest.MemberEntry> m = member(e -> e.name().equals(node));
    if (m.isPresent()) {
      return sigkill(m.get());
    }
    agent.tell(new Crash("chaos: kill_node " + node));
    return "crash command (the member halts)";
  }

  @Override
  public String killCoordinator() {
    return member(e -> e.roles().contains("coordinator")).map(LocalKiller::sigkill)
        .orElse(NodeKiller.super.killCoordinator());
  }

  private Optional<ClusterManifest.MemberEntry> member(java.util.function.Predicate<ClusterManifest.MemberEntry> which) {
    return manifest == null ? Optional.empty() : manifest.members().stream().filter(which).findFirst();
  }

  private static String sigkill(ClusterManifest.MemberEntry m) {
    Optional<ProcessHandle> p = m.process();
    if (p.isPresent()) {
      p.get().destroyForcibly(); // SIGKILL
      return "SIGKILL pid " + m.pid();
    }
    return "pid " + m.pid() + " already gone";
  }
}
