package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fencelab.node.fence.FenceFixture;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A member's memory: allocations that fit, GFP_ATOMIC that may not reclaim, and direct reclaim through a notifier. */
class HostMemoryTest {
  private static final long KIB = 1024;
  private static FenceFixture f;
  private static int n;

  @BeforeAll
  static void start() {
    f = new FenceFixture("host-memory", Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private record Node(ActorRef<HostMemory.Command> memory, ActorRef<MmProtocol.Command> mm, long addr) {}

  /** A node with {@code limit} bytes and a process with {@code touched} bytes resident. */
  private static Node node(long limit, long touched) {
    int i = n++;
    ActorRef<HostMemory.Command> memory = f.testKit.spawn(HostMemory.create("n" + i, f.services), "memory-" + i);
    memory.tell(new HostMemory.SetLimit(limit));
    ActorRef<MmProtocol.Command> mm = f.testKit.spawn(MmActor.create("n" + i + "/p", 1 << 20, f.services, memory), "mm-" + i);
    long addr = call(mm, r -> new MmProtocol.Mmap(0, touched, AddressSpace.PROT_READ | AddressSpace.PROT_WRITE, false, false, r)).ret();
    assertEquals(0, call(mm, r -> new MmProtocol.CpuAccess(addr, touched, true, 5, r)).ret());
    return new Node(memory, mm, addr);
  }

  private static MmProtocol.Reply call(ActorRef<MmProtocol.Command> mm,
      java.util.function.Function<ActorRef<MmProtocol.Reply>, MmProtocol.Command> message) {
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(message.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private static MmProtocol.Reply alloc(Node node, long bytes, boolean mayReclaim) {
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    node.memory().tell(new HostMemory.Alloc(bytes, mayReclaim, "test", probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  @Test
  void anAllocationThatFitsSucceedsAtOnce() {
    assertEquals(0, alloc(node(1024 * KIB, 64 * KIB), 256 * KIB, false).ret());
  }

  @Test
  void anAtomicAllocationPastTheLimitIsENOMEMWithoutReclaim() {
    assertEquals(-12, alloc(node(256 * KIB, 192 * KIB), 128 * KIB, false).ret());
  }

  @Test
  void aKernelAllocationPastTheLimitReclaimsAProcesssPagesThroughItsNotifiers() {
    Node node = node(256 * KIB, 192 * KIB);
    TestProbe<MmProtocol.Invalidate> sub = f.testKit.createTestProbe();
    TestProbe<MmProtocol.Inserted> in = f.testKit.createTestProbe();
    node.mm().tell(new MmProtocol.NotifierInsert(sub.ref(), "test/gpu", node.addr(), 192 * KIB, in.ref()));
    in.receiveMessage();
    TestProbe<MmProtocol.Reply> allocated = f.testKit.createTestProbe();
    node.memory().tell(new HostMemory.Alloc(128 * KIB, true, "test", allocated.ref()));
    MmProtocol.Invalidate inv = sub.receiveMessage(Duration.ofSeconds(10));
    assertEquals(MmuEvent.CLEAR, inv.event());
    allocated.expectNoMessage(Duration.ofMillis(200)); // reclaim waits for the subscriber
    inv.replyTo().tell(new MmProtocol.InvalidateDone(inv.round(), inv.interval(), true));
    assertEquals(0, allocated.receiveMessage(Duration.ofSeconds(10)).ret());
  }

  @Test
  void reclaimedPagesKeepTheirContent() {
    Node node = node(256 * KIB, 192 * KIB);
    String before = call(node.mm(), r -> new MmProtocol.CpuAccess(node.addr(), 192 * KIB, false, 0, r)).out().get("checksum");
    assertEquals(0, alloc(node, 128 * KIB, true).ret());
    assertEquals(before, call(node.mm(), r -> new MmProtocol.CpuAccess(node.addr(), 192 * KIB, false, 0, r)).out().get("checksum"));
  }
}
