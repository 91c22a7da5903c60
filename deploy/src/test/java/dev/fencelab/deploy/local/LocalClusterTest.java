package dev.fencelab.deploy.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a local cluster's members are started: the command line each gets. */
class LocalClusterTest {
  private static final Path DIR = Path.of("/tmp/fencelab-test-run");
  private static final ClusterManifest.MemberEntry N1 =
      new ClusterManifest.MemberEntry("n1", List.of("node"), LocalCluster.HOST, 25521, 0, "/tmp/n1.log", "/tmp/n1.out");

  private static UpOptions options(Duration timeout) {
    return new UpOptions("t", 1, null, DIR, timeout, Path.of("fencelab.jar"), "java", UpOptions.DEFAULT_JVM_OPTIONS, null);
  }

  private static String after(List<String> command, String flag) {
    return command.get(command.indexOf(flag) + 1);
  }

  @Test
  void aMembersJoinBoundIsTheStartUpTimeout() {
    List<String> command = LocalCluster.command(options(Duration.ofSeconds(90)), DIR, N1, 25520, 25522);
    assertEquals("90000ms", after(command, "--join-timeout"));
  }

  @Test
  void aMemberOfAnOwnedClusterIsToldItsOwnersPid() {
    List<String> command = LocalCluster.command(options(Duration.ofSeconds(90)).ownedBy(4242), DIR, N1, 25520, 25522);
    assertTrue(command.contains("-Dfencelab.member.owner-pid=4242"), command.toString());
    assertTrue(command.indexOf("-Dfencelab.member.owner-pid=4242") < command.indexOf("-jar"), "a JVM option: " + command);
  }

  @Test
  void aMemberOfClusterUpHasNoOwner() {
    List<String> command = LocalCluster.command(options(Duration.ofSeconds(90)), DIR, N1, 25520, 25522);
    assertFalse(command.stream().anyMatch(a -> a.startsWith("-Dfencelab.member.owner-pid")), command.toString());
  }

  @Test
  void onlyTheCoordinatorServesTheHttpApi() {
    List<String> node = LocalCluster.command(options(Duration.ofSeconds(90)), DIR, N1, 25520, 25522);
    assertFalse(node.contains("--http-port"), node.toString());
    ClusterManifest.MemberEntry coordinator = new ClusterManifest.MemberEntry("coordinator", List.of("coordinator"), LocalCluster.HOST,
        25520, 0, "/tmp/c.log", "/tmp/c.out");
    List<String> seed = LocalCluster.command(options(Duration.ofSeconds(90)), DIR, coordinator, 25520, 25522);
    assertEquals("25522", after(seed, "--http-port"));
  }

  @Test
  void aBasePortThatLeavesNoRoomIsBadInputNotAnOverflow() {
    dev.fencelab.deploy.UserError e = org.junit.jupiter.api.Assertions.assertThrows(dev.fencelab.deploy.UserError.class,
        () -> LocalCluster.allocatePorts(Integer.MAX_VALUE, 3));
    assertTrue(e.getMessage().contains("--base-port must leave room for 3 ports between 1024 and 65535, was 2147483647"), e.getMessage());
  }

  @Test
  void theFirstMemberOfAnEphemeralClusterHasNoSeedAndBindsPortZero() {
    ClusterManifest.MemberEntry coordinator = new ClusterManifest.MemberEntry("coordinator", List.of("coordinator"), LocalCluster.HOST,
        0, 0, "/tmp/c.log", "/tmp/c.out");
    List<String> seed = LocalCluster.command(options(Duration.ofSeconds(90)), DIR, coordinator, 0, 0);
    assertFalse(seed.contains("--seed"), seed.toString());
    assertEquals("0", after(seed, "--port"));
    assertEquals("0", after(seed, "--http-port"));
  }

  @Test
  void aMemberReportsThePortsItBoundThroughItsPortsFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    java.nio.file.Files.writeString(dir.resolve("n1.ports"), "cluster=41234 http=0\n");
    Process alive = new ProcessBuilder("sleep", "30").start();
    try {
      int[] ports = LocalCluster.awaitPorts(dir, N1, alive, System.nanoTime() + Duration.ofSeconds(5).toNanos());
      assertEquals(41234, ports[0]);
    } finally {
      alive.destroyForcibly();
    }
  }
}
