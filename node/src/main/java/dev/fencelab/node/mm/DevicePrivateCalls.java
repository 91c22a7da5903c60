package dev.fencelab.node.mm;

import dev.fencelab.node.mm.AddressSpace.Invalidation;
import dev.fencelab.node.mm.MmProtocol.Reply;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * HMM on an address space (kernel-semantics §1.17), a part of {@link MmActor} run on its thread: migrate_vma to a
 * device's device-private memory and back, migrate_to_ram before any other access, hmm_range_fault with the owner rule
 * (and the 2025 RFC's P2P pfns), make_device_exclusive and its revocation by a CPU access, eviction before a device's
 * soft unplug, and pages lost with a device's member. Every migration is an invalidation round with the pgmap owner.
 */
final class DevicePrivateCalls {
  /** The mm's invalidation rounds ({@link InvalidationRounds#round}). */
  interface Rounds {
    void round(List<Invalidation> ranges, boolean blockable, String owner, String why, Runnable apply, IntConsumer done);
  }

  private final AddressSpace space;
  private final MmapLock mmapLock;
  private final Rounds rounds;
  private final TraceRecorder trace;
  private final String label;
  private final ActorContext<MmProtocol.Command> ctx;

  /** Device-private pages of {@code owner} in [start, end) are back in system memory (or lost). */
  interface Moved {
    void moved(String owner, long start, long end);
  }

  private final Moved movedToRam;

  DevicePrivateCalls(AddressSpace space, MmapLock mmapLock, Rounds rounds, TraceRecorder trace, String label, ActorContext<MmProtocol.Command> ctx,
      Moved moved) {
    this.movedToRam = moved;
    this.space = space;
    this.mmapLock = mmapLock;
    this.rounds = rounds;
    this.trace = trace;
    this.label = label;
    this.ctx = ctx;
  }

  private String op(String who) {
    return label + " " + who;
  }

  /** The device whose member died (a watched driver), if the ref is one: its pages are lost. */
  void driverGone(ActorRef<?> ref) {
    String device = holders.remove(ref);
    if (device != null) { // the device's member died with our device-private pages: their data is gone
      long lost = space.lose(device);
      movedToRam.moved(device, 0, AddressSpace.TASK_SIZE); // a mirror of that device maps nothing any more
      if (lost > 0) {
        trace.record(TraceRecorder.event(EventKind.MARK, label).setName("device-private pages lost").setSubject(device).setBytes(lost * AddressSpace.PAGE)
            .setDetail(lost + " page(s) were in " + device + "'s memory when it died: a CPU access to them is SIGBUS"));
        ctx.getLog().warn("{}: {} device-private page(s) lost with {}", label, lost, device);
      }
    }
  }

  /**
   * A CPU access to pages a device holds exclusively (make_device_exclusive) restores them first: an EXCLUSIVE
   * invalidation without an owner, which the holding device's notifier must honour (it loses its exclusive mapping).
   */
  void revokeExclusive(long addr, long length, Runnable then) {
    if (space.exclusiveOwners(addr, length).isEmpty()) {
      then.run();
      return;
    }
    long first = addr & ~(AddressSpace.PAGE - 1);
    long end = (addr + length + AddressSpace.PAGE - 1) & ~(AddressSpace.PAGE - 1);
    rounds.round(List.of(new Invalidation(first, end, MmuEvent.EXCLUSIVE)), true, "", "restore exclusive entries (cpu access)",
        () -> space.clearExclusive(addr, length), result -> then.run());
  }

  /**
   * make_device_exclusive (§1.17): the pages are faulted in for write (device-private ones come back to RAM first), then
   * an EXCLUSIVE invalidation with the owner (its own notifier skips it) marks them exclusive to the device.
   */
  void makeExclusive(MmProtocol.MakeExclusive x) {
    String who = op("make_device_exclusive for " + x.owner());
    mmapLock.acquire(false, who, () -> {
      AddressSpace.Plan plan = space.planAccess(x.addr(), x.length(), true, Errno.EPERM);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        x.replyTo().tell(Reply.of(plan.errno(), "make_device_exclusive: " + Errno.describe(plan.errno())));
        return;
      }
      long first = x.addr() & ~(AddressSpace.PAGE - 1);
      long end = (x.addr() + x.length() + AddressSpace.PAGE - 1) & ~(AddressSpace.PAGE - 1);
      long[] made = {0};
      toRam(x.addr(), x.length(), "make_device_exclusive of device-private pages", () -> rounds.round(plan.ranges(), true, "", "cow break",
          () -> space.fault(x.addr(), x.length(), true), faulted -> rounds.round(List.of(new Invalidation(first, end, MmuEvent.EXCLUSIVE)), true,
              x.owner(), "make_device_exclusive", () -> made[0] = space.makeExclusive(x.addr(), x.length(), x.owner()), result -> {
                mmapLock.release(false, who);
                x.replyTo().tell(new Reply(result, made[0], Map.of("pages", Long.toString(made[0])),
                    "make_device_exclusive: " + made[0] + " page(s) exclusive to " + x.owner()));
              })));
    });
  }


  /**
   * Moves every device-private page of the range back to system memory, one MIGRATE round per pgmap owner (with the
   * owner, as the owning driver's migrate_vma_setup announces it: its own notifiers skip it), then runs {@code then}.
   * {@code skipOwner}: an owner whose pages stay (hmm_range_fault's own pages).
   */
  void toRam(long addr, long length, String why, Runnable then) {
    toRam(addr, length, why, null, then);
  }

  void toRam(long addr, long length, String why, String skipOwner, Runnable then) {
    toRamExcept(addr, length, why, skipOwner, java.util.Set.of(), then);
  }

  /** {@link #toRam}, leaving the pages in the memory of {@code keepDevices} too. */
  private void toRamExcept(long addr, long length, String why, String skipOwner, java.util.Set<String> keepDevices, Runnable then) {
    toRamWhere(addr, length, why, p -> !p.owner().equals(skipOwner) && !keepDevices.contains(space.deviceOf(p.address())), then);
  }

  /** Moves the device-private pages of the range that {@code moves} selects back to RAM, a MIGRATE round per owner. */
  private void toRamWhere(long addr, long length, String why, java.util.function.Predicate<PageTable.Private> moves, Runnable then) {
    var foreign = space.devicePrivate(addr, length).stream().filter(moves).toList();
    if (foreign.isEmpty()) {
      then.run();
      return;
    }
    String owner = foreign.get(0).owner();
    List<Invalidation> ranges = foreign.stream().filter(p -> p.owner().equals(owner))
        .map(p -> new Invalidation(p.address(), p.address() + p.pages() * AddressSpace.PAGE, MmuEvent.MIGRATE)).toList();
    long bytes = ranges.stream().mapToLong(r -> r.end() - r.start()).sum();
    rounds.round(ranges, true, owner, why, () -> {
      ranges.forEach(r -> {
        space.toRam(r.start(), r.end() - r.start(), owner);
        movedToRam.moved(owner, r.start(), r.end());
      });
      migrated(why, owner, "device -> ram", bytes);
    }, result -> toRamWhere(addr, length, why, moves, then));
  }

  private void migrated(String why, String owner, String direction, long bytes) {
    trace.record(TraceRecorder.event(EventKind.MARK, label).setName("hmm migrate " + direction).setSubject(owner).setBytes(bytes)
        .setDetail(why + ": " + bytes + " bytes " + direction + " (pgmap owner " + owner + ")"));
  }

  /** The devices whose memory holds pages of this mm, by their driver (watched: its member's death loses them). */
  private final Map<ActorRef<?>, String> holders = new java.util.HashMap<>();

  /**
   * A device's soft unplug (lib/test_hmm.c dmirror_device_remove_chunks): every device-private page in its memory goes
   * back to RAM first — a MIGRATE round per run's owner — data intact; answered with the pages moved.
   */
  void evict(MmProtocol.EvictDevicePrivate e) {
    String who = op("evict device-private pages of " + e.device());
    mmapLock.acquire(false, who, () -> evictNext(e, who, 0));
  }

  private void evictNext(MmProtocol.EvictDevicePrivate e, String who, long moved) {
    var left = space.devicePrivate(0, AddressSpace.TASK_SIZE).stream().filter(p -> e.device().equals(space.deviceOf(p.address())))
        .toList();
    if (left.isEmpty()) {
      mmapLock.release(false, who);
      e.replyTo().tell(new MmProtocol.Result(0, moved));
      return;
    }
    var run = left.get(0);
    long bytes = run.pages() * AddressSpace.PAGE;
    rounds.round(List.of(new Invalidation(run.address(), run.address() + bytes, MmuEvent.MIGRATE)), true, run.owner(), "evict for unplug",
        () -> {
          space.toRam(run.address(), bytes, run.owner());
          movedToRam.moved(run.owner(), run.address(), run.address() + bytes);
          migrated("evict for the unplug of " + e.device(), run.owner(), "device -> ram", bytes);
        }, result -> evictNext(e, who, moved + run.pages()));
  }

  /** migrate_vma_setup / pages / finalize (§1.17): to the owner's device-private memory, or back to RAM. */
  void migrate(MmProtocol.Migrate m) {
    String who = op(m.toRam() ? "migrate_to_ram" : "migrate_vma to " + m.device());
    mmapLock.acquire(false, who, () -> {
      if (m.toRam()) { // MIGRATE_VMA_SELECT_DEVICE_PRIVATE with the pgmap owner: only the owner's pages move
        long before = space.devicePrivate(m.addr(), m.length()).stream().filter(p -> p.owner().equals(m.owner()))
            .mapToLong(PageTable.Private::pages).sum();
        toRamWhere(m.addr(), m.length(), "migrate_to_ram", p -> p.owner().equals(m.owner()), () -> {
          mmapLock.release(false, who);
          m.replyTo().tell(new Reply(0, before, Map.of("cpages", Long.toString(before)), "migrate_to_ram: " + before + " page(s) back"));
        });
        return;
      }
      AddressSpace.Plan plan = space.planMigrate(m.addr(), m.length());
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        m.replyTo().tell(Reply.of(plan.errno(), "migrate_vma_setup: " + Errno.describe(plan.errno())));
        return;
      }
      long[] cpages = {0};
      // MIGRATE_VMA_SELECT_SYSTEM: system pages (and holes) only; device-private pages, another device's included, are
      // not collected (a driver that wants them brings them back first: migrate_to_ram)
      rounds.round(plan.ranges(), true, m.owner(), "migrate_vma to " + m.device(), () -> {
            cpages[0] = space.toDevice(m.addr(), m.length(), m.owner(), m.device());
            if (m.driver() != null && holders.put(m.driver(), m.device()) == null) { // the device learns who holds its pages
              ctx.watch(m.driver());
              m.driver().tell(new dev.fencelab.node.driver.DriverProtocol.HoldsDevicePrivate(ctx.getSelf()));
            }
            migrated("migrate_vma to " + m.device(), m.owner(), "ram -> device", cpages[0] * AddressSpace.PAGE);
          }, result -> {
            mmapLock.release(false, who);
            m.replyTo().tell(new Reply(result != 0 ? result : 0, cpages[0], Map.of("cpages", Long.toString(cpages[0])),
                "migrate_vma to " + m.device() + ": " + cpages[0] + " page(s) now device-private (owner " + m.owner() + ")"));
          });
    });
  }

  /** hmm_range_fault (§1.17): a snapshot, or a fault request that migrates other owners' pages back and faults the rest in. */
  void hmmFault(MmProtocol.HmmFault h) {
    String who = op("hmm_range_fault for " + h.owner());
    mmapLock.acquire(false, who, () -> {
      long p2pPages = space.devicePrivate(h.addr(), h.length()).stream()
          .filter(p -> !p.owner().equals(h.owner()) && h.p2p().contains(space.deviceOf(p.address()))).mapToLong(PageTable.Private::pages).sum();
      java.util.function.LongBinaryOperator done = (migratedPages, faulted) -> {
        AddressSpace.HmmView v = space.hmmView(h.addr(), h.length(), h.owner(), h.p2p());
        mmapLock.release(false, who);
        h.replyTo().tell(new Reply(0, v.valid(), Map.of("valid", Long.toString(v.valid()), "write", Long.toString(v.write()),
            "device", Long.toString(v.device()), "error", Long.toString(v.error()), "none", Long.toString(v.none()),
            "migrated", Long.toString(migratedPages), "faulted", Long.toString(faulted), "p2p", Long.toString(v.p2p())),
            String.format("hmm_range_fault: %d valid (%d own device pages, %d P2P pfns, %d writable), %d not valid, %d error; %d migrated to RAM, "
                + "%d faulted", v.valid(), v.device(), v.p2p(), v.write(), v.none(), v.error(), migratedPages, faulted)));
        return 0;
      };
      if (!h.fault()) {
        done.applyAsLong(0, 0);
        return;
      }
      AddressSpace.Plan plan = space.planHmmFault(h.addr(), h.length(), h.write());
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        h.replyTo().tell(Reply.of(plan.errno(), "hmm_range_fault: " + Errno.describe(plan.errno())));
        return;
      }
      long foreign = space.devicePrivate(h.addr(), h.length()).stream().filter(p -> !p.owner().equals(h.owner()))
          .mapToLong(PageTable.Private::pages).sum() - p2pPages;
      long absent = space.absent(h.addr(), h.length());
      // the RFC: a reachable peer's pages come back as P2P pfns; everyone else's migrate to RAM first
      toRamExcept(h.addr(), h.length(), "hmm_range_fault of another owner's pages", h.owner(), h.p2p(), () -> rounds.round(plan.ranges(), true, "",
          "cow break", () -> space.fault(h.addr(), h.length(), h.write()), result -> done.applyAsLong(foreign, absent)));
    });
  }

}
