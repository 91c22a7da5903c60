package dev.fencelab.node.p2p;

import dev.fencelab.node.NodeWireMessage;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a run's {@link PcieFabric} accepts, from drivers on any member (wire: {@code fencelab/device/v1/device.proto}).
 * A transfer is named by its driver ({@code <device>/<job>#<attempt>}); memory is a device's name, or {@code ""} for
 * host memory.
 */
public final class FabricProtocol {
  private FabricProtocol() {}

  public interface Command {}

  /**
   * A DMA transfer of {@code bytes} by {@code engine} from {@code src} to {@code dst} begins at model time
   * {@code modelStart}; {@code srcBounce}/{@code dstBounce}: that memory is another device's which the engine may not
   * reach peer to peer (an importer without peer2peer), so it goes through host memory.
   */
  public record Begin(String id, String src, boolean srcBounce, String engine, String dst, boolean dstBounce, long bytes, long modelStart)
      implements Command, NodeWireMessage {
    public Begin {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(src, "src");
      Objects.requireNonNull(engine, "engine");
      Objects.requireNonNull(dst, "dst");
    }
  }

  /** The transfer's data has moved: when does it end in model time? Answered with {@link Done}. */
  public record End(String id, ActorRef<Done> replyTo) implements Command, NodeWireMessage {
    public End {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The transfer failed: it uses no more bandwidth. */
  public record Cancel(String id) implements Command, NodeWireMessage {
    public Cancel {
      Objects.requireNonNull(id, "id");
    }
  }

  /**
   * {@code modelEnd}: when it ends, latency included (-1: the fabric does not know it); {@code kind}: its route's kind
   * ({@link PcieRoutes}); {@code aloneNanos}: what it would have taken alone; {@code path}: how it went.
   */
  public record Done(String id, long modelEnd, String kind, long aloneNanos, String path) implements NodeWireMessage {
    public Done {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(path, "path");
    }
  }
}
