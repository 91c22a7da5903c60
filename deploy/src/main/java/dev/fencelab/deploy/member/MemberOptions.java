package dev.fencelab.deploy.member;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a user (or the local launcher) says about one member. {@code null} means "not given on the command
 * line": the value then comes from {@code --config}, the profile or the defaults, in that order.
 */
public record MemberOptions(
    String name,
    String host,
    Integer port,
    List<String> seeds,
    List<String> roles,
    String profile,
    Path configFile,
    Path runDir,
    String httpHost,
    Integer httpPort,
    Duration joinTimeout,
    Path tlsDir) {

  /** A member without TLS of its own ({@code --tls} not given: a {@code fencelab.tls.dir} of the configuration may still apply). */
  public MemberOptions(String name, String host, Integer port, List<String> seeds, List<String> roles, String profile, Path configFile,
      Path runDir, String httpHost, Integer httpPort, Duration joinTimeout) {
    this(name, host, port, seeds, roles, profile, configFile, runDir, httpHost, httpPort, joinTimeout, null);
  }


  /** {@code client}: a member that hosts nothing and drives others (tests, tools). */
  public static final List<String> KNOWN_ROLES = List.of("node", "coordinator", "client");
  public static final List<String> KNOWN_PROFILES = List.of("local", "cluster", "kubernetes");

  public MemberOptions {
    seeds = List.copyOf(seeds);
    roles = List.copyOf(roles);
    Objects.requireNonNull(profile, "profile");
  }
}
