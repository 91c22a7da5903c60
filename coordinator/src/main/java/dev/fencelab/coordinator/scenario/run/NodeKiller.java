package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.NodeControl;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Kills a node's member for the {@code kill_node} fault: SIGKILL of a local child JVM, a {@code Crash} command to a
 * member elsewhere. Returns how (for the record). Called on the runner's thread: must not block.
 */
@FunctionalInterface
public interface NodeKiller {
  String kill(String node, ActorRef<NodeControl> agent);

  /**
   * Kills the coordinator member for the {@code kill_coordinator} fault (SIGKILL of a local child JVM); returns how,
   * or why it was not killed (this runner did not start the cluster).
   */
  default String killCoordinator() {
    return "not killed: this run did not start the cluster's coordinator";
  }
}
