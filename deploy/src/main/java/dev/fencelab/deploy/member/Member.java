package dev.fencelab.deploy.member;

import com.typesafe.config.Config;
import dev.fencelab.coordinator.CoordinatorApi;
import dev.fencelab.coordinator.CoordinatorRole;
import dev.fencelab.deploy.UserError;
import dev.fencelab.node.cluster.NodeAgent;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One cluster member: an {@code ActorSystem} named {@value #SYSTEM_NAME} with its roles' actors. A member
 * with role {@code node} runs a {@link NodeAgent}; one with role {@code coordinator} hosts the coordinator
 * singleton (when oldest) and serves the HTTP API.
 *
 * <p>Lifecycle lines go to stdout (the local launcher keeps them in {@code <name>.out}); the full log goes to
 * {@code <run-dir>/<name>.log}. Exit codes: 0 after a clean leave or SIGTERM, or when the command that started it
 * is gone ({@link OwnerWatch}); 1 when the member could not start or join; 3 when the cluster downed it.
 */
public final class Member {
  public static final String SYSTEM_NAME = "fencelab";
  public static final int EXIT_DOWNED = 3;

  private final Config config;
  private final String name;
  private final Path runDir;
  private final Path logFile;
  private final PrintStream out;
  private final AtomicInteger failure = new AtomicInteger();

  private Member(Config config, PrintStream out) {
    this.config = config;
    this.name = config.getString("fencelab.member.name");
    this.runDir = Path.of(config.getString("fencelab.member.run-dir"));
    this.logFile = runDir.resolve(name + ".log");
    this.out = out;
  }

  /**
   * Starts the member and returns once its actor system runs; the JVM then lives until the member leaves,
   * is downed or is told to stop. Must be called before anything touches SLF4J, so that the member's log
   * configuration is the one in force.
   */
  public static void start(Config config, PrintStream out) {
    new Member(config, out).start();
  }

  private void start() {
    try {
      Files.createDirectories(runDir);
    } catch (IOException e) {
      throw UserError.runtime("cannot create run directory " + runDir + ": " + e.getMessage());
    }
    System.setProperty("fencelab.log.file", logFile.toString());
    System.setProperty("fencelab.member.name", name);
    System.setProperty("logback.configurationFile", "logback-member.xml");
    // Initialise logging here, on one thread, before Pekko's threads race to do it (SLF4J would replay).
    org.slf4j.LoggerFactory.getLogger(Member.class).info("starting member {} (fencelab {})", name, version());

    String host = config.getString("pekko.remote.artery.canonical.hostname");
    int port = config.getInt("pekko.remote.artery.canonical.port");
    List<String> roles = config.getStringList("pekko.cluster.roles");
    boolean coordinator = roles.contains(CoordinatorRole.ROLE);
    String httpHost = config.getString("fencelab.http.host");
    int httpPort = config.getInt("fencelab.http.port");
    String bindHost = config.hasPath("pekko.remote.artery.bind.hostname") && !config.getString("pekko.remote.artery.bind.hostname").isEmpty()
        ? config.getString("pekko.remote.artery.bind.hostname") : host;
    ensureFree(bindHost, port, "cluster port", "--port");
    if (coordinator) {
      ensureFree(httpHost, httpPort, "HTTP API port", "--http-port");
    }
    boolean bootstrap = config.getBoolean("fencelab.bootstrap.enabled");
    if (bootstrap) {
      ensureFree(config.getString("pekko.management.http.hostname"), config.getInt("pekko.management.http.port"),
          "management port", "--management-port");
    }

    long startNanos = System.nanoTime();
    NodeAgent.Identity identity = new NodeAgent.Identity(
        name, ProcessHandle.current().pid(), System.currentTimeMillis(), version());
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(guardian(roles.contains("node"), identity), SYSTEM_NAME, config);
    } catch (Exception e) { // Pekko (Scala) also throws checked exceptions here, e.g. ClassNotFoundException
      org.slf4j.LoggerFactory.getLogger(Member.class).error("member {} failed to start", name, e);
      throw UserError.runtime("member " + name + " failed to start: " + rootMessage(e) + "; log: " + logFile);
    }
    writePid();
    out.printf("member %s starting at %s:%d%s, roles %s, %s; log: %s%n", name, host, port,
        bindHost.equals(host) ? "" : " (bound to " + bindHost + ")", roles,
        bootstrap ? "Cluster Bootstrap through " + config.getString(Bootstrap.DISCOVERY_METHOD) + " discovery"
            : "seeds " + config.getStringList("pekko.cluster.seed-nodes"), logFile);
    if (bootstrap) {
      Bootstrap.start(system, config, out, error -> fail(system, error));
    }

    Cluster cluster = Cluster.get(system);
    if (config.hasPath("fencelab.member.join-self") && config.getBoolean("fencelab.member.join-self")) {
      cluster.manager().tell(org.apache.pekko.cluster.typed.Join.create(cluster.selfMember().address()));
    }
    int boundPort = cluster.selfMember().address().getPort().orElse(port);
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> out.printf("member %s is Up at %s (joined in %d ms)%n",
        name, cluster.selfMember().address(), Duration.ofNanos(System.nanoTime() - startNanos).toMillis()));

    if (coordinator) {
      new CoordinatorApi(system, CoordinatorRole.singleton(system), httpToken(config))
          .bind(httpHost, httpPort)
          .whenComplete((binding, error) -> {
            if (error != null) {
              fail(system, "HTTP API could not bind " + httpHost + ":" + httpPort + ": " + rootMessage(error));
            } else {
              out.printf("member %s serves the coordinator API at http://%s:%d/api/v1/status%n",
                  name, httpHost, binding.localAddress().getPort());
              writePorts(boundPort, binding.localAddress().getPort());
            }
          });
    } else {
      writePorts(boundPort, 0);
    }
    system.getWhenTerminated().whenComplete((done, error) -> exitFor(system));
    OwnerWatch.start(config.hasPath(OwnerWatch.CONFIG) ? config.getLong(OwnerWatch.CONFIG) : 0, system, name, out);
  }

  private static Behavior<Void> guardian(boolean node, NodeAgent.Identity identity) {
    return Behaviors.setup(context -> {
      if (node) {
        context.spawn(NodeAgent.create(identity), "node-agent");
      }
      return Behaviors.empty();
    });
  }

  private void fail(ActorSystem<?> system, String message) {
    System.err.println("error: member " + name + ": " + message + "; log: " + logFile);
    failure.set(UserError.RUNTIME);
    system.terminate();
  }

  /** Runs once the actor system has terminated: decides the process's exit code from why it stopped. */
  private void exitFor(ActorSystem<?> system) {
    CoordinatedShutdown.Reason reason =
        CoordinatedShutdown.get(system).getShutdownReason().orElse(CoordinatedShutdown.unknownReason());
    if (reason.equals(CoordinatedShutdown.jvmExitReason())) {
      return; // SIGTERM / System.exit: the JVM is already on its way out; exiting again would deadlock.
    }
    int code = failure.get();
    if (reason.equals(CoordinatedShutdown.clusterJoinUnsuccessfulReason())) {
      System.err.printf("error: member %s could not join the cluster through %s within %s; is a seed running and reachable? log: %s%n",
          name, config.getStringList("pekko.cluster.seed-nodes"),
          humane(config.getDuration("pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes")), logFile);
      code = UserError.RUNTIME;
    } else if (reason.equals(CoordinatedShutdown.clusterDowningReason())) {
      System.err.printf("error: member %s was downed by the cluster (the majority could not reach it); log: %s%n", name, logFile);
      code = EXIT_DOWNED;
    } else {
      out.printf("member %s stopped (%s)%n", name, reason);
    }
    int exitCode = code;
    Thread exiter = new Thread(() -> System.exit(exitCode), "fencelab-exit");
    exiter.start();
  }

  private void ensureFree(String host, int port, String what, String flag) {
    if (port == 0) {
      return;
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    } catch (IOException e) {
      throw UserError.runtime(String.format(
          "member %s: %s %s:%d is not available (%s); choose another %s", name, what, host, port, e.getMessage(), flag));
    }
  }

  /**
   * {@code <name>.ports}: the ports this member bound ({@code cluster=P http=Q}), written once all are bound, atomically
   * — a launcher that started it with port 0 reads them instead of guessing free ports beforehand.
   */
  private void writePorts(int cluster, int http) {
    try {
      Path tmp = runDir.resolve(name + ".ports.tmp");
      Files.writeString(tmp, "cluster=" + cluster + " http=" + http + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, runDir.resolve(name + ".ports"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      org.slf4j.LoggerFactory.getLogger(Member.class).error("cannot write the ports file in {}", runDir, e);
    }
  }

  private void writePid() {
    try {
      Files.writeString(runDir.resolve(name + ".pid"), ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw UserError.runtime("cannot write pid file in " + runDir + ": " + e.getMessage());
    }
  }

  static String humane(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  public static String version() {
    String v = Member.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
  }


  /** The HTTP API's bearer token, from {@code fencelab.http.token-file} (none: ""); a missing or empty file is bad input. */
  public static String httpToken(com.typesafe.config.Config config) {
    String file = config.hasPath("fencelab.http.token-file") ? config.getString("fencelab.http.token-file") : "";
    if (file.isBlank()) {
      return "";
    }
    try {
      String token = java.nio.file.Files.readString(java.nio.file.Path.of(file)).strip();
      if (token.isEmpty() || token.length() > 4096 || !token.matches("[\\x21-\\x7e]+")) {
        throw UserError.badInput("the HTTP token file " + file + " must hold one token of 1-4096 printable characters");
      }
      return token;
    } catch (java.io.IOException e) {
      throw UserError.badInput("cannot read the HTTP token file " + file + ": " + e.getMessage());
    }
  }
}
