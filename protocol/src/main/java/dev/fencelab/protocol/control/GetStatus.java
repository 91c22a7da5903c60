package dev.fencelab.protocol.control;

import java.time.Duration;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Asks the coordinator for the cluster's status. The coordinator pings every registered node and
 * answers once all answered or {@code pingTimeout} passed; a node that did not answer is reported
 * as such, never waited on longer.
 */
public record GetStatus(Duration pingTimeout, ActorRef<ClusterStatus> replyTo)
    implements CoordinatorControl, ControlMessage {
  public GetStatus {
    Objects.requireNonNull(pingTimeout, "pingTimeout");
    Objects.requireNonNull(replyTo, "replyTo");
    if (pingTimeout.isNegative() || pingTimeout.isZero()) {
      throw new IllegalArgumentException("pingTimeout must be positive, was " + pingTimeout);
    }
  }
}
