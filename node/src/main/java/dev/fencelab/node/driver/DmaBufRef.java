package dev.fencelab.node.driver;

import dev.fencelab.node.resv.Resv;
import dev.fencelab.node.NodeWireMessage;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a dma-buf fd refers to ({@code struct dma_buf}): the exporting driver and its buffer, and the buffer's
 * reservation object ({@code dmabuf->resv}, shared by exporter and importers for implicit sync). It can be passed
 * to any process on any member; the exporter stays the buffer's only owner.
 */
public record DmaBufRef(String id, long size, ActorRef<DriverProtocol.Command> exporter, int exporterHandle,
    ActorRef<Resv.Command> resv) implements NodeWireMessage {
  public DmaBufRef {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(exporter, "exporter");
    Objects.requireNonNull(resv, "resv");
  }

  @Override
  public String toString() {
    return "dma-buf " + id;
  }
}
