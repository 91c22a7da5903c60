package dev.fencelab.deploy.cli;

import dev.fencelab.deploy.UserError;
import dev.fencelab.deploy.tls.ClusterCerts;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fencelab certs}: a cluster's certificate authority and its members' keystores, for mutual-TLS Artery. */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = {
      "Makes the certificates of a cluster for mutual-TLS Artery (--tls DIR on node, cluster up, run, bench, chaos, compare): "
          + "a certificate authority of its own and a keystore per member, signed by it.",
      "Run it again on the same directory to add members: the authority is kept. Copy DIR/trust.p12, DIR/password and "
          + "each member's DIR/<name>.p12 to that member's machine; keep DIR/ca.p12 off the members.",
      "",
      "Example: fencelab certs --out certs --members coordinator,n1,n2,n3,client",
      ""
    })
public final class CertsCommand implements Callable<Integer> {
  static final List<String> DEFAULT_MEMBERS = List.of("coordinator", "client", "n1", "n2", "n3");
  static final int MAX_MEMBERS = 256;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The certificates directory (made if missing).")
  Path out;

  @Option(names = "--members", split = ",", paramLabel = "NAME[,NAME]", description = "The members to make keystores for "
      + "(default: coordinator, client, n1, n2, n3; 'client' is what run, bench and compare present).")
  List<String> members = new ArrayList<>(DEFAULT_MEMBERS);

  @Option(names = "--days", defaultValue = "365", description = "Validity of the certificates in days (default: ${DEFAULT-VALUE}).")
  int days;

  @Override
  public Integer call() throws IOException {
    if (days < 1 || days > 3650) {
      throw UserError.badInput("--days must be 1..3650, not " + days);
    }
    if (members.isEmpty() || members.size() > MAX_MEMBERS) {
      throw UserError.badInput("--members takes 1 to " + MAX_MEMBERS + " names, not " + members.size());
    }
    for (String m : members) {
      if (!m.matches(ClusterCerts.NAME)) {
        throw UserError.badInput("--members: '" + m + "' is not a member name (1-64 letters, digits, '.', '_', '-')");
      }
    }
    Duration validity = Duration.ofDays(days);
    try {
      ClusterCerts certs = ClusterCerts.open(out, validity);
      for (String m : members) {
        System.out.printf("  %s%n", certs.member(m, validity));
      }
    } catch (GeneralSecurityException e) {
      throw UserError.runtime("cannot make the certificates: " + e.getMessage());
    }
    System.out.printf("certificates of %d member(s) in %s (authority: ca.p12, trust: %s, password: %s)%n", members.size(), out,
        ClusterCerts.TRUST, ClusterCerts.PASSWORD);
    System.out.printf("members of this cluster now: %s%n", ClusterCerts.members(out));
    return 0;
  }
}
