package dev.fencelab.node.mm;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.memory.Chunk;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What an address space ({@link MmActor}) accepts, and what it sends its notifier subscribers.
 *
 * <p>Two kinds of callers. The process's own system calls (mmap, munmap, CPU access…) and the scenario's test
 * notifiers are made on the process's member by its steps: local messages. Drivers anywhere in the cluster register
 * interval notifiers, read their sequence, fault pages and DMA through them: wire messages
 * ({@code fencelab/mm/v1/mm.proto}). Every answer is the kernel's: a value or a negative errno.
 */
public final class MmProtocol {
  private MmProtocol() {}

  public interface Command {}

  /** A local call's answer: {@code ret} (an address, 0, or -errno), a value, named outputs, a line for people. */
  public record Reply(long ret, long value, Map<String, String> out, String detail) implements NoSerializationVerificationNeeded {
    public Reply {
      out = Map.copyOf(out);
      Objects.requireNonNull(detail, "detail");
    }

    public static Reply of(long ret, String detail) {
      return new Reply(ret, 0, Map.of(), detail);
    }
  }

  // --- the process's system calls (local)

  /** {@code mmap} of anonymous memory: ret is the address or -errno ({@link AddressSpace#mmap}). */
  public record Mmap(long addr, long length, int prot, boolean shared, boolean fixed, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /** munmap, mprotect, madvise(DONTNEED): over {@code [addr, addr + length)}; the answer comes after the invalidation round. */
  public record Change(Kind kind, long addr, long length, int prot, ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {
    public enum Kind { MUNMAP, MPROTECT, DONTNEED, FORK, EXIT }
  }

  /**
   * Direct reclaim (try_to_unmap over the resident pages): a blockable CLEAR invalidation of every mapping with pages,
   * which are then unmapped (their content stays: swapped). value = the pages freed.
   */
  public record Reclaim(ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {}

  /** The OOM reaper (§3.6): nonblocking UNMAP per private anonymous mapping, up to 10 attempts HZ/10 apart. */
  public record OomReap(java.time.Duration delay, ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {}

  /** A CPU access: a write of pattern {@code seed}, or a read (the checksum of the range in {@code out}). */
  /**
   * migrate_vma of {@code [addr, addr + length)} to {@code owner}'s device-private memory, or back to RAM (§1.17);
   * {@code driver}: the device's driver (null in tests), told that this mm holds its pages and watched: if its member
   * dies, the pages are lost.
   */
  public record Migrate(long addr, long length, String owner, String device, boolean toRam,
      ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> driver, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {
    public Migrate(long addr, long length, String owner, String device, boolean toRam, ActorRef<Reply> replyTo) {
      this(addr, length, owner, device, toRam, null, replyTo);
    }
  }

  /** make_device_exclusive of the range for {@code owner}'s device (§1.17). */
  public record MakeExclusive(long addr, long length, String owner, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /**
   * One HMM_DMIRROR_* ioctl of {@code device}'s dmirror on this mm ({@link Mirrors}): {@code op} read, write (pattern
   * {@code seed}), migrate_to_dev, migrate_to_sys, snapshot, exclusive, check_exclusive; {@code driver}: the device's
   * driver, told when it comes to hold device-private pages (null for the other ops).
   */
  public record Dmirror(String op, long addr, long length, String device, long seed,
      ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> driver, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /** fork() with a child: this mm becomes copy-on-write and {@code child}'s (empty) mm a copy of it. */
  public record ForkInto(ActorRef<Command> child, ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {}

  /** To the child's mm, from its parent's: what it inherits at fork (the same member: a local message). */
  public record Adopt(AddressSpace.Inheritance inheritance, ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {}

  /** A device's soft unplug: its device-private pages here go back to RAM first; answered with how many. */
  public record EvictDevicePrivate(String device, ActorRef<Result> replyTo) implements Command, NodeWireMessage {
    public EvictDevicePrivate {
      Objects.requireNonNull(device, "device");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** hmm_range_fault for {@code owner} (its dev_private_owner), with or without a fault request (§1.17). */
  public record HmmFault(long addr, long length, String owner, boolean fault, boolean write, java.util.Set<String> p2p,
      ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {
    public HmmFault(long addr, long length, String owner, boolean fault, boolean write, ActorRef<Reply> replyTo) {
      this(addr, length, owner, fault, write, java.util.Set.of(), replyTo);
    }
  }

  public record CpuAccess(long addr, long length, boolean write, long seed, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /**
   * {@code mmu_notifier_invalidate_range_start[_nonblock]} / {@code _end} over a range, as reclaim, the OOM reaper or a
   * migration would call it: 0, or -EAGAIN when a subscriber could not proceed without blocking.
   */
  public record InvalidateRange(long start, long end, MmuEvent event, boolean blockable, String owner, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /** What a test notifier's invalidate callback does. */
  public enum TestCallback {
    /** set_seq, return true. */
    OK,
    /** Returns false on a non-blockable range (it would sleep), otherwise set_seq and true. */
    NONBLOCK_REFUSES,
    /** Returns false, blockable or not (the WARN on a blockable range). */
    REFUSE,
    /** Like amdgpu's: false on a non-blockable range, otherwise waits for {@code fence}, then true. */
    WAIT_FENCE,
    /** Calls mmu_interval_notifier_remove on itself (the self-deadlock of §1.14). */
    REMOVE_SELF
  }

  /** A test notifier (the selftests' own subscriber): {@code mmu_interval_notifier_insert}; ret 0 or -EOVERFLOW, value the id. */
  public record TestInsert(String name, long start, long length, TestCallback callback, FenceRef fence, FenceRef called, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /** A test notifier's call: read_begin (value the seq), read_retry (value 1/0), remove, or the mm's seq. */
  public record TestCall(Call call, long notifier, long seq, ActorRef<Reply> replyTo) implements Command, NoSerializationVerificationNeeded {
    public enum Call { READ_BEGIN, READ_RETRY, REMOVE, SEQ }
  }

  // --- drivers (wire)

  /**
   * {@code mmu_interval_notifier_insert} by a driver: {@code subscriber} gets an {@link Invalidate} for every invalidation
   * that overlaps {@code [start, start + length)}. Answered with {@link Inserted}.
   */
  public record NotifierInsert(ActorRef<Invalidate> subscriber, String label, long start, long length, ActorRef<Inserted> replyTo)
      implements Command, NodeWireMessage {
    public NotifierInsert {
      Objects.requireNonNull(subscriber, "subscriber");
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** 0 and the interval's id and initial seq, or -EOVERFLOW / -ESRCH (the process is gone). */
  public record Inserted(int result, long interval, long seq) implements NodeWireMessage {}

  /** {@code mmu_interval_notifier_remove}: answered (0) once no invalidation of the tree is in progress. */
  public record NotifierRemove(long interval, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  /**
   * {@code mmu_interval_read_begin}: answered with the seq once no colliding invalidation runs. {@code waiter}: who waits
   * in the wait-for graph while it is parked (a job faulting in run_job), or "" for the driver.
   */
  public record ReadBegin(long interval, String waiter, ActorRef<Result> replyTo) implements Command, NodeWireMessage {
    public ReadBegin {
      Objects.requireNonNull(waiter, "waiter");
    }

    public ReadBegin(long interval, ActorRef<Result> replyTo) {
      this(interval, "", replyTo);
    }
  }

  /** A result and a value (a seq). */
  public record Result(long result, long value) implements NodeWireMessage {}

  /**
   * {@code hmm_range_fault} with REQ_FAULT (and REQ_WRITE) over the range under {@code mmap_read_lock}: the frames, or
   * -EBUSY (the interval's seq moved past {@code seq}: retry from read_begin), -EFAULT, -EPERM. {@code pin}: a
   * long-term pin (FOLL_LONGTERM) instead: the frames stay the device's whatever happens to the mapping. {@code waiter}:
   * who waits for it in the wait-for graph (a job faulting in run_job), or "" for the driver itself.
   */
  public record RangeFault(long interval, long seq, long start, long length, boolean write, boolean pin, String waiter,
      ActorRef<Faulted> replyTo) implements Command, NodeWireMessage {
    public RangeFault {
      Objects.requireNonNull(waiter, "waiter");
    }

    public RangeFault(long interval, long seq, long start, long length, boolean write, boolean pin, ActorRef<Faulted> replyTo) {
      this(interval, seq, start, length, write, pin, "", replyTo);
    }
  }

  /** The frames, or a negative errno; {@code populated}: how many pages the fault had to allocate (a major fault). */
  public record Faulted(int result, List<Frames> frames, long populated) implements NodeWireMessage {
    public Faulted {
      frames = List.copyOf(frames);
    }

    public Faulted(int result, List<Frames> frames) {
      this(result, frames, 0);
    }
  }

  /**
   * A device's DMA read of {@code [address, address + length)} through {@code translation} (frames it faulted).
   * Pages whose frame is no longer the process's read as what they held; the access is reported stale.
   */
  public record DmaRead(String device, long address, int length, List<Frames> translation, long tag, ActorRef<DmaData> replyTo)
      implements Command, NodeWireMessage {
    public DmaRead {
      translation = List.copyOf(translation);
    }
  }

  /** Chunks with offsets from the read's address, or {@code result < 0}. */
  public record DmaData(long tag, int result, List<Chunk> chunks) implements NodeWireMessage {
    public DmaData {
      chunks = List.copyOf(chunks);
    }
  }

  /** A device's DMA write (chunk offsets from {@code address}) through {@code translation}; stale pages drop the data. */
  public record DmaWrite(String device, long address, List<Chunk> chunks, List<Frames> translation, long tag, ActorRef<DmaAck> replyTo)
      implements Command, NodeWireMessage {
    public DmaWrite {
      chunks = List.copyOf(chunks);
      translation = List.copyOf(translation);
    }
  }

  public record DmaAck(long tag, int result) implements NodeWireMessage {}

  /**
   * Several DMAs of one device ({@link DmaRead}s and {@link DmaWrite}s), done in order exactly as if they had been sent
   * one by one, each answered to its own {@code replyTo}: one message for what a NIC starts or serves together.
   */
  public record DmaBatch(List<Command> dmas) implements Command, NodeWireMessage {
    public DmaBatch {
      dmas = List.copyOf(dmas);
      for (Command c : dmas) {
        if (!(c instanceof DmaRead) && !(c instanceof DmaWrite)) {
          throw new IllegalArgumentException("DmaBatch holds DmaRead and DmaWrite only, not " + c.getClass().getSimpleName());
        }
      }
    }
  }

  /**
   * The process's resource limits that pinning reads: RLIMIT_MEMLOCK in bytes (-1: unlimited) and CAP_IPC_LOCK. Local:
   * told by the process's placement.
   */
  public record SetLimits(long memlock, boolean capIpcLock) implements Command, NoSerializationVerificationNeeded {}

  /**
   * {@code ib_umem_get}'s accounting and pin (kernel-semantics §1.16): -EPERM when {@code !can_do_mlock()} (RLIMIT_MEMLOCK 0
   * without CAP_IPC_LOCK), -EINVAL for zero pages, -ENOMEM when {@code pinned_vm + npages} passes the limit without
   * CAP_IPC_LOCK ({@code pinned_vm} unchanged), then {@code pin_user_pages_fast(FOLL_LONGTERM [| FOLL_WRITE])}: -EFAULT
   * for a page not mapped (or not writable when {@code write}), {@code pinned_vm} given back. Answered with {@link Pinned}.
   */
  public record LongTermPin(String device, long start, long length, boolean write, ActorRef<Pinned> replyTo)
      implements Command, NodeWireMessage {
    public LongTermPin {
      Objects.requireNonNull(device, "device");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** 0 with the pin's id, its frames and the mm's {@code pinned_vm} (pages) after it, or a negative errno. */
  public record Pinned(int result, long pin, List<Frames> frames, long pinnedVm) implements NodeWireMessage {
    public Pinned {
      frames = List.copyOf(frames);
    }
  }

  /** {@code ib_umem_release}: unpins pin {@code pin} and gives its pages back to {@code pinned_vm}. Answered with a Result. */
  public record Unpin(long pin, ActorRef<Result> replyTo) implements Command, NodeWireMessage {}

  // --- to subscribers (wire)

  /**
   * The {@code invalidate} op of one interval: {@code [start, end)} is being invalidated for {@code event} ({@code owner}
   * set for MIGRATE); {@code seq} is what the callback passes to {@code mmu_interval_set_seq}. Answer with
   * {@link InvalidateDone}: {@code ok} false means "would block" (only legal when not {@code blockable}).
   */
  public record Invalidate(long round, long interval, long start, long end, long seq, MmuEvent event, boolean blockable, String owner,
      String mm, ActorRef<InvalidateDone> replyTo) implements Command, NodeWireMessage {
    public Invalidate {
      Objects.requireNonNull(event, "event");
      Objects.requireNonNull(owner, "owner");
      Objects.requireNonNull(mm, "mm");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** A callback's answer; {@code modelNanos}: the model time it returned at (the last fence it waited for), or 0. */
  public record InvalidateDone(long round, long interval, boolean ok, long modelNanos) implements Command, NodeWireMessage {
    public InvalidateDone(long round, long interval, boolean ok) {
      this(round, interval, ok, 0);
    }
  }
}
