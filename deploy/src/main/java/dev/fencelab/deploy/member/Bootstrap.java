package dev.fencelab.deploy.member;

import com.typesafe.config.Config;
import java.io.PrintStream;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * Joining without seed nodes (the {@code kubernetes} profile): Pekko Management serves this member's contact point and
 * health probes ({@code /alive}, {@code /ready}: Up in the cluster), and Cluster Bootstrap discovers the other contact
 * points (Kubernetes API in a cluster, config discovery in the tests), waits until enough of them agree, and joins the
 * cluster the lowest-addressed one forms — the same code path wherever the contact points come from.
 */
final class Bootstrap {
  static final String DISCOVERY_METHOD = "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method";

  private Bootstrap() {}

  /** Starts management, then bootstrap; {@code fail} gets a one-line reason when the management endpoint cannot bind. */
  static void start(ActorSystem<?> system, Config config, PrintStream out, Consumer<String> fail) {
    var classic = Adapter.toClassic(system);
    String name = config.getString("fencelab.member.name");
    PekkoManagement.get(classic).start().whenComplete((uri, error) -> {
      if (error != null) {
        fail.accept("the management endpoint could not bind " + config.getString("pekko.management.http.hostname") + ":"
            + config.getInt("pekko.management.http.port") + ": " + Member.rootMessage(error));
        return;
      }
      out.printf("member %s serves Pekko Management at %s (probes: %s/alive, %s/ready); bootstrapping with %s contact points of '%s'%n",
          name, uri, uri, uri, config.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"),
          config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"));
      ClusterBootstrap.get(classic).start();
    });
  }
}
