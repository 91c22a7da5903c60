package dev.fencelab.testkit;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.deploy.member.ClientMember;
import dev.fencelab.protocol.control.NodeControl;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A {@link ClientMember} inside the test JVM with {@code serialize-messages = on}, and a test kit on its actor
 * system, so that probes can be reply-to addresses for any member.
 */
public final class TestClient implements AutoCloseable {
  private final ClientMember member;
  private final ActorTestKit testKit;

  private TestClient(ClientMember member) {
    this.member = member;
    this.testKit = ActorTestKit.create(member.system());
  }

  /** Joins the cluster through its coordinator member; returns once Up and every node agent is known. */
  public static TestClient join(TestCluster cluster) {
    var coordinator = cluster.member("coordinator");
    long nodes = cluster.manifest().members().stream().filter(m -> m.roles().contains("node")).count();
    return new TestClient(ClientMember.join(coordinator.host() + ":" + coordinator.port(), cluster.dir(), (int) nodes,
        Duration.ofSeconds(30), ConfigFactory.parseString("pekko.actor.serialize-messages = on")));
  }

  public ActorTestKit testKit() {
    return testKit;
  }

  /** The agent of node member {@code name} ({@code n1}, {@code n2}…). */
  public ActorRef<NodeControl> agent(String name) {
    return member.agent(name);
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
