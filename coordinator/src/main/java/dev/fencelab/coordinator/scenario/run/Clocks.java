package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.control.Ping;
import dev.fencelab.protocol.control.Pong;
import dev.fencelab.protocol.trace.v1.ClockOffset;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The clock offset of every node relative to the runner: a few pings one after the other, keeping the sample with the
 * shortest round trip (offset = the node's clock at the pong minus the midpoint of the round trip; uncertainty =
 * half that round trip). Traces are aligned with these.
 */
final class Clocks {
  private static final int PINGS = 8;
  private static final Duration PING_TIMEOUT = Duration.ofSeconds(10);

  private Clocks() {}

  static CompletableFuture<List<ClockOffset>> measure(RunDirectory names, Scheduler scheduler) {
    List<CompletableFuture<ClockOffset>> all = new ArrayList<>();
    for (String node : names.nodes()) {
      all.add(sample(node, names.agent(node), 0, PINGS, null, scheduler).toCompletableFuture());
    }
    return Futures.allOf(all);
  }

  private static CompletionStage<ClockOffset> sample(String node, ActorRef<NodeControl> agent, int seq, int left, ClockOffset best,
      Scheduler scheduler) {
    if (left == 0) {
      return CompletableFuture.completedFuture(best);
    }
    long sent = System.nanoTime();
    CompletionStage<Pong> pong = AskPattern.ask(agent, replyTo -> new Ping(seq, sent, replyTo), PING_TIMEOUT, scheduler);
    return pong.thenCompose(reply -> {
      long rtt = System.nanoTime() - sent;
      long offset = reply.nodeMonoNanos() - (sent + rtt / 2);
      ClockOffset sample = ClockOffset.newBuilder().setNode(node).setOffsetNanos(offset).setUncertaintyNanos(rtt / 2)
          .setSamples(seq + 1).build();
      ClockOffset keep = best == null || sample.getUncertaintyNanos() < best.getUncertaintyNanos()
          ? sample : best.toBuilder().setSamples(seq + 1).build();
      return sample(node, agent, seq + 1, left - 1, keep, scheduler);
    });
  }
}
