package dev.fencelab.coordinator;

import dev.fencelab.protocol.control.CoordinatorControl;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/** Starts the coordinator side of a member. */
public final class CoordinatorRole {
  public static final String ROLE = "coordinator";

  private CoordinatorRole() {}

  /**
   * Initialises the coordinator singleton (it runs on the oldest member with role {@code coordinator}) and
   * returns a proxy to it, usable from any member.
   */
  public static ActorRef<CoordinatorControl> singleton(ActorSystem<?> system) {
    return ClusterSingleton.get(system).init(
        SingletonActor.of(Coordinator.create(), "coordinator")
            .withSettings(ClusterSingletonSettings.create(system).withRole(ROLE)));
  }
}
