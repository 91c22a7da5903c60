package dev.fencelab.deploy.member;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fencelab.deploy.UserError;
import dev.fencelab.protocol.control.Describe;
import dev.fencelab.protocol.control.NodeAgentKey;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.NodeInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A cluster member with role {@code client}: it hosts nothing and drives node agents over the real wire, from a
 * tool (the {@code bench} command) or a test. Runs outside any actor, so it may wait — always with a bound.
 */
public final class ClientMember implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final Map<String, ActorRef<NodeControl>> agents = new HashMap<>();
  private final Path log;
  private AutoCloseable logging = () -> {};
  /** Completes, with why, when this member is out of the cluster: removed (downed, left) or stopped. */
  private final CompletableFuture<String> lost = new CompletableFuture<>();

  private ClientMember(ActorSystem<Void> system, Path log) {
    this.system = system;
    this.log = log;
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberRemoved(() ->
        lost.complete("this runner was removed from the cluster (downed, or the cluster it joined went away)"));
    system.getWhenTerminated().thenRun(() -> lost.complete("this runner's cluster member stopped"));
  }

  /**
   * Joins through {@code seed} ({@code host:port}) and returns once Up and once {@code expectedNodes} node agents
   * are known by name. {@code overrides} (HOCON) win over the local profile.
   */
  public static ClientMember join(String seed, Path runDir, int expectedNodes, Duration timeout, Config overrides) {
    return join(seed, runDir, expectedNodes, List.of(), LOOPBACK, timeout, overrides);
  }

  /** The address a client binds and advertises unless told otherwise: a local cluster's. */
  public static final String LOOPBACK = "127.0.0.1";

  /**
   * {@link #join(String, Path, int, Duration, Config)}, returning once every node member of {@code nodeNames} is known
   * (not merely as many agents: another run's or a spare node may be among them), bound to {@code host}: a client that
   * joins a cluster on other machines binds and advertises an address they can reach, with the cluster profile's
   * failure detection.
   */
  public static ClientMember join(String seed, Path runDir, int expectedNodes, java.util.Collection<String> nodeNames, String host,
      Duration timeout, Config overrides) {
    String name = "client-" + ProcessHandle.current().pid();
    boolean local = host.equals(LOOPBACK) || host.equals("localhost");
    String bindHost = System.getProperty("pekko.remote.artery.bind.hostname", host);
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) { // one error line here, not Pekko's bind stack trace later
      probe.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName(bindHost), 0));
    } catch (java.io.IOException e) {
      throw UserError.badInput("the runner cannot bind " + bindHost + " (" + e.getMessage() + "): --host"
          + (bindHost.equals(host) ? "" : "/--bind-host") + " must be an address of this machine");
    }
    MemberOptions options = new MemberOptions(name, host, 0, List.of(seed),
        List.of("client"), local ? "local" : "cluster", null, runDir, null, null, timeout);
    Config asked = overrides.withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING"));
    // The terminal shows what the caller asked for; the client's log file gets INFO and up.
    Path log = runDir.toAbsolutePath().resolve(name + ".log");
    AutoCloseable logging = ClientLog.attach(log, asked.getString("pekko.loglevel"));
    Config config = ConfigFactory.parseString("pekko.loglevel = INFO").withFallback(asked).withFallback(MemberConfig.build(options));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), Member.SYSTEM_NAME, config);
    ClientMember client = new ClientMember(system, log);
    client.logging = logging;
    try {
      CompletableFuture<Void> up = new CompletableFuture<>();
      org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> up.complete(null));
      await(up, timeout, "joining the cluster through " + seed);
      client.discover(expectedNodes, Set.copyOf(nodeNames), timeout);
      return client;
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** Lists node agents until {@code expected} are known and, when {@code names} is not empty, every one of them by name. */
  private void discover(int expected, Set<String> names, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Set<ActorRef<NodeControl>> described = new java.util.HashSet<>();
    while (agents.size() < expected || !agents.keySet().containsAll(names)) {
      if (System.nanoTime() > deadline) {
        java.util.Set<String> missing = new java.util.TreeSet<>(names);
        missing.removeAll(agents.keySet());
        throw UserError.runtime("only " + agents.size() + " of " + expected + " node agents became known within " + timeout
            + (missing.isEmpty() ? "" : " (not found: " + missing + "; known: " + new java.util.TreeSet<>(agents.keySet()) + ")"));
      }
      CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
          replyTo -> Receptionist.find(NodeAgentKey.KEY, replyTo), Duration.ofSeconds(5), system.scheduler());
      for (ActorRef<NodeControl> agent : awaitWhileMember(listing, Duration.ofSeconds(6), "listing node agents")
          .getServiceInstances(NodeAgentKey.KEY)) {
        if (described.add(agent)) {
          NodeInfo info = awaitWhileMember(AskPattern.ask(agent, Describe::new, Duration.ofSeconds(10), system.scheduler()),
              Duration.ofSeconds(11), "describing " + agent.path());
          agents.put(info.nodeName(), agent);
        }
      }
      if (agents.size() < expected || !agents.keySet().containsAll(names)) {
        awaitQuietly(new CompletableFuture<>(), Duration.ofMillis(200)); // the receptionist's view spreads by gossip
      }
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** Every known node agent, by node name. */
  public Map<String, ActorRef<NodeControl>> agents() {
    return Map.copyOf(agents);
  }

  /** The agent of node member {@code name}. */
  public ActorRef<NodeControl> agent(String name) {
    ActorRef<NodeControl> agent = agents.get(name);
    if (agent == null) {
      throw UserError.runtime("no node agent " + name + " (known: " + agents.keySet() + ")");
    }
    return agent;
  }

  /** This client member's log file. */
  public Path log() {
    return log;
  }

  /**
   * Waits at most {@code timeout} for {@code result}, as {@link #await} does, but fails at once — with why, and the
   * log to read — when this member is out of the cluster meanwhile: nothing it waits for can come any more.
   */
  public <T> T awaitWhileMember(CompletionStage<T> result, Duration timeout, String what) {
    CompletableFuture<T> done = result.toCompletableFuture();
    CompletableFuture<Object> first = CompletableFuture.anyOf(done, lost);
    awaitQuietly(first, timeout);
    if (done.isCompletedExceptionally()) {
      awaitQuietly(lost, Duration.ofSeconds(2)); // a runner stopped by its member's removal: say so, not "stopped"
    }
    if (lost.isDone() && (!done.isDone() || done.isCompletedExceptionally())) {
      throw UserError.runtime(lost.getNow("") + " while " + what + "; log: " + log);
    }
    if (!done.isDone()) {
      throw UserError.runtime(what + " did not finish within " + timeout.toSeconds() + " s; log: " + log);
    }
    return await(done, Duration.ofSeconds(1), what);
  }

  /** Waits at most {@code timeout} for a reply; a timeout or failure is a {@link UserError} naming {@code what}. */
  public static <T> T await(CompletionStage<T> stage, Duration timeout, String what) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw UserError.runtime(what + " did not finish within " + timeout.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw UserError.runtime(what + " failed: " + e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw UserError.runtime("interrupted while " + what);
    }
  }

  /** Waits at most {@code timeout} for {@code future} to complete, whatever its outcome; never throws. */
  public static void awaitQuietly(CompletableFuture<?> future, Duration timeout) {
    try {
      future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // the caller looks at the future
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean left(org.apache.pekko.cluster.typed.Cluster cluster) {
    org.apache.pekko.cluster.MemberStatus status = cluster.selfMember().status();
    return status == org.apache.pekko.cluster.MemberStatus.removed() || status == org.apache.pekko.cluster.MemberStatus.exiting()
        || status == org.apache.pekko.cluster.MemberStatus.down();
  }

  /** How long the local actor system may go on stopping once this member has left the cluster. */
  static final Duration AFTER_LEAVING = Duration.ofSeconds(5);

  @Override
  public void close() {
    org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(system);
    system.terminate();
    CompletableFuture<?> terminated = system.getWhenTerminated().toCompletableFuture();
    long start = System.nanoTime();
    try {
      // Left, but the local actor system has not finished stopping (seen with TLS: a transport stage that completes only
      // when its shutdown phase times out, 10 s later): the cluster is done with this member and the process exit ends
      // the rest, so once it has left it gets AFTER_LEAVING, not the whole 30 s. Not left: that is an error.
      while (!terminated.isDone() && System.nanoTime() - start < Duration.ofSeconds(30).toNanos()) {
        awaitQuietly(terminated, Duration.ofSeconds(1));
        if (!terminated.isDone() && left(cluster) && System.nanoTime() - start >= AFTER_LEAVING.toNanos()) {
          break;
        }
      }
      if (!terminated.isDone()) {
        if (!left(cluster)) {
          throw UserError.runtime("leaving the cluster did not finish within 30 s");
        }
        org.slf4j.LoggerFactory.getLogger(ClientMember.class).warn("left the cluster ({}), but the local actor system did not stop "
            + "within {} s; the process exit ends it", cluster.selfMember().status(), AFTER_LEAVING.toSeconds());
      }
    } finally {
      try {
        logging.close();
      } catch (Exception e) {
        // the log file could not be closed: nothing left to tell anyone
      }
    }
  }
}
