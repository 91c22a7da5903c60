package dev.fencelab.deploy.member;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.fencelab.deploy.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemberConfigTest {
  private static MemberOptions options(String profile, List<String> seeds, Path configFile) {
    return new MemberOptions("n1", "10.1.2.3", 25520, seeds, List.of("node"), profile, configFile, null, null, null, null);
  }

  @Test
  void theKubernetesProfileBootstrapsThroughTheKubernetesApiWithoutSeedNodes() {
    Config c = MemberConfig.build(options("kubernetes", List.of(), null));
    assertTrue(c.getBoolean("fencelab.bootstrap.enabled"));
    assertEquals("kubernetes-api", c.getString(Bootstrap.DISCOVERY_METHOD));
    assertEquals(List.of(), c.getStringList("pekko.cluster.seed-nodes"), "no self-seeding: bootstrap decides who forms the cluster");
    assertFalse(c.hasPath("fencelab.member.join-self") && c.getBoolean("fencelab.member.join-self"));
    assertEquals("app.kubernetes.io/part-of=%s", c.getString("pekko.discovery.kubernetes-api.pod-label-selector"));
  }

  @Test
  void aBootstrappedMembersManagementEndpointIsOnItsOwnHost() {
    Config c = MemberConfig.build(options("kubernetes", List.of(), null), 17626);
    assertEquals("10.1.2.3", c.getString("pekko.management.http.hostname"));
    assertEquals(17626, c.getInt("pekko.management.http.port"));
    assertEquals("10.1.2.3", c.getString("fencelab.http.host"), "the API where the member is: the pod IP");
  }

  @Test
  void aSeedWithClusterBootstrapIsBadInput() {
    UserError e = assertThrows(UserError.class, () -> MemberConfig.build(options("kubernetes", List.of("10.0.0.1:25520"), null)));
    assertEquals(UserError.BAD_INPUT, e.exitCode());
    assertTrue(e.getMessage().contains("exclude each other"), e.getMessage());
  }

  @Test
  void anUnknownDiscoveryMethodIsBadInput(@TempDir Path dir) throws Exception {
    Path conf = Files.writeString(dir.resolve("x.conf"),
        "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method = dns-srv-typo\n");
    UserError e = assertThrows(UserError.class, () -> MemberConfig.build(options("kubernetes", List.of(), conf)));
    assertTrue(e.getMessage().contains("unknown bootstrap discovery method 'dns-srv-typo'"), e.getMessage());
  }

  @Test
  void theClusterProfileStillSeedsItselfAndDoesNotBootstrap() {
    Config c = MemberConfig.build(options("cluster", List.of(), null));
    assertFalse(c.getBoolean("fencelab.bootstrap.enabled"));
    assertEquals(List.of("pekko://fencelab@10.1.2.3:25520"), c.getStringList("pekko.cluster.seed-nodes"));
  }
}
