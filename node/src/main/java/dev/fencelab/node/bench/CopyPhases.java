package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.DeviceControl;
import dev.fencelab.node.device.DeviceSpec;
import dev.fencelab.node.device.JobSpec;
import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.driver.DriverSettings;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.WaitResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The device bench's copy figure ({@link DeviceBench}, step 2): a buffer of real bytes on a GPU on the peer, exported,
 * imported here peer to peer (the two GPUs under one PCIe switch, each copy a transfer of the fabric), and copied into a
 * local buffer by copy jobs — MB of content moved per second, vs a raw actor on the peer answering the same chunk
 * requests with the same bytes, same chunks, same window. One unmeasured round of each side, then {@value #COPY_ROUNDS}
 * measured, alternating. Runs on the bench's thread, through its continuations.
 */
final class CopyPhases {
  private static final String PROCESS = DeviceBench.PROCESS;

  private final DeviceBench b;
  private final ActorContext<DeviceBench.Command> context;
  private final DeviceBench.Params p;
  private final ActorRef<DriverProtocol.Command> gpu;
  /** What comes after the figure. */
  private final Runnable done;
  private ActorRef<DriverProtocol.Command> peerGpu;
  private int count;
  private long t0;

  CopyPhases(DeviceBench bench, ActorContext<DeviceBench.Command> context, DeviceBench.Params p, ActorRef<DriverProtocol.Command> gpu,
      Runnable done) {
    this.b = bench;
    this.context = context;
    this.p = p;
    this.gpu = gpu;
    this.done = done;
  }

  void start() {
    b.phase("copy: placing a GPU on the peer");
    b.then(m -> {
      if (!(m instanceof DeviceControl.DevicePlaced placed)) {
        return; // a late answer of an earlier step
      }
      if (placed.error() != 0) {
        b.fail("placing the peer GPU failed: " + placed.detail());
        return;
      }
      peerGpu = placed.driver();
      intoFabric();
      createSource();
    });
    p.peer().tell(new DeviceControl.PlaceDevice(new DeviceSpec("bench-src-" + System.nanoTime(), DeviceSpec.Kind.GPU, 1, 1L << 34, true,
        false, Duration.ofMinutes(5)), b.reply()));
  }

  /** Both GPUs under one switch of a fabric here (answering at once: no settling, the copies run one after the other). */
  private void intoFabric() {
    var pcie = dev.fencelab.protocol.scenario.v1.Pcie.newBuilder()
        .addHostBridges(dev.fencelab.protocol.scenario.v1.HostBridge.newBuilder().setName("hb").setVendor(0x8086).setDevice(0x2030))
        .addPorts(dev.fencelab.protocol.scenario.v1.PciPort.newBuilder().setName("rp").setKind("root_port").setParent("hb"))
        .addPorts(dev.fencelab.protocol.scenario.v1.PciPort.newBuilder().setName("up").setKind("switch_upstream").setParent("rp"))
        .addPorts(dev.fencelab.protocol.scenario.v1.PciPort.newBuilder().setName("dn0").setKind("switch_downstream").setParent("up"))
        .addPorts(dev.fencelab.protocol.scenario.v1.PciPort.newBuilder().setName("dn1").setKind("switch_downstream").setParent("up"))
        .addEndpoints(dev.fencelab.protocol.scenario.v1.PciEndpoint.newBuilder().setName("peer").setPort("dn0"))
        .addEndpoints(dev.fencelab.protocol.scenario.v1.PciEndpoint.newBuilder().setName("here").setPort("dn1")).build();
    var routes = new dev.fencelab.node.p2p.PcieRoutes(new dev.fencelab.node.p2p.P2pDma(dev.fencelab.node.p2p.PciTopology.of(pcie, List.of())), pcie);
    var fabric = context.spawn(dev.fencelab.node.p2p.PcieFabric.create(routes, "bench/pcie", Duration.ZERO), "bench-pcie");
    peerGpu.tell(new DriverProtocol.UsePcie("peer", pcie, List.of(), fabric));
    gpu.tell(new DriverProtocol.UsePcie("here", pcie, List.of(), fabric));
  }

  private void createSource() {
    b.then(m -> {
      if (!(m instanceof DriverProtocol.BoReply bo)) {
        return;
      }
      int src = bo.handle();
      b.then(s -> {
        if (s instanceof DriverProtocol.SubmitReply submitted) {
          b.then(sig -> {
            if (sig instanceof WaitResult w) {
              if (w.signalled()) {
                exportSource(src);
              } else {
                b.fail("the source's fill job did not end: " + w);
              }
            }
          });
          b.awaitEnd(submitted.outFence());
        }
      });
      peerGpu.tell(new DriverProtocol.Submit(PROCESS, JobSpec.compute("fill", 0, List.of(), List.of(src)), List.of(), b.reply()));
    });
    peerGpu.tell(new DriverProtocol.CreateBo(PROCESS, "bench-src", p.copyBytes(), DriverProtocol.Placement.VRAM, b.reply()));
  }

  private void exportSource(int src) {
    b.then(m -> {
      if (!(m instanceof DriverProtocol.ExportReply exported)) {
        return;
      }
      DmaBufRef buf = exported.buf();
      b.then(i -> {
        if (!(i instanceof DriverProtocol.BoReply importedBo)) {
          return;
        }
        int imported = importedBo.handle();
        b.then(d -> {
          if (d instanceof DriverProtocol.BoReply dst) {
            copies(imported, dst.handle());
          }
        });
        gpu.tell(new DriverProtocol.CreateBo(PROCESS, "bench-dst", p.copyBytes(), DriverProtocol.Placement.VRAM, b.reply()));
      });
      gpu.tell(new DriverProtocol.Import(PROCESS, buf, true, false, true, b.reply())); // allow_peer2peer
    });
    peerGpu.tell(new DriverProtocol.Export(PROCESS, src, b.reply()));
  }

  /** Measured rounds of the copy figure, each fencelab then raw, after one unmeasured round of each (both sides warm). */
  static final int COPY_ROUNDS = 3;

  private final List<Double> copyRates = new ArrayList<>();
  private final List<Double> rawCopyRates = new ArrayList<>();
  private ActorRef<DriverProtocol.Command> rawSource;

  private void copies(int imported, int dst) {
    copyRound(imported, dst, 0);
  }

  /** Round 0 warms both sides up; rounds 1..COPY_ROUNDS are measured, alternating, so load drifts hit both alike. */
  private void copyRound(int imported, int dst, int round) {
    b.phase(round == 0 ? "copy: buffer exported and imported; warming up (not measured)" : "copy: round " + round + " of " + COPY_ROUNDS);
    count = 0;
    FenceRef[] last = new FenceRef[1];
    b.then(m -> {
      if (m instanceof DriverProtocol.SubmitReply r) {
        if (r.result() != 0) {
          b.fail("copy submit failed: " + r.result());
          return;
        }
        if (last[0] == null || r.outFence().id().seqno() > last[0].id().seqno()) {
          last[0] = r.outFence();
        }
        if (++count == p.copies()) {
          b.awaitEnd(last[0]);
        }
      } else if (m instanceof WaitResult w && !w.signalled()) {
        b.fail("the last copy did not end: " + w);
      } else if (m instanceof WaitResult) {
        double rate = (double) p.copyBytes() * p.copies() / ((System.nanoTime() - t0) / 1e9) / 1e6;
        if (round > 0) {
          copyRates.add(rate);
        }
        rawCopy(round, () -> copyRound(imported, dst, round + 1));
      }
    });
    t0 = System.nanoTime();
    for (int i = 0; i < p.copies(); i++) {
      gpu.tell(new DriverProtocol.Submit(PROCESS, JobSpec.copy("copy", 0, new JobSpec.Copy(imported, 0, dst, 0, p.copyBytes())),
          List.of(), b.reply()));
    }
  }

  /** The raw baseline of one round: the same bytes pulled from a plain actor on the peer, same chunks, same window. */
  private void rawCopy(int round, Runnable nextRound) {
    if (rawSource == null) {
      b.then(m -> {
        if (m instanceof DeviceControl.RawSourceSpawned spawned) {
          rawSource = spawned.source();
          rawCopy(round, nextRound);
        }
      });
      p.peer().tell(new DeviceControl.SpawnRawSource(b.reply()));
      return;
    }
    DriverSettings settings = DriverSettings.from(context.getSystem().settings().config(), dev.fencelab.node.resv.Resv.Mode.MODERN);
    int chunk = settings.copyChunk();
    long total = (long) p.copyBytes() * p.copies();
    long[] requested = {0};
    long[] received = {0};
    ActorRef<DriverProtocol.RangeData> data = b.reply();
    Runnable request = () -> {
      int n = (int) Math.min(chunk, total - requested[0]);
      rawSource.tell(new DriverProtocol.ReadRange(0, requested[0] % p.copyBytes(), n, requested[0], data));
      requested[0] += n;
    };
    b.then(d -> {
      if (!(d instanceof DriverProtocol.RangeData range)) {
        return;
      }
      received[0] += range.chunks().stream().mapToLong(c -> c.length()).sum();
      if (requested[0] < total) {
        request.run();
      } else if (received[0] >= total) {
        double raw = total / ((System.nanoTime() - t0) / 1e9) / 1e6;
        if (round > 0) {
          rawCopyRates.add(raw);
        }
        if (round < COPY_ROUNDS) {
          nextRound.run();
        } else {
          copyFigure();
        }
      }
    });
    t0 = System.nanoTime();
    for (int i = 0; i < settings.copyWindow() && requested[0] < total; i++) {
      request.run();
    }
  }

  private void copyFigure() {
    b.figures.add(BenchFigure.of("copy.cross_node.throughput", "MB/s", DeviceBench.median(copyRates), DeviceBench.median(rawCopyRates), true));
    b.phase("copy done (fencelab " + copyRates + " MB/s, raw " + rawCopyRates + " MB/s); invalidation rounds");
    done.run();
  }
}
