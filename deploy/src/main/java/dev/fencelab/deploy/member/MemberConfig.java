package dev.fencelab.deploy.member;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.tls.ClusterTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a member's configuration. Layering, highest first: {@code -D} system properties, command-line
 * flags, {@code --config FILE}, {@code profiles/<profile>.conf}, {@code profiles/base.conf}, the
 * {@code reference.conf} of every jar.
 */
public final class MemberConfig {
  private MemberConfig() {}

  public static Config build(MemberOptions o) {
    return build(o, null);
  }

  /** {@link #build(MemberOptions)} with {@code --management-port} (null: not given). */
  public static Config build(MemberOptions o, Integer managementPort) {
    if (!MemberOptions.KNOWN_PROFILES.contains(o.profile())) {
      throw UserError.badInput("unknown profile '" + o.profile() + "' (known: " + String.join(", ", MemberOptions.KNOWN_PROFILES) + ")");
    }
    Map<String, Object> flags = new HashMap<>();
    if (o.host() != null) flags.put("pekko.remote.artery.canonical.hostname", o.host());
    if (o.port() != null) flags.put("pekko.remote.artery.canonical.port", o.port());
    if (!o.roles().isEmpty()) flags.put("pekko.cluster.roles", o.roles());
    if (o.name() != null) flags.put("fencelab.member.name", o.name());
    if (o.runDir() != null) flags.put("fencelab.member.run-dir", o.runDir().toString());
    if (o.httpHost() != null) flags.put("fencelab.http.host", o.httpHost());
    if (o.httpPort() != null) flags.put("fencelab.http.port", o.httpPort());
    if (o.tlsDir() != null) flags.put("fencelab.tls.dir", o.tlsDir().toAbsolutePath().toString());
    if (managementPort != null) flags.put("pekko.management.http.port", managementPort);
    if (o.joinTimeout() != null) {
      flags.put("pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes", o.joinTimeout().toMillis() + "ms");
    }
    if (!o.seeds().isEmpty()) {
      List<String> seedNodes = new ArrayList<>();
      for (String seed : o.seeds()) {
        seedNodes.add(seedAddress(seed));
      }
      flags.put("pekko.cluster.seed-nodes", seedNodes);
    }

    Config file = o.configFile() == null ? ConfigFactory.empty() : parseFile(o.configFile());

    Config config;
    try {
      config = ConfigFactory.systemProperties()
          .withFallback(ConfigFactory.parseMap(flags, "command-line flags"))
          .withFallback(file)
          .withFallback(ConfigFactory.parseResources("profiles/" + o.profile() + ".conf"))
          .withFallback(ConfigFactory.parseResources("profiles/base.conf"))
          .withFallback(ConfigFactory.defaultReference())
          .resolve();
    } catch (ConfigException e) {
      throw UserError.badInput("invalid configuration: " + e.getMessage());
    }
    // a client member presents the cluster's "client" certificate; any other member its own name's
    return ClusterTls.apply(withDefaults(config), o.roles().contains("client") ? "client" : null);
  }

  /** Parses a user's HOCON file; a missing or malformed file is bad input (exit 2) naming file and line. */
  public static Config parseFile(Path path) {
    if (!Files.isReadable(path)) {
      throw UserError.badInput("configuration file " + path + " does not exist or is not readable");
    }
    try {
      return ConfigFactory.parseFile(path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw UserError.badInput("malformed configuration file " + e.getMessage());
    }
  }

  /** Fills what depends on other settings: the member name, its run directory, self-seeding. */
  private static Config withDefaults(Config config) {
    try {
      String host = config.getString("pekko.remote.artery.canonical.hostname");
      int port = config.getInt("pekko.remote.artery.canonical.port");
      if (port < 0 || port > 65535) {
        throw UserError.badInput("port " + port + " is out of range (0-65535)");
      }
      List<String> roles = config.getStringList("pekko.cluster.roles");
      if (roles.isEmpty()) {
        throw UserError.badInput("a member needs at least one role (" + String.join(", ", MemberOptions.KNOWN_ROLES) + ")");
      }
      for (String role : roles) {
        if (!MemberOptions.KNOWN_ROLES.contains(role)) {
          throw UserError.badInput("unknown role '" + role + "' (known: " + String.join(", ", MemberOptions.KNOWN_ROLES) + ")");
        }
      }
      String name = config.getString("fencelab.member.name");
      if (name.isEmpty()) {
        name = (roles.contains("node") ? "node-" : "coordinator-") + port;
        config = config.withValue("fencelab.member.name", ConfigValueFactory.fromAnyRef(name));
      }
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
        throw UserError.badInput("member name '" + name + "' must be 1-63 letters, digits, '.', '_' or '-'");
      }
      if (config.getString("fencelab.member.run-dir").isEmpty()) {
        config = config.withValue("fencelab.member.run-dir", ConfigValueFactory.fromAnyRef("run/" + name));
      }
      if (config.getBoolean("fencelab.bootstrap.enabled")) {
        config = bootstrapped(config, host);
      } else if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        // No seed: this member is the first one and forms the cluster by joining itself — through its seed list
        // when its port is known, else (port 0: the OS picks it) by joining its own address once bound.
        if (port == 0) {
          config = config.withValue("fencelab.member.join-self", ConfigValueFactory.fromAnyRef(true));
        } else {
          config = config.withValue(
              "pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(address(host, port))));
        }
      }
      if (config.getString("fencelab.http.host").isEmpty()) { // the cluster profile: the API where the member is
        config = config.withValue("fencelab.http.host", ConfigValueFactory.fromAnyRef(host));
      }
      config.getDuration("pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes");
      int httpPort = config.getInt("fencelab.http.port");
      if (httpPort < 0 || httpPort > 65535) {
        throw UserError.badInput("HTTP port " + httpPort + " is out of range (0-65535)");
      }
      return config;
    } catch (ConfigException e) {
      throw UserError.badInput("invalid configuration: " + e.getMessage());
    }
  }

  /**
   * A member that finds its cluster through Cluster Bootstrap (the {@code kubernetes} profile) names no seed: the contact
   * points discovery returns agree on who forms the cluster. Its management endpoint (bootstrap's contact point, the
   * health probes) is on the member's own host unless configured otherwise.
   */
  private static Config bootstrapped(Config config, String host) {
    if (!config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      throw UserError.badInput("--seed (pekko.cluster.seed-nodes) and Cluster Bootstrap (fencelab.bootstrap.enabled, the kubernetes "
          + "profile) exclude each other: bootstrap finds the seeds itself");
    }
    if (config.getString("pekko.management.http.hostname").equals("<hostname>")) {
      config = config.withValue("pekko.management.http.hostname", ConfigValueFactory.fromAnyRef(host));
    }
    int port = config.getInt("pekko.management.http.port");
    if (port < 1 || port > 65535) {
      throw UserError.badInput("management port " + port + " is out of range (1-65535): bootstrap's contact points share one port");
    }
    String method = config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method");
    if (!config.hasPath("pekko.discovery." + method + ".class") && !method.equals("pekko.discovery")) {
      throw UserError.badInput("unknown bootstrap discovery method '" + method + "' (pekko.discovery." + method + " is not configured)");
    }
    return config;
  }

  /** {@code host:port} → the Pekko address of a fencelab member there. */
  static String seedAddress(String seed) {
    int colon = seed.lastIndexOf(':');
    if (colon <= 0 || colon == seed.length() - 1) {
      throw UserError.badInput("seed '" + seed + "' is not host:port");
    }
    String host = seed.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(seed.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw UserError.badInput("seed '" + seed + "' has a port that is not a number");
    }
    if (port <= 0 || port > 65535) {
      throw UserError.badInput("seed '" + seed + "' has a port out of range (1-65535)");
    }
    return address(host, port);
  }

  static String address(String host, int port) {
    return "pekko://" + Member.SYSTEM_NAME + "@" + host + ":" + port;
  }
}
