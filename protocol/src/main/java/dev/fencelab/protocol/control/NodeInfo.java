package dev.fencelab.protocol.control;

import java.util.List;
import java.util.Objects;

/**
 * The registration record of a node member, as its agent describes itself.
 *
 * @param nodeName the member's name (unique in the cluster, e.g. {@code n1})
 * @param address the member's Pekko address ({@code pekko://fencelab@127.0.0.1:25521})
 * @param agent the agent's actor path, as a string (for display only)
 */
public record NodeInfo(
    String nodeName, String address, List<String> roles, long pid, long startedEpochMillis, String version, String agent)
    implements ControlMessage {
  public NodeInfo {
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(address, "address");
    roles = List.copyOf(roles);
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(agent, "agent");
  }
}
