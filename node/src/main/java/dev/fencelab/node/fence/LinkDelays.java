package dev.fencelab.node.fence;

import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The model-time latency of this member's emulated links to other members (the {@code link_delay} fault): a fence
 * signalled on a peer reaches this member's waiters (a job's in-fence, a wait step) that much later in model time.
 * Links without a delay cost nothing: the model time of a cross-node signal is the signaller's, as before.
 */
public final class LinkDelays implements Extension {
  private final ConcurrentHashMap<String, Long> byAddress = new ConcurrentHashMap<>();

  public static LinkDelays get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** Sets the latency of the link to the member at {@code address} ({@code pekko://system@host:port}); 0 removes it. */
  public void set(String address, long latencyNanos) {
    if (latencyNanos == 0) {
      byAddress.remove(address);
    } else {
      byAddress.put(address, latencyNanos);
    }
  }

  /** Removes every delay (a run is over). */
  public void clear() {
    byAddress.clear();
  }

  /** No link has a delay. */
  public boolean none() {
    return byAddress.isEmpty();
  }

  /** The latency of the link to the member at {@code address}; 0 for this member and links without a delay. */
  public long latency(Address address) {
    return byAddress.isEmpty() || address.host().isEmpty() ? 0 : byAddress.getOrDefault(address.toString(), 0L);
  }

  private static final class Id extends ExtensionId<LinkDelays> {
    static final Id INSTANCE = new Id();

    @Override
    public LinkDelays createExtension(ActorSystem<?> system) {
      return new LinkDelays();
    }
  }
}
