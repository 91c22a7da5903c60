package dev.fencelab.node.fence;

import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A per-request reply adapter: a child that takes one reply, maps it to a message of the parent (closing over the
 * request's context) and stops. Pekko's {@code messageAdapter} keeps one function per message class — a second
 * registration replaces the first — so it cannot tell concurrent requests of the same kind apart; this can. Use it
 * only where a reply is certain (local actors that always answer); for remote peers use {@code ActorContext.ask},
 * which also times out.
 */
public final class OneShot {
  private OneShot() {}

  public static <T, C> ActorRef<T> adapter(ActorContext<C> context, Class<T> type, Function<T, C> map) {
    ActorRef<C> parent = context.getSelf();
    return context.spawnAnonymous(Behaviors.receive(type)
        .onMessage(type, reply -> {
          parent.tell(map.apply(reply));
          return Behaviors.stopped();
        })
        .build());
  }
}
