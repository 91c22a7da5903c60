package dev.fencelab.node.process;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceServices;
import dev.fencelab.node.fence.OneShot;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * What an ioctl implementation may use of its process: the fd table, the member's fence services and containers,
 * the call timeout, children, and continuations — a reply or an answer is handed back to the process actor and the
 * continuation runs on its thread ({@link ProcessActor.Continue}), so the fd table is only ever touched there.
 */
final class ProcessContext {
  final String name;
  final FdTable files = new FdTable();
  final FenceServices services;
  final ActorRef<ContextOwner.Command> containers;
  final Duration callTimeout;
  private final ActorContext<ProcessProtocol.Command> actor;

  ProcessContext(ActorContext<ProcessProtocol.Command> actor, String name, ActorRef<ContextOwner.Command> containers,
      FenceServices services) {
    this.actor = actor;
    this.name = name;
    this.containers = containers;
    this.services = services;
    this.callTimeout = actor.getSystem().settings().config().getDuration("fencelab.device.call-timeout");
  }

  /** A one-shot reference whose one message continues with {@code then} on the process's thread. */
  <T> ActorRef<T> then(Class<T> type, Consumer<T> then) {
    return OneShot.adapter(actor, type, t -> new ProcessActor.Continue(() -> then.accept(t)));
  }

  /** An ask whose answer (or failure: null and the cause) continues with {@code then} on the process's thread. */
  <Q, R> void ask(Class<R> type, RecipientRef<Q> target, Duration timeout, Function<ActorRef<R>, Q> request, BiConsumer<R, Throwable> then) {
    actor.ask(type, target, timeout, request::apply, (r, failure) -> new ProcessActor.Continue(() -> then.accept(r, failure)));
  }

  void spawn(Behavior<?> child) {
    actor.spawnAnonymous(child);
  }

  ActorRef<ProcessProtocol.Command> self() {
    return actor.getSelf();
  }
}
