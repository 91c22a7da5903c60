package dev.fencelab.protocol.control;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The coordinator's view of the cluster at one instant.
 *
 * @param members every member the coordinator's cluster state holds (removed members appear only in
 *     {@code events})
 * @param nodes one entry per registered node agent, with the round trip of a fresh protobuf ping
 * @param events membership history as the coordinator observed it, oldest first (bounded)
 */
public record ClusterStatus(
    String coordinatorAddress,
    long asOfEpochMillis,
    List<Member> members,
    List<Node> nodes,
    List<MemberEvent> events)
    implements ControlMessage {

  public ClusterStatus {
    Objects.requireNonNull(coordinatorAddress, "coordinatorAddress");
    members = List.copyOf(members);
    nodes = List.copyOf(nodes);
    events = List.copyOf(events);
  }

  /**
   * The roles a user configured, sorted, without Pekko's implicit data-centre role ({@code dc-…}).
   */
  public static List<String> userRoles(Collection<String> roles) {
    return roles.stream().filter(r -> !r.startsWith("dc-")).sorted().toList();
  }

  /** One cluster member. {@code status} is Pekko's member status (Joining, Up, Leaving, Exiting, Down…). */
  public record Member(String address, List<String> roles, String status, boolean reachable, String nodeName) {
    public Member {
      Objects.requireNonNull(address, "address");
      roles = List.copyOf(roles);
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(nodeName, "nodeName");
    }
  }

  /** One registered node agent; {@code rttNanos} is meaningful only when {@code responded}. */
  public record Node(String nodeName, String address, boolean responded, long rttNanos, long pid) {
    public Node {
      Objects.requireNonNull(nodeName, "nodeName");
      Objects.requireNonNull(address, "address");
    }
  }

  /** A membership change as the coordinator saw it. */
  public record MemberEvent(long epochMillis, Kind kind, String address, List<String> roles) {
    public MemberEvent {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(address, "address");
      roles = List.copyOf(roles);
    }
  }

  /** Membership event kinds, wire-stable (see {@code MemberEventKind} in control.proto). */
  public enum Kind {
    JOINED,
    UP,
    UNREACHABLE,
    REACHABLE,
    LEFT,
    EXITED,
    DOWNED,
    REMOVED
  }
}
