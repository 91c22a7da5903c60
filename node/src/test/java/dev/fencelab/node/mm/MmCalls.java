package dev.fencelab.node.mm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.fence.FenceFixture;
import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/** Address spaces as actors for the mm tests: one actor system, fresh mm actors, a call answered by a reply. */
final class MmCalls implements AutoCloseable {
  static final long PAGE = AddressSpace.PAGE;
  static final int RW = AddressSpace.PROT_READ | AddressSpace.PROT_WRITE;

  private final FenceFixture f;
  private final String name;
  private int mms;

  MmCalls(String name) {
    this.name = name;
    this.f = new FenceFixture(name, Duration.ofSeconds(20));
  }

  ActorRef<MmProtocol.Command> mm() {
    return f.testKit.spawn(MmActor.create("test/" + name + mms, 1 << 20, f.services), name + "-mm-" + mms++);
  }

  MmProtocol.Reply call(ActorRef<MmProtocol.Command> mm, Function<ActorRef<MmProtocol.Reply>, MmProtocol.Command> message) {
    TestProbe<MmProtocol.Reply> probe = f.testKit.createTestProbe();
    mm.tell(message.apply(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  long mmap(ActorRef<MmProtocol.Command> mm, long length, int prot, boolean shared) {
    long addr = call(mm, r -> new MmProtocol.Mmap(0, length, prot, shared, false, r)).ret();
    assertTrue(addr > 0);
    return addr;
  }

  @Override
  public void close() {
    f.close();
  }
}
