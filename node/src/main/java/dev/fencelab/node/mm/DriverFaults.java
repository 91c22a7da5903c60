package dev.fencelab.node.mm;

import dev.fencelab.node.mm.IntervalNotifiers.Interval;
import dev.fencelab.protocol.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A device driver's faults of an mm's pages for its translation, a part of {@link MmActor} run on its thread:
 * {@code hmm_range_fault} over a mirrored interval, checked against its notifier's seq (userptr, kernel-semantics
 * §1.15), and {@code pin_user_pages(FOLL_LONGTERM)} accounted against RLIMIT_MEMLOCK in {@code mm->pinned_vm}, and its
 * unpin (a pinned memory region, kernel-semantics §1.16). A device-private page is no other device's to map: its
 * owner's driver migrates it back to RAM first (kernel-semantics §1.17).
 */
final class DriverFaults {
  private final AddressSpace space;
  private final MmapLock mmapLock;
  private final InvalidationRounds rounds;
  private final DevicePrivateCalls hmm;
  private final WaitEdges edges;
  /** RLIMIT_MEMLOCK in bytes (-1 unlimited): 8 MiB, the kernel's MLOCK_LIMIT since v5.16. */
  private long memlock = 8L << 20;
  private boolean capIpcLock;
  /** {@code mm->pinned_vm}: pages pinned by pinned memory regions (accounted long-term pins). */
  private long pinnedVm;
  private final Map<Long, Long> accountedPins = new HashMap<>();

  DriverFaults(AddressSpace space, MmapLock mmapLock, InvalidationRounds rounds, DevicePrivateCalls hmm, WaitEdges edges) {
    this.space = space;
    this.mmapLock = mmapLock;
    this.rounds = rounds;
    this.hmm = hmm;
    this.edges = edges;
  }

  long pinnedVm() {
    return pinnedVm;
  }

  void setLimits(MmProtocol.SetLimits l) {
    memlock = l.memlock();
    capIpcLock = l.capIpcLock();
  }

  void rangeFault(MmProtocol.RangeFault f) {
    Interval interval = rounds.interval(f.interval());
    if (!f.pin() && interval == null) {
      f.replyTo().tell(new MmProtocol.Faulted(Errno.ENOENT.negative(), List.of()));
      return;
    }
    String who = f.waiter().isEmpty() ? edges.op("hmm_range_fault") : f.waiter();
    mmapLock.acquire(false, who, () -> {
      if (!f.pin() && rounds.readRetry(interval, f.seq())) { // mmu_interval_check_retry
        mmapLock.release(false, who);
        f.replyTo().tell(new MmProtocol.Faulted(Errno.EBUSY.negative(), List.of()));
        return;
      }
      AddressSpace.Plan plan = space.planAccess(f.start(), f.length(), f.write(), Errno.EPERM);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        f.replyTo().tell(new MmProtocol.Faulted(plan.errno(), List.of()));
        return;
      }
      List<List<Frames>> out = new ArrayList<>();
      long absent = space.absent(f.start(), f.length());
      // a device-private page is no other device's to map: its owner's driver migrates it back to RAM first
      hmm.toRam(f.start(), f.length(), "hmm_range_fault of device-private pages", () -> rounds.round(plan.ranges(), true, "", "cow break",
          () -> out.add(space.fault(f.start(), f.length(), f.write())), result -> {
        mmapLock.release(false, who);
        if (!f.pin() && rounds.readRetry(interval, f.seq())) { // the COW break (or anything) invalidated it meanwhile
          f.replyTo().tell(new MmProtocol.Faulted(Errno.EBUSY.negative(), List.of()));
          return;
        }
        if (f.pin()) {
          space.pin(out.get(0));
        }
        f.replyTo().tell(new MmProtocol.Faulted(0, out.get(0), absent));
      }));
    });
  }

  /** {@code ib_umem_get} from the mm's side: accounting against RLIMIT_MEMLOCK, then the long-term pin (§1.16). */
  void longTermPin(MmProtocol.LongTermPin p) {
    java.util.function.IntConsumer fail = errno -> p.replyTo().tell(new MmProtocol.Pinned(errno, 0, List.of(), pinnedVm));
    if (memlock == 0 && !capIpcLock) { // can_do_mlock()
      fail.accept(Errno.EPERM.negative());
      return;
    }
    long first = p.start() & ~(AddressSpace.PAGE - 1);
    long npages = (((p.start() + p.length() + AddressSpace.PAGE - 1) & ~(AddressSpace.PAGE - 1)) - first) / AddressSpace.PAGE;
    if (p.length() == 0 || npages == 0) {
      fail.accept(Errno.EINVAL.negative());
      return;
    }
    long limit = memlock < 0 ? Long.MAX_VALUE : memlock / AddressSpace.PAGE;
    if (pinnedVm + npages > limit && !capIpcLock) {
      fail.accept(Errno.ENOMEM.negative()); // atomic64_sub: pinned_vm as before
      return;
    }
    pinnedVm += npages;
    String who = edges.op("pin_user_pages " + p.device());
    mmapLock.acquire(false, who, () -> {
      AddressSpace.Plan plan = space.planAccess(first, npages * AddressSpace.PAGE, p.write(), Errno.EFAULT);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        pinnedVm -= npages;
        fail.accept(plan.errno());
        return;
      }
      List<List<Frames>> out = new ArrayList<>();
      rounds.round(plan.ranges(), true, "", "cow break", () -> out.add(space.fault(first, npages * AddressSpace.PAGE, p.write())), result -> {
        mmapLock.release(false, who);
        long pin = space.pin(out.get(0));
        accountedPins.put(pin, npages);
        p.replyTo().tell(new MmProtocol.Pinned(0, pin, out.get(0), pinnedVm));
      });
    });
  }

  /** {@code unpin_user_pages} of a pin, and its pages off {@code pinned_vm} if it was accounted. */
  void unpin(MmProtocol.Unpin u) {
    space.unpin(u.pin());
    Long pages = accountedPins.remove(u.pin());
    pinnedVm -= pages == null ? 0 : pages;
    u.replyTo().tell(new MmProtocol.Result(0, pinnedVm));
  }
}
