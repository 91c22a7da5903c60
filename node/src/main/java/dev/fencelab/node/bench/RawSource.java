package dev.fencelab.node.bench;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.memory.Chunk;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The raw-Pekko side of the copy and RDMA baselines: answers each {@link DriverProtocol.ReadRange} with the same number of
 * bytes (one preallocated array) in the same protobuf message as a driver, and each {@link DriverProtocol.WriteRange}
 * (bytes sent to it) with an acknowledgement — no buffers, no jobs, no fences, no memory.
 */
final class RawSource {
  private RawSource() {}

  static Behavior<DriverProtocol.Command> create() {
    return Behaviors.setup(context -> {
      byte[][] cache = new byte[1][];
      return Behaviors.receive(DriverProtocol.Command.class)
          .onMessage(DriverProtocol.ReadRange.class, read -> {
            if (cache[0] == null || cache[0].length != read.length()) {
              cache[0] = new byte[read.length()];
              new java.util.Random(read.length()).nextBytes(cache[0]);
            }
            read.replyTo().tell(new DriverProtocol.RangeData(read.tag(), 0, List.of(new Chunk.Bytes(read.offset(), cache[0]))));
            return Behaviors.same();
          })
          .onMessage(DriverProtocol.WriteRange.class, write -> { // the RDMA WRITE baseline: bytes in, an acknowledgement out
            write.replyTo().tell(new DriverProtocol.WriteAck(write.tag(), 0));
            return Behaviors.same();
          })
          .build();
    });
  }
}
