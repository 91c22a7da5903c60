package dev.fencelab.deploy.tls;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fencelab.deploy.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Mutual-TLS Artery for a member whose configuration names a certificates directory ({@code fencelab.tls.dir}, made by
 * {@code fencelab certs}): the {@code tls-tcp} transport, the member's own keystore ({@code <member>.p12}), the
 * cluster's trust store, TLS 1.3 only, and mutual authentication — a peer must present a certificate of this cluster's
 * authority both ways, so a member of another cluster (or none) cannot connect. Hostname verification stays off:
 * members are known by their certificate's authority, not by DNS names.
 */
public final class ClusterTls {
  private ClusterTls() {}

  /** {@code config} with TLS when it names a certificates directory; {@code cert}: whose keystore (null: the member's name). */
  public static Config apply(Config config, String cert) {
    String dir = config.hasPath("fencelab.tls.dir") ? config.getString("fencelab.tls.dir") : "";
    if (dir.isBlank()) {
      return config;
    }
    Path d = Path.of(dir);
    String who = cert != null ? cert : config.getString("fencelab.member.name");
    Path keyStore = d.resolve(who + ".p12");
    if (!Files.isReadable(keyStore)) {
      throw UserError.badInput("no certificate for member '" + who + "' in " + d + " (make one: fencelab certs --out " + d + " --members " + who + ")");
    }
    if (!Files.isReadable(d.resolve(ClusterCerts.TRUST))) {
      throw UserError.badInput("no " + ClusterCerts.TRUST + " in " + d + " (make the directory with: fencelab certs --out " + d + ")");
    }
    String password;
    try {
      password = new String(ClusterCerts.readPassword(d));
    } catch (IOException e) {
      throw UserError.badInput(e.getMessage());
    }
    String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
    Map<String, Object> tls = new HashMap<>();
    tls.put("pekko.remote.artery.transport", "tls-tcp");
    tls.put("pekko.remote.artery.ssl.ssl-engine-provider", "org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider");
    tls.put(engine + "key-store", keyStore.toAbsolutePath().toString());
    tls.put(engine + "trust-store", d.resolve(ClusterCerts.TRUST).toAbsolutePath().toString());
    tls.put(engine + "key-store-password", password);
    tls.put(engine + "key-password", password);
    tls.put(engine + "trust-store-password", password);
    tls.put(engine + "protocol", "TLSv1.3");
    tls.put(engine + "enabled-algorithms", List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"));
    tls.put(engine + "require-mutual-authentication", "on");
    tls.put(engine + "hostname-verification", "off");
    return ConfigFactory.parseMap(tls, "mutual TLS from " + d).withFallback(config);
  }
}
