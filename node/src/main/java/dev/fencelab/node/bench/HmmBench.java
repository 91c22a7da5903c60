package dev.fencelab.node.bench;

import dev.fencelab.node.cluster.FenceControl;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmActor;
import dev.fencelab.node.mm.MmProtocol;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The HMM figures of {@code bench devices} (kernel-semantics §1.17): an mm on this member faults 100,000 absent pages in
 * through {@code hmm_range_fault} (REQ_FAULT | REQ_WRITE), then migrates them to a device's private memory and back
 * ({@code migrate_vma}, MIGRATE rounds), against raw Pekko moving one local message per page to an actor that counts
 * them — what a per-page design would cost at best. fencelab's page table is run-length encoded and page content is
 * described by segments, so a migration costs in proportion to runs, not pages. Pages per second; ratio = fencelab /
 * raw (higher is better).
 */
final class HmmBench extends StepwiseBench {

  private record Counted() implements org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  static final long PAGES = 100_000;
  static final int MIGRATIONS = 10;

  private final List<BenchFigure> figures;
  private final ActorRef<FenceControl.BenchReport> replyTo;
  private final ActorRef<MmProtocol.Command> mm;
  private long addr;
  private double faultRate;
  private double migrateRate;

  static Behavior<Command> create(FenceServices services, List<BenchFigure> figures, ActorRef<FenceControl.BenchReport> replyTo) {
    return Behaviors.setup(context -> new HmmBench(context, services, figures, replyTo).start());
  }

  private HmmBench(ActorContext<Command> context, FenceServices services, List<BenchFigure> figures,
      ActorRef<FenceControl.BenchReport> replyTo) {
    super(context);
    this.figures = new ArrayList<>(figures);
    this.replyTo = replyTo;
    this.mm = context.spawn(MmActor.create("bench/hmm", 1 << 20, services), "bench-hmm-mm");
  }

  private Behavior<Command> start() {
    onStep = m -> {
      if (m instanceof MmProtocol.Reply r) {
        addr = r.ret();
        fault();
      }
    };
    mm.tell(new MmProtocol.Mmap(0, PAGES * AddressSpace.PAGE, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, reply()));
    return this;
  }

  private void fault() {
    long t0 = System.nanoTime();
    onStep = m -> {
      if (m instanceof MmProtocol.Reply) {
        faultRate = PAGES / ((System.nanoTime() - t0) / 1e9);
        migrate(0, System.nanoTime());
      }
    };
    mm.tell(new MmProtocol.HmmFault(addr, PAGES * AddressSpace.PAGE, "bench-dev", true, true, reply()));
  }

  /** {@link #MIGRATIONS} round trips: to the device's private memory, back to RAM. */
  private void migrate(int done, long t0) {
    if (done == 2 * MIGRATIONS) {
      migrateRate = done * PAGES / ((System.nanoTime() - t0) / 1e9);
      raw();
      return;
    }
    onStep = m -> {
      if (m instanceof MmProtocol.Reply) {
        migrate(done + 1, t0);
      }
    };
    boolean toRam = done % 2 == 1;
    mm.tell(new MmProtocol.Migrate(addr, PAGES * AddressSpace.PAGE, "bench-dev", "bench-dev", toRam, null, reply()));
  }

  /** Raw Pekko: one local message per page to an actor that counts them and answers after the last. */
  private void raw() {
    ActorRef<Object> done = reply();
    long[] count = {0};
    ActorRef<Long> counter = getContext().spawnAnonymous(Behaviors.receive(Long.class).onMessage(Long.class, page -> {
      if (++count[0] == PAGES) {
        done.tell(new Counted());
      }
      return Behaviors.same();
    }).build());
    long t0 = System.nanoTime();
    onStep = m -> {
      if (m instanceof Counted) {
        double raw = PAGES / ((System.nanoTime() - t0) / 1e9);
        figures.add(BenchFigure.of("hmm.fault.100k_pages.rate", "pages/s", faultRate, raw, true));
        figures.add(BenchFigure.of("hmm.migrate.100k_pages.rate", "pages/s", migrateRate, raw, true));
        replyTo.tell(new FenceControl.BenchReport(figures));
        getContext().stop(mm);
        getContext().stop(counter);
      }
    };
    for (long p = 0; p < PAGES; p++) {
      counter.tell(p);
    }
  }
}
