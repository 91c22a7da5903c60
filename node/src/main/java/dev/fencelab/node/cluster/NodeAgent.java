package dev.fencelab.node.cluster;

import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.protocol.control.CoordinatorControl;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.control.Register;
import java.time.Instant;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The agent of one node member.
 *
 * <p>Owns: this member's identity as the coordinator sees it. Talks to: the coordinator (any coordinator
 * member; it does not assume which). Replies: {@link NodeInfo} to {@link Register}, {@link Pong} to
 * {@link Ping}. Errors: none — both requests always succeed.
 */
public final class NodeAgent extends AbstractBehavior<NodeControl> {

  /** Identity of this member, fixed at start-up. */
  public record Identity(String nodeName, long pid, long startedEpochMillis, String version) {
    public Identity {
      Objects.requireNonNull(nodeName, "nodeName");
      Objects.requireNonNull(version, "version");
    }
  }

  private final Identity identity;
  private ActorRef<CoordinatorControl> coordinator;

  public static Behavior<NodeControl> create(Identity identity) {
    return Behaviors.setup(context -> new NodeAgent(context, identity));
  }

  private NodeAgent(ActorContext<NodeControl> context, Identity identity) {
    super(context);
    this.identity = identity;
    context.getSystem().receptionist().tell(Receptionist.register(NodeAgentKey.KEY, context.getSelf()));
  }

  @Override
  public Receive<NodeControl> createReceive() {
    return newReceiveBuilder()
        .onMessage(Ping.class, this::onPing)
        .onMessage(Register.class, this::onRegister)
        .build();
  }

  private Behavior<NodeControl> onPing(Ping ping) {
    Instant now = Instant.now();
    long wallMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000L;
    ping.replyTo().tell(new Pong(identity.nodeName(), ping.seq(), ping.sentMonoNanos(), wallMicros, System.nanoTime()));
    return this;
  }

  private Behavior<NodeControl> onRegister(Register register) {
    if (!register.coordinator().equals(coordinator)) {
      getContext().getLog().info("registered with coordinator {}", register.coordinator().path());
      coordinator = register.coordinator();
    }
    register.replyTo().tell(describe());
    return this;
  }

  private NodeInfo describe() {
    Cluster cluster = Cluster.get(getContext().getSystem());
    return new NodeInfo(
        identity.nodeName(),
        cluster.selfMember().address().toString(),
        ClusterStatus.userRoles(cluster.selfMember().getRoles()),
        identity.pid(),
        identity.startedEpochMillis(),
        identity.version(),
        getContext().getSelf().path().toStringWithoutAddress());
  }
}
