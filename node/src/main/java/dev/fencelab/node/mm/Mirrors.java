package dev.fencelab.node.mm;

import dev.fencelab.node.memory.Content;
import dev.fencelab.protocol.Errno;
import dev.fencelab.node.mm.MmProtocol.Reply;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The dmirror test driver's mirrors of this mm (lib/test_hmm.c; kernel-semantics §1.17), part of the mm actor: per device, a
 * device page table — page → READ, WRITE or ATOMIC — that hmm_range_fault fills (owner: the device) and every invalidation
 * of its pages empties, except the device's own migrations (their pages leave it when they move back to RAM); and the
 * HMM_DMIRROR_* ioctls over it. A call runs the mm's own calls (hmm_range_fault, migrate_vma, make_device_exclusive) as
 * messages to the mm, and retries a fault whose pages an invalidation touched before it could store them, as the driver's
 * read_begin/read_retry loop does, for at most HMM_RANGE_DEFAULT_TIMEOUT (-EBUSY after it).
 */
final class Mirrors {
  static final int READ = 0;
  static final int ATOMIC = 1;
  static final int WRITE = 3;
  /** HMM_RANGE_DEFAULT_TIMEOUT (include/linux/hmm.h). */
  static final Duration RANGE_TIMEOUT = Duration.ofMillis(1000);

  private static final class Table {
    final String device;
    final TreeMap<Long, Integer> pages = new TreeMap<>();
    long seq;

    Table(String device) {
      this.device = device;
    }
  }

  private final Map<String, Table> tables = new HashMap<>();
  private final AddressSpace space;
  private final ActorContext<MmProtocol.Command> ctx;
  private final Duration callTimeout;

  Mirrors(AddressSpace space, ActorContext<MmProtocol.Command> ctx, Duration callTimeout) {
    this.space = space;
    this.ctx = ctx;
    this.callTimeout = callTimeout;
  }

  /** dmirror_interval_invalidate: [start, end) leaves every mirror, except a MIGRATE announced by the mirror's own device. */
  void invalidated(long start, long end, MmuEvent event, String owner) {
    tables.forEach((device, t) -> {
      if (event == MmuEvent.MIGRATE && device.equals(owner)) {
        return;
      }
      t.seq++;
      erase(t, start, end);
    });
  }

  /** {@code owner}'s device-private pages of [start, end) went back to RAM (dmirror_devmem_fault_alloc_and_copy erases them). */
  void movedToRam(String owner, long start, long end) {
    Table t = tables.get(owner);
    if (t != null) {
      erase(t, start, end);
    }
  }

  private static void erase(Table t, long start, long end) {
    t.pages.subMap(start / AddressSpace.PAGE, true, (end - 1) / AddressSpace.PAGE, true).clear();
  }

  /** One HMM_DMIRROR_* ioctl. */
  void call(MmProtocol.Dmirror d) {
    long n = (d.length() + AddressSpace.PAGE - 1) / AddressSpace.PAGE;
    if ((d.addr() & (AddressSpace.PAGE - 1)) != 0 || n <= 0 || d.addr() > Long.MAX_VALUE - n * AddressSpace.PAGE) {
      d.replyTo().tell(Reply.of(Errno.EINVAL.negative(), "dmirror: the address is not page aligned or the range is empty"));
      return;
    }
    long first = d.addr() / AddressSpace.PAGE;
    Table t = tables.computeIfAbsent(d.device(), Table::new);
    long deadline = System.nanoTime() + RANGE_TIMEOUT.toNanos();
    switch (d.op()) {
      case "read" -> fault(d, t, first, n, false, deadline, 0);
      case "write" -> fault(d, t, first, n, true, deadline, 0);
      case "migrate_to_dev" -> ask(r -> new MmProtocol.Migrate(d.addr(), n * AddressSpace.PAGE, d.device(), d.device(), false, d.driver(), r),
          reply -> {
            if (reply.ret() < 0) {
              d.replyTo().tell(reply);
              return;
            }
            store(t, first, n, true); // dmirror_migrate_finalize_and_map: this device's pages of the range
            done(d, t, first, n, 0);
          });
      case "migrate_to_sys" -> ask(r -> new MmProtocol.Migrate(d.addr(), n * AddressSpace.PAGE, d.device(), d.device(), true, null, r),
          reply -> d.replyTo().tell(reply.ret() < 0 ? reply : new Reply(0, reply.value(), Map.of("cpages", Long.toString(reply.value()),
              "faults", "0"), "dmirror migrate_to_sys: " + reply.value() + " page(s) back in system memory")));
      case "exclusive" -> ask(r -> new MmProtocol.MakeExclusive(d.addr(), n * AddressSpace.PAGE, d.device(), r), reply -> {
        if (reply.ret() < 0) {
          d.replyTo().tell(reply);
          return;
        }
        for (long p = first; p < first + n; p++) {
          t.pages.put(p, ATOMIC); // dmirror_atomic_map
        }
        done(d, t, first, n, 0);
      });
      case "check_exclusive" -> {
        boolean atomic = t.pages.subMap(first, true, first + n - 1, true).containsValue(ATOMIC);
        d.replyTo().tell(new Reply(atomic ? Errno.EPERM.negative() : 0, 0, Map.of("cpages", "0", "faults", "0"),
            atomic ? "dmirror check_exclusive: a page is still mapped for atomic access" : "dmirror check_exclusive: none left"));
      }
      case "snapshot" -> snapshot(d, first, n);
      default -> d.replyTo().tell(Reply.of(Errno.EINVAL.negative(), "dmirror: unknown op '" + d.op() + "'"));
    }
  }

  /**
   * dmirror_read/dmirror_write: the pages the mirror lacks (any entry for a read, a WRITE one for a write), from the first
   * missing one, are faulted through hmm_range_fault; an invalidation in between makes it retry; then the device reads or
   * writes them.
   */
  private void fault(MmProtocol.Dmirror d, Table t, long first, long n, boolean write, long deadline, int faults) {
    long missing = -1;
    for (long p = first; p < first + n && missing < 0; p++) {
      Integer tag = t.pages.get(p);
      if (tag == null || (write && tag != WRITE)) {
        missing = p;
      }
    }
    if (missing < 0) {
      if (write) {
        space.write(d.addr(), n * AddressSpace.PAGE, d.seed());
      }
      done(d, t, first, n, faults);
      return;
    }
    attempt(d, t, first, n, write, deadline, faults, missing);
  }

  /** One dmirror_range_fault from page {@code from}: read_begin, hmm_range_fault, read_retry (again while it moved). */
  private void attempt(MmProtocol.Dmirror d, Table t, long first, long n, boolean write, long deadline, int faults, long from) {
    if (System.nanoTime() > deadline) {
      d.replyTo().tell(Reply.of(Errno.EBUSY.negative(), "dmirror: the range kept changing for " + RANGE_TIMEOUT.toMillis() + " ms"));
      return;
    }
    long seq = t.seq;
    ask(r -> new MmProtocol.HmmFault(from * AddressSpace.PAGE, (first + n - from) * AddressSpace.PAGE, d.device(), true, write, r), reply -> {
      if (reply.ret() < 0) {
        d.replyTo().tell(reply);
      } else if (t.seq != seq) { // mmu_interval_read_retry: invalidated meanwhile (its own faults included): again
        attempt(d, t, first, n, write, deadline, faults, from);
      } else {
        store(t, from, first + n - from, false);
        fault(d, t, first, n, write, deadline, faults + 1);
      }
    });
  }

  /**
   * dmirror_do_fault / finalize_and_map: each page hmm_range_fault reports valid for this device goes into the table,
   * WRITE where it is writable; {@code ownOnly}: only this device's private pages (a migration's).
   */
  private void store(Table t, long from, long n, boolean ownOnly) {
    for (long p = from; p < from + n; p++) {
      AddressSpace.HmmView v = space.hmmView(p * AddressSpace.PAGE, AddressSpace.PAGE, t.device);
      if (v.valid() == 1 && (!ownOnly || v.device() == 1)) {
        t.pages.put(p, v.write() == 1 ? WRITE : READ);
      }
    }
  }

  /** dmirror_do_read into the bounce buffer: every page must be mapped (-ENOENT); cpages, faults and the bytes' checksum. */
  private void done(MmProtocol.Dmirror d, Table t, long first, long n, int faults) {
    long mapped = t.pages.subMap(first, true, first + n - 1, true).size();
    if (mapped < n) {
      d.replyTo().tell(Reply.of(Errno.ENOENT.negative(), "dmirror " + d.op() + ": " + (n - mapped) + " of " + n
          + " page(s) not in the device's page table"));
      return;
    }
    String sum = Content.format(space.checksum(d.addr(), n * AddressSpace.PAGE));
    d.replyTo().tell(new Reply(0, n, Map.of("cpages", Long.toString(n), "faults", Integer.toString(faults), "checksum", sum),
        "dmirror " + d.op() + ": " + n + " page(s), " + faults + " fault(s), " + sum));
  }

  /** dmirror_snapshot: hmm_range_fault without a fault request, one byte per page (dmirror_mkentry). */
  private void snapshot(MmProtocol.Dmirror d, long first, long n) {
    StringBuilder bytes = new StringBuilder();
    for (long p = first; p < first + n; p++) {
      AddressSpace.HmmView v = space.hmmView(p * AddressSpace.PAGE, AddressSpace.PAGE, d.device());
      int b = v.error() == 1 ? 0xff : v.valid() == 0 ? 0x00
          : (v.device() == 1 ? 0x20 : v.zero() == 1 ? 0x10 : 0) | (v.write() == 1 ? 0x02 : 0x01);
      bytes.append(bytes.length() == 0 ? "" : " ").append(String.format("%02x", b));
    }
    d.replyTo().tell(new Reply(0, n, Map.of("cpages", Long.toString(n), "faults", "0", "snapshot", bytes.toString()),
        "dmirror snapshot: " + bytes));
  }

  private void ask(Function<ActorRef<Reply>, MmProtocol.Command> request, java.util.function.Consumer<Reply> then) {
    ctx.ask(Reply.class, ctx.getSelf(), callTimeout, request::apply, (reply, failure) -> new MmActor.Continue(() -> then.accept(
        reply != null ? reply : Reply.of(Errno.ETIMEDOUT.negative(), "dmirror: the mm did not answer: " + failure))));
  }
}
