package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.fencelab.protocol.Errno;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** fork() into a child process's mm: a copy of the address space, private memory copy-on-write, shared memory shared. */
class ForkTest {
  private static final long PAGE = MmCalls.PAGE;
  private static MmCalls m;

  @BeforeAll
  static void start() {
    m = new MmCalls("fork");
  }

  @AfterAll
  static void stop() {
    m.close();
  }

  private static long mmap(ActorRef<MmProtocol.Command> mm, long length, boolean shared) {
    return m.mmap(mm, length, MmCalls.RW, shared);
  }

  private static String read(ActorRef<MmProtocol.Command> mm, long addr, long length) {
    MmProtocol.Reply r = m.call(mm, to -> new MmProtocol.CpuAccess(addr, length, false, 0, to));
    assertEquals(0, r.ret(), r.detail());
    return r.out().get("checksum");
  }

  private static void write(ActorRef<MmProtocol.Command> mm, long addr, long length, long seed) {
    assertEquals(0, m.call(mm, to -> new MmProtocol.CpuAccess(addr, length, true, seed, to)).ret());
  }

  @Test
  void theChildReadsItsParentsDataAndItsWritesStayInItsOwnCopy() {
    var parent = m.mm();
    var child = m.mm();
    long a = mmap(parent, 8 * PAGE, false);
    write(parent, a, 8 * PAGE, 3);
    String before = read(parent, a, 8 * PAGE);
    assertEquals(0, m.call(parent, r -> new MmProtocol.ForkInto(child, r)).ret());
    assertEquals(before, read(child, a, 8 * PAGE));
    write(child, a, 8 * PAGE, 4);
    assertNotEquals(before, read(child, a, 8 * PAGE));
    assertEquals(before, read(parent, a, 8 * PAGE));
  }

  @Test
  void sharedMemoryIsTheSameMemoryInParentAndChild() {
    var parent = m.mm();
    var child = m.mm();
    long a = mmap(parent, 8 * PAGE, true);
    write(parent, a, 8 * PAGE, 3);
    m.call(parent, r -> new MmProtocol.ForkInto(child, r));
    write(child, a, 8 * PAGE, 4);
    assertEquals(read(child, a, 8 * PAGE), read(parent, a, 8 * PAGE));
  }

  @Test
  void aChildThatHasMappingsAlreadyIsEbusy() {
    var parent = m.mm();
    var child = m.mm();
    mmap(parent, PAGE, false);
    mmap(child, PAGE, false);
    assertEquals(Errno.EBUSY.negative(), m.call(parent, r -> new MmProtocol.ForkInto(child, r)).ret());
  }
}
