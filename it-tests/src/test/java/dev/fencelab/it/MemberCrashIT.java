package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A SIGKILLed member (a hard hot-unplug of its node) is detected, downed by SBR and removed. */
class MemberCrashIT {
  /** The local profile detects a dead member in ~2-3 s and SBR downs it 2 s later; this leaves ample slack. */
  private static final Duration REMOVAL_BOUND = Duration.ofSeconds(40);

  @RegisterExtension final ClusterLogs logs = new ClusterLogs();

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void shouldMarkKilledMemberUnreachableThenRemoveItAndReportTheRemoval() {
    TestCluster cluster = logs.track(TestCluster.builder("crash").nodes(2).start());
    String victim = cluster.member("n2").address();

    ClusterStatus status = killAndAwaitRemoval(cluster, "n2");

    List<ClusterStatus.Kind> history = kinds(status, victim);
    assertTrue(history.indexOf(ClusterStatus.Kind.UNREACHABLE) >= 0, "unreachable first: " + history);
    assertTrue(history.indexOf(ClusterStatus.Kind.UNREACHABLE) < history.indexOf(ClusterStatus.Kind.DOWNED), history.toString());
    assertTrue(history.indexOf(ClusterStatus.Kind.DOWNED) < history.indexOf(ClusterStatus.Kind.REMOVED), history.toString());
    assertFalse(status.members().stream().anyMatch(m -> m.address().equals(victim)), "removed from membership");
  }

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void shouldKeepSurvivorsUpAndAnsweringAfterAMemberIsKilled() {
    TestCluster cluster = logs.track(TestCluster.builder("crash-survivors").nodes(2).start());

    ClusterStatus status = killAndAwaitRemoval(cluster, "n2");

    assertEquals(2, status.members().size(), status.members().toString());
    assertTrue(status.members().stream().allMatch(m -> m.status().equals("Up") && m.reachable()), status.members().toString());
    assertEquals(List.of("n1"), status.nodes().stream().filter(ClusterStatus.Node::responded).map(ClusterStatus.Node::nodeName).toList());
  }

  /**
   * SIGKILLs a member and returns the first status in which the coordinator reports it removed and no longer lists it.
   * The two come from two views of the coordinator's cluster (its event subscription and Pekko's cluster state, each
   * fed by the same events on its own), so one poll can show the removal event while the member is still listed Down.
   */
  private static ClusterStatus killAndAwaitRemoval(TestCluster cluster, String member) {
    String address = cluster.member(member).address();
    cluster.kill(member);
    return awaitStatus(cluster, s -> kinds(s, address).contains(ClusterStatus.Kind.REMOVED)
        && s.members().stream().noneMatch(m -> m.address().equals(address)));
  }

  private static List<ClusterStatus.Kind> kinds(ClusterStatus s, String address) {
    return s.events().stream().filter(e -> e.address().equals(address)).map(ClusterStatus.MemberEvent::kind).toList();
  }

  /** Polls the coordinator (each poll is a real HTTP + protobuf round) until the condition holds or the bound passes. */
  private static ClusterStatus awaitStatus(TestCluster cluster, Predicate<ClusterStatus> condition) {
    AtomicReference<ClusterStatus> last = new AtomicReference<>();
    Awaitility.await("member removal reported by the coordinator")
        .atMost(REMOVAL_BOUND)
        .pollInterval(Duration.ofMillis(250))
        .until(() -> {
          last.set(cluster.status(Duration.ofMillis(500)));
          return condition.test(last.get());
        });
    return last.get();
  }
}
