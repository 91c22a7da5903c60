package dev.fencelab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.testkit.ClusterLogs;
import dev.fencelab.testkit.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DMA between devices on different members — RDMA (kernel-semantics §1.16) and PCIe peer to peer (§1.12, §1.13) — each
 * case a bundled scenario run as a user runs it ({@code fencelab run X.yaml --cluster …}) on one local cluster of real
 * JVMs with {@code serialize-messages = on} and realtime pacing (so a fault lands mid-transfer): the transfer between
 * NICs on different members moving real bytes (and where a pinned MR's data goes after munmap), an ODP invalidation in
 * the middle of a transfer, a dma-buf MR whose exporter moves the buffer and is then unplugged; dma-buf peer2peer
 * negotiated over the fabric, four copies sharing one switch uplink, a P2P provider unplugged, GPUDirect between two
 * emulated hosts; HMM device-private memory moving between a process and its device; and — last, it kills n2 — the RDMA
 * peer's member crashed mid-transfer. The scenarios that kill no member run first, as one batch ({@code fencelab run A B …
 * --cluster}); the cases read their outputs. Each asserts what the trace shows, not only the verdict.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DmaTransfersIT {
  @RegisterExtension final ClusterLogs logs = new ClusterLogs(false);
  private TestCluster cluster;
  private final ObjectMapper json = new ObjectMapper();

  /** The scenarios that kill no member, in the order the cases below read them: one batch on the shared cluster. */
  static final List<String> LIVE = List.of("rdma-pinned-vs-odp", "rdma-odp-invalidate-mid-transfer", "rdma-dmabuf-mr",
      "rdma-dmabuf-mr-keeps-mapping", "p2p-dmabuf-fallback", "p2p-contention", "p2p-provider-unplug", "gpudirect-across-hosts",
      "hmm-migrate-roundtrip", "hmm-owner-rule", "hmm-p2p-rfc");
  private final Map<String, Path> batch = new HashMap<>();
  private String batchOutput = "";

  @BeforeAll
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void start() throws Exception {
    cluster = TestCluster.builder("dma").nodes(2).jvmOption("-Dfencelab.device.pacing=realtime").start();
    logs.track(cluster.dir());
    // one client for the eleven (as a user runs a library on a long-lived cluster: fencelab run A B … --cluster)
    Path out = logs.track(TestCluster.newRunDir("dma-batch"));
    List<String> args = new ArrayList<>(List.of("run"));
    LIVE.forEach(n -> args.add(ScenarioLibraryIT.scenario(n).toString()));
    args.addAll(List.of("--out", out.toString(), "--cluster", coordinator()));
    LauncherIT.Run run = LauncherIT.fencelab(args.toArray(String[]::new));
    batchOutput = run.all();
    try (var dirs = Files.list(out)) {
      dirs.filter(Files::isDirectory).forEach(d -> batch.put(d.getFileName().toString().replaceFirst("^\\d{3}-", ""), d));
    }
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String coordinator() {
    var coordinator = cluster.member("coordinator");
    return coordinator.host() + ":" + coordinator.port();
  }

  private record Out(JsonNode verdict, List<JsonNode> wallTrace, List<JsonNode> modelTrace) {}

  /** {@code scenario}'s outputs: from the batch, or — for one that kills a member — from a run of its own. */
  private Out run(String scenario) throws Exception {
    Path out = batch.get(scenario);
    if (!LIVE.contains(scenario)) {
      out = logs.track(TestCluster.newRunDir("dma-" + scenario));
      LauncherIT.Run run = LauncherIT.fencelab("run", ScenarioLibraryIT.scenario(scenario).toString(), "--out", out.toString(),
          "--cluster", coordinator());
      assertEquals(0, run.exitCode(), run.all());
    }
    assertTrue(out != null && Files.isRegularFile(out.resolve("verdict.json")), scenario + " has no outputs:\n" + batchOutput);
    JsonNode verdict = json.readTree(out.resolve("verdict.json").toFile());
    assertEquals("PASS", verdict.get("verdict").asText(), verdict.toPrettyString());
    List<JsonNode> events = new ArrayList<>();
    json.readTree(out.resolve("trace-wall.json").toFile()).get("traceEvents").forEach(events::add);
    List<JsonNode> model = new ArrayList<>();
    json.readTree(out.resolve("trace.json").toFile()).get("traceEvents").forEach(model::add);
    return new Out(verdict, events, model);
  }

  private static List<JsonNode> named(List<JsonNode> events, String prefix) {
    return events.stream().filter(e -> e.has("name") && e.get("name").asText().startsWith(prefix)).toList();
  }

  private static double end(JsonNode slice) {
    return slice.get("ts").asDouble() + slice.get("dur").asDouble();
  }

  @Test
  @Order(1)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void aWriteIntoAPinnedMrAfterMunmapLandsInPagesTheProcessNoLongerMapsWhileAnOdpMrFaultsTheNewPagesIn() throws Exception {
    Out out = run("rdma-pinned-vs-odp");
    List<String> facts = new ArrayList<>();
    out.verdict().get("facts").forEach(f -> facts.add(f.asText()));
    assertTrue(facts.stream().anyMatch(f -> f.startsWith("n1/nic1") && f.contains(": DMA write of 65536 bytes")
        && f.contains("went to pinned pages n1/P")), facts.toString());
    assertTrue(facts.stream().anyMatch(f -> f.startsWith("rdma write: 4 work requests completed, 262144 bytes")), facts.toString());
    List<JsonNode> writes = named(out.wallTrace(), "rdma write");
    assertEquals(4, writes.size(), "a slice per RDMA WRITE");
    writes.forEach(w -> assertEquals("n2", w.get("args").get("node").asText(), "posted on nic2, the requester's member"));
    assertTrue(named(out.wallTrace(), "odp fault").size() >= 2, "the ODP MR faulted before and after the munmap");
    List<JsonNode> served = named(out.wallTrace(), "rdma serve write");
    assertEquals(4, served.size(), "the responder's side of each WRITE, on nic1's queue pair");
    served.forEach(w -> assertEquals("n1", w.get("args").get("node").asText()));
    assertEquals(5, named(out.wallTrace(), "work request → responder").stream().filter(f -> f.get("ph").asText().equals("s")).count(),
        "a flow arrow from each work request (4 WRITEs, 1 READ) to its responder");
  }

  @Test
  @Order(2)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void anOdpInvalidationInTheMiddleOfATransferZapsFaultsBackAndKeepsEveryByte() throws Exception {
    Out out = run("rdma-odp-invalidate-mid-transfer");
    JsonNode write = named(out.wallTrace(), "rdma write w").get(0);
    JsonNode migrate = named(out.wallTrace(), "invalidate callback MIGRATE").get(0);
    assertTrue(migrate.get("ts").asDouble() > write.get("ts").asDouble() && end(migrate) < end(write),
        "the MIGRATE callback ran while the write was in flight: " + migrate + " in " + write);
    long refaults = named(out.wallTrace(), "odp fault").stream()
        .filter(f -> f.get("args").get("node").asText().equals("n2") && f.get("ts").asDouble() > end(migrate)).count();
    assertTrue(refaults > 0, "nic2 faulted the moved pages back in after its zap");
    assertTrue(out.verdict().get("failures").isEmpty());
  }

  @Test
  @Order(9)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void aPeerKilledMidTransferEndsTheActiveWorkRequestWithRetryExceededAndFlushesTheRest() throws Exception {
    Out out = run("rdma-peer-killed");
    JsonNode kill = named(out.wallTrace(), "FAULT kill_node n2").get(0);
    JsonNode w1 = named(out.wallTrace(), "rdma write w1").get(0);
    assertEquals("retry_exc_err", w1.get("args").get("status").asText());
    assertTrue(w1.get("ts").asDouble() < kill.get("ts").asDouble() && end(w1) > kill.get("ts").asDouble(),
        "w1 was in flight when n2 died");
    assertEquals("wr_flush_err", named(out.wallTrace(), "rdma write w2").get(0).get("args").get("status").asText());
    assertEquals("wr_flush_err", named(out.wallTrace(), "rdma read r3").get(0).get("args").get("status").asText());
  }

  @Test
  @Order(3)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void aDmaBufMrIsMappedAgainAfterTheMoveFenceAndRevokedWithItsExporter() throws Exception {
    Out out = run("rdma-dmabuf-mr");
    double moved = named(out.wallTrace(), "dma-buf move_notify").get(0).get("ts").asDouble();
    double fenceDone = named(out.wallTrace(), "step move-done").get(0).get("ts").asDouble();
    List<JsonNode> remaps = named(out.wallTrace(), "dma-buf mapped").stream().filter(m -> m.get("ts").asDouble() > moved).toList();
    assertEquals(1, remaps.size(), "one remap after the move, shared by the chunks that waited for it");
    assertTrue(remaps.get(0).get("ts").asDouble() > fenceDone, "the remap waited for the move fence (KERNEL usage)");
    assertEquals(1, named(out.wallTrace(), "dma-buf revoked").size());
    assertEquals("loc_prot_err", named(out.wallTrace(), "rdma write w_late").get(0).get("args").get("status").asText());
  }

  @Test
  @Order(3)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void aNicWhoseMoveNotifyKeepsItsMappingReadsFreedMemoryAndTheExporterReportsDmaAfterFree() throws Exception {
    Out out = run("rdma-dmabuf-mr-keeps-mapping");
    double freed = named(out.wallTrace(), "dma-buf freed").get(0).get("ts").asDouble();
    double ignored = named(out.wallTrace(), "dma-buf revoke ignored").get(0).get("ts").asDouble();
    JsonNode late = named(out.wallTrace(), "rdma write w_late").get(0);
    assertTrue(freed >= ignored, "freed only after the importer's callback returned");
    assertTrue(late.get("ts").asDouble() > freed, "the late write came after the free");
    assertEquals("success", late.get("args").get("status").asText(), "the hardware cannot tell");
    assertTrue(facts(out).stream().anyMatch(f -> f.startsWith("expected violation DMA_AFTER_FREE")), facts(out).toString());
  }

  private static List<String> facts(Out out) {
    List<String> facts = new ArrayList<>();
    out.verdict().get("facts").forEach(f -> facts.add(f.asText()));
    return facts;
  }

  @Test
  @Order(4)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void anImporterThatCannotReachTheBarGetsSystemMemoryAfterAMoveWhileTheSwitchPairCopiesPeerToPeer() throws Exception {
    Out out = run("p2p-dmabuf-fallback");
    JsonNode move = named(out.wallTrace(), "job ttm move srcCD").get(0);
    assertEquals("n1", move.get("args").get("node").asText(), "the exporter's engine moved the buffer");
    JsonNode copy = named(out.wallTrace(), "job copy-cd").get(0);
    assertTrue(copy.get("ts").asDouble() >= end(move), "the importer's copy started after the move's KERNEL fence: " + move + " / " + copy);
    JsonNode modelCopy = named(out.modelTrace(), "job copy-cd").get(0);
    JsonNode modelMove = named(out.modelTrace(), "job ttm move srcCD").get(0);
    assertTrue(modelCopy.get("ts").asDouble() >= end(modelMove), "and in model time: " + modelMove + " / " + modelCopy);
    List<JsonNode> transfers = named(out.wallTrace(), "pcie transfer");
    assertTrue(transfers.stream().anyMatch(t -> t.get("name").asText().contains("bus_addr link:gpuA/up,link:gpuB/down")),
        "the switch pair's copy went up gpuA's link and down gpuB's: " + transfers);
    assertTrue(transfers.stream().anyMatch(t -> t.get("name").asText().contains("host_memory dram,link:gpuD/down")), transfers.toString());
    assertTrue(facts(out).stream().anyMatch(f -> f.startsWith("copy.bus_addr p100 = 2.10ms")), facts(out).toString());
  }

  @Test
  @Order(5)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void fourCopiesThroughOneSwitchUplinkEachGetAQuarterOfIt() throws Exception {
    Out out = run("p2p-contention");
    List<JsonNode> transfers = named(out.wallTrace(), "pcie transfer").stream()
        .filter(t -> t.get("name").asText().contains("link:sw-up/down")).toList();
    assertEquals(4, transfers.size(), "four transfers crossed the uplink");
    assertTrue(facts(out).stream().anyMatch(f -> f.startsWith("copy.host_memory p40 = 8.40ms")), facts(out).toString());
  }

  @Test
  @Order(6)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void anUnpluggedProviderRevokesItsPeerMappingsAndLateDmaIsReported() throws Exception {
    Out out = run("p2p-provider-unplug");
    JsonNode unplug = named(out.wallTrace(), "unplug gpuA").get(0);
    JsonNode dep = named(out.wallTrace(), "step pull-after-long").get(0);
    assertTrue(end(dep) < unplug.get("ts").asDouble(), "the dependent copy was queued before the unplug");
    assertTrue(named(out.wallTrace(), "job pull-after-long failed before it ran: ENODEV").get(0).get("ts").asDouble()
        > unplug.get("ts").asDouble(), "and failed with the provider's -ENODEV after it");
    List<JsonNode> violations = named(out.wallTrace(), "VIOLATION DMA_REVOKED");
    assertEquals(2, violations.size(), "the late read and the late write, each reported once: " + violations);
    assertTrue(violations.stream().anyMatch(v -> v.get("args").get("detail").asText().contains("read-late: DMA read of revoked memory returned all-ones")));
    assertTrue(violations.stream().anyMatch(v -> v.get("args").get("detail").asText().contains("write-late: DMA write to revoked memory was dropped")));
  }

  @Test
  @Order(7)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void aGpuDirectWriteBetweenHostsCrossesEachHostsSwitchAndTheWire() throws Exception {
    Out out = run("gpudirect-across-hosts");
    List<JsonNode> legs = named(out.wallTrace(), "pcie transfer");
    assertTrue(legs.stream().anyMatch(l -> l.get("args").get("node").asText().equals("n1")
        && l.get("name").asText().contains("bus_addr link:gpuA/up,link:nicA/down")), "nicA read gpuA's BAR through host a's switch");
    assertTrue(legs.stream().anyMatch(l -> l.get("args").get("node").asText().equals("n2")
        && l.get("name").asText().contains("bus_addr link:gpuB/down,link:nicB/up")), "nicB wrote gpuB's BAR through host b's switch");
    assertEquals(1, named(out.wallTrace(), "rdma write w").size(), "the work request on the wire");
    assertTrue(facts(out).stream().anyMatch(f -> f.startsWith("buffers [src, dst] equal")), facts(out).toString());
  }

  @Test
  @Order(8)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void devicePrivatePagesMoveWithTheirOwnerAnnouncedAndComeBackIntactOnACpuTouch() throws Exception {
    Out roundtrip = run("hmm-migrate-roundtrip");
    List<JsonNode> migrations = named(roundtrip.wallTrace(), "invalidate MIGRATE");
    assertTrue(migrations.stream().anyMatch(m -> m.get("args").get("why").asText().equals("migrate_vma to gpu0")), migrations.toString());
    assertTrue(migrations.stream().anyMatch(m -> m.get("args").get("why").asText().equals("migrate_to_ram (cpu touch)")), migrations.toString());
    assertTrue(facts(roundtrip).stream().anyMatch(f -> f.startsWith("buffers [buf, ref] equal")), facts(roundtrip).toString());
    Out owners = run("hmm-owner-rule");
    List<JsonNode> back = named(owners.wallTrace(), "hmm migrate device -> ram");
    assertEquals(1, back.size(), "only the other owner's fault migrated the pages back");
    assertEquals("hive0", back.get(0).get("args").get("subject").asText());
    Out rfc = run("hmm-p2p-rfc");
    assertEquals(1, named(rfc.wallTrace(), "hmm migrate device -> ram: hmm_range_fault").size(),
        "of the two NICs' faults, only the unreachable one's migrated (the CPU reads at the end migrate the rest)");
  }
}
