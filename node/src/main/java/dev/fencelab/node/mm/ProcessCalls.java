package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Content;
import dev.fencelab.node.mm.MmProtocol.Reply;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.Map;

/**
 * The process's own calls on its mm, a part of {@link MmActor} run on its thread: mmap, munmap, mprotect,
 * madvise(DONTNEED), fork (in place, or into a child process that adopts a copy), exit and CPU reads and writes — each
 * under {@code mmap_lock} ({@link MmapLock}), with the invalidation round its {@link AddressSpace} plan names
 * (kernel-semantics §1.14); a CPU touch of device-private or exclusively held pages brings them back first (HMM,
 * kernel-semantics §1.17). Knows whether the process has exited (exit_mmap ran): then its calls fail with -ESRCH.
 */
final class ProcessCalls {
  private final String label;
  private final AddressSpace space;
  private final MmapLock mmapLock;
  private final DevicePrivateCalls.Rounds rounds;
  private final DevicePrivateCalls hmm;
  private final WaitEdges edges;
  private final TraceRecorder trace;
  /** Tells the member's memory of the resident pages ({@link MemoryPressure#reportResident}). */
  private final Runnable reportResident;
  /** The process exited (exit_mmap ran): its calls fail with -ESRCH, new notifiers too. */
  private boolean exited;

  ProcessCalls(String label, AddressSpace space, MmapLock mmapLock, DevicePrivateCalls.Rounds rounds, DevicePrivateCalls hmm,
      WaitEdges edges, TraceRecorder trace, Runnable reportResident) {
    this.label = label;
    this.space = space;
    this.mmapLock = mmapLock;
    this.rounds = rounds;
    this.hmm = hmm;
    this.edges = edges;
    this.trace = trace;
    this.reportResident = reportResident;
  }

  boolean exited() {
    return exited;
  }

  void mmap(MmProtocol.Mmap m) {
    String who = edges.op("mmap");
    mmapLock.acquire(true, who, () -> {
      long addr = space.mmap(m.addr(), m.length(), m.prot(), m.shared(), m.fixed());
      mmapLock.release(true, who);
      m.replyTo().tell(new Reply(addr, addr, Map.of(), addr < 0 ? "mmap: " + Errno.describe((int) addr)
          : String.format("mmap 0x%x, %d bytes", addr, m.length())));
    });
  }

  /** munmap, mprotect, madvise(DONTNEED), fork in place, exit: the plan, its round, the change applied inside it. */
  void change(MmProtocol.Change c) {
    boolean write = c.kind() != MmProtocol.Change.Kind.DONTNEED; // madvise(DONTNEED) takes mmap_lock for read
    String call = c.kind().name().toLowerCase(java.util.Locale.ROOT);
    String who = edges.op(call);
    mmapLock.acquire(write, who, () -> {
      AddressSpace.Plan plan = switch (c.kind()) {
        case MUNMAP -> space.planMunmap(c.addr(), c.length());
        case MPROTECT -> space.planMprotect(c.addr(), c.length(), c.prot());
        case DONTNEED -> space.planDontneed(c.addr(), c.length());
        case FORK -> space.planFork();
        case EXIT -> space.planExit();
      };
      if (plan.errno() != 0) {
        mmapLock.release(write, who);
        c.replyTo().tell(Reply.of(plan.errno(), call + ": " + Errno.describe(plan.errno())));
        return;
      }
      Runnable apply = switch (c.kind()) {
        case MUNMAP -> () -> space.munmap(c.addr(), c.length());
        case MPROTECT -> () -> space.mprotect(c.addr(), c.length(), c.prot());
        case DONTNEED -> () -> space.dontneed(c.addr(), c.length());
        case FORK -> space::fork;
        case EXIT -> space::exit;
      };
      rounds.round(plan.ranges(), true, "", call, apply, result -> {
        mmapLock.release(write, who);
        int ret = result != 0 ? result : c.kind() == MmProtocol.Change.Kind.DONTNEED ? space.dontneedResult(c.addr(), c.length()) : 0;
        exited |= c.kind() == MmProtocol.Change.Kind.EXIT;
        c.replyTo().tell(Reply.of(ret, call + (plan.ranges().isEmpty() ? ": nothing to invalidate"
            : ": " + plan.ranges().size() + " range(s) invalidated")));
      });
    });
  }

  /**
   * fork() into a child process (copy_mm): under the write lock, the parent's writable private memory becomes
   * copy-on-write (PROTECTION_PAGE over it: a device mirror of the parent loses those pages, an exclusive entry is
   * restored), and the child's mm takes a copy of the mappings and page table. fencelab does not share a device-private
   * page between two address spaces: such pages come back to RAM first (the kernel keeps them on the device, read-only
   * in both).
   */
  void forkInto(MmProtocol.ForkInto f) {
    String who = edges.op("fork");
    mmapLock.acquire(true, who, () -> hmm.toRam(0, AddressSpace.TASK_SIZE, "fork: device-private pages back to RAM first", () -> {
      AddressSpace.Plan plan = space.planFork();
      AddressSpace.Inheritance[] inherited = {null};
      rounds.round(plan.ranges(), true, "", "fork", () -> {
        space.fork();
        inherited[0] = space.inherit();
      }, result -> {
        mmapLock.release(true, who);
        if (result != 0) {
          f.replyTo().tell(Reply.of(result, "fork: " + Errno.describe(result)));
        } else {
          f.child().tell(new MmProtocol.Adopt(inherited[0], f.replyTo()));
        }
      });
    }));
  }

  /** The child's side of fork into it: its address space takes the copy, unless it has mappings of its own. */
  void adopt(MmProtocol.Adopt a) {
    boolean adopted = space.adopt(a.inheritance());
    reportResident.run();
    a.replyTo().tell(adopted ? Reply.of(0, "fork: the child's address space is a copy of its parent's")
        : Reply.of(Errno.EBUSY.negative(), "fork: the child process has mappings of its own already"));
  }

  void cpuAccess(MmProtocol.CpuAccess a) {
    String what = a.write() ? "cpu write" : "cpu read";
    String who = edges.op(what + " page fault");
    mmapLock.acquire(false, who, () -> {
      AddressSpace.Plan plan = space.planAccess(a.addr(), a.length(), a.write(), Errno.EFAULT);
      if (plan.errno() != 0) {
        mmapLock.release(false, who);
        a.replyTo().tell(Reply.of(plan.errno(), String.format("%s at 0x%x: SIGSEGV", what, a.addr())));
        return;
      }
      long lost = space.lost(a.addr(), a.length());
      if (lost > 0) { // the device that held them died: nothing to migrate back
        mmapLock.release(false, who);
        trace.record(TraceRecorder.event(EventKind.MARK, label).setName("SIGBUS").setBytes(lost * AddressSpace.PAGE)
            .setDetail(String.format("%s at 0x%x: %d device-private page(s) lost with their device", what, a.addr(), lost)));
        a.replyTo().tell(Reply.of(Errno.EFAULT.negative(), String.format("%s at 0x%x: SIGBUS (%d page(s) lost with their device)", what,
            a.addr(), lost)));
        return;
      }
      // device-private pages are not CPU-accessible: the touch faults and migrate_to_ram brings them back, data intact;
      // a device's exclusive access is revoked first
      hmm.revokeExclusive(a.addr(), a.length(), () -> hmm.toRam(a.addr(), a.length(), "migrate_to_ram (cpu touch)", () -> rounds.round(plan.ranges(), true, "", "cow break",
          () -> space.fault(a.addr(), a.length(), a.write()), result -> {
        if (a.write()) {
          space.write(a.addr(), a.length(), a.seed());
        }
        String sum = Content.format(space.checksum(a.addr(), a.length()));
        mmapLock.release(false, who);
        a.replyTo().tell(new Reply(0, 0, Map.of("checksum", sum), what + " " + a.length() + " bytes: " + sum));
      })));
    });
  }
}
