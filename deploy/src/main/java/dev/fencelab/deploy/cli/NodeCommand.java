package dev.fencelab.deploy.cli;

import dev.fencelab.deploy.Fencelab;
import dev.fencelab.deploy.member.Member;
import dev.fencelab.deploy.member.MemberConfig;
import dev.fencelab.deploy.member.MemberOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one cluster member in the foreground, e.g. one per machine of a real cluster.",
      "The first member runs without --seed and forms the cluster; the others name it with --seed.",
      "",
      "Example (two machines):",
      "  fencelab node --name c1 --roles coordinator,node --host 10.0.0.1 --port 25520",
      "  fencelab node --name n2 --roles node --host 10.0.0.2 --port 25520 --seed 10.0.0.1:25520",
      ""
    })
public final class NodeCommand implements Callable<Integer> {
  @Option(names = "--name", description = "Member name, unique in the cluster (default: node-<port>).")
  String name;

  @Option(names = "--host", description = "Address to bind and advertise (default: 127.0.0.1).")
  String host;

  @Option(names = "--port", description = "Cluster (Artery TCP) port (default: 25520).")
  Integer port;

  @Option(names = "--bind-host", paramLabel = "ADDRESS", description = "Behind NAT or in a container: the local address Artery binds "
      + "(e.g. 0.0.0.0), while --host is the one the other members dial (default: --host).")
  String bindHost;

  @Option(names = "--seed", paramLabel = "HOST:PORT", description = "A seed member to join; repeatable. None: this member forms a new cluster.")
  List<String> seeds = new ArrayList<>();

  @Option(names = "--roles", split = ",", paramLabel = "ROLE[,ROLE]", description = "node (hosts emulated hardware) and/or coordinator (default: node).")
  List<String> roles = new ArrayList<>();

  @Option(names = "--profile", defaultValue = "cluster", description = "Bundled configuration: local (one machine, fast failure "
      + "detection), cluster (real network; default) or kubernetes (no --seed: Cluster Bootstrap finds the other pods).")
  String profile;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON file that overrides the bundled configuration (flags override it in turn).")
  Path config;

  @Option(names = "--run-dir", paramLabel = "DIR", description = "Where the member writes <name>.log and <name>.pid (default: ./run/<name>).")
  Path runDir;

  @Option(names = "--http-host", description = "Coordinator members: address of the HTTP API.")
  String httpHost;

  @Option(names = "--http-port", description = "Coordinator members: port of the HTTP API (default: 8560).")
  Integer httpPort;

  @Option(names = "--join-timeout", paramLabel = "DURATION", description = "Give up (exit 1) if no seed answers within this time, e.g. 30s (default: profile's).")
  String joinTimeout;

  @Option(names = "--http-token-file", paramLabel = "FILE", description = "Coordinator members: the HTTP API's status requires "
      + "'Authorization: Bearer <the token in FILE>' (401 otherwise).")
  Path httpTokenFile;

  @Option(names = "--tls", paramLabel = "DIR", description = "Mutual-TLS Artery with the certificates of DIR (fencelab certs): this member "
      + "presents DIR/<name>.p12 and accepts only members of the same authority.")
  Path tls;

  @Option(names = "--management-port", paramLabel = "PORT", description = "With Cluster Bootstrap (--profile kubernetes): the Pekko "
      + "Management port, the same on every member (default: 7626).")
  Integer managementPort;

  @Option(names = "--pace", paramLabel = "asap|realtime[:SCALE]", description = "Node members: how devices map model time to real "
      + "time (default: asap). Scenarios that say pace: realtime (the demo) need realtime members to run with --cluster.")
  String pace;

  @Override
  public Integer call() {
    MemberOptions options = new MemberOptions(
        name, host, port, seeds, roles, profile, config, runDir, httpHost, httpPort,
        joinTimeout == null ? null : Durations.parse("--join-timeout", joinTimeout), tls);
    com.typesafe.config.Config built = MemberConfig.build(options, managementPort);
    if (httpTokenFile != null) {
      built = built.withValue("fencelab.http.token-file", com.typesafe.config.ConfigValueFactory.fromAnyRef(
          httpTokenFile.toAbsolutePath().toString()));
    }
    if (pace != null) {
      built = built.withValue("fencelab.device.pacing", com.typesafe.config.ConfigValueFactory.fromAnyRef(ClusterCommand.checkedPace(pace)));
    }
    if (bindHost != null) {
      if (bindHost.isBlank()) {
        throw dev.fencelab.deploy.UserError.badInput("--bind-host is an address, not empty");
      }
      built = built.withValue("pekko.remote.artery.bind.hostname", com.typesafe.config.ConfigValueFactory.fromAnyRef(bindHost));
    }
    Member.httpToken(built); // a bad token file is exit 2 before anything starts
    Member.start(built, System.out);
    return Fencelab.KEEP_RUNNING;
  }

}
