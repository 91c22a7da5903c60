package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.control.WaitsChanged;
import dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge;
import dev.fencelab.protocol.trace.v1.EventKind;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The run's deadlock detector: a child of the run that every member streams its wait-for edges to
 * ({@code WatchWaits}/{@code WaitsChanged}), kept in one {@link WaitForGraph}. A cycle is reported to the run the moment
 * its last edge arrives; a reported cycle that loses an edge (a timeout, a reset or a node's death ended one of its
 * waits) is reported as broken. Owns: the graph. Talks to: its parent (findings, as local messages).
 */
final class DeadlockWatch extends AbstractBehavior<Object> {
  /** From the run: waits only it sees (a sw_sync point waiting for the step that advances its timeline…). */
  record RunnerEdges(java.util.List<WaitForGraph.Edge> added, java.util.List<String> removed) implements NoSerializationVerificationNeeded {}

  /** From the run: {@code node} died; its waits died with it. */
  record NodeDown(String node) implements NoSerializationVerificationNeeded {}

  /** To the run: a cycle closed. Recorded as a DEADLOCK violation with the whole chain. */
  record Found(WaitForGraph.Cycle cycle) implements ScenarioRun.Msg {
    void record(RunLog log, RunDirectory names) {
      names.deadlock(cycle.path(), true);
      log.add(RunLog.event(EventKind.VIOLATION, "deadlocks").setName("DEADLOCK").setSubject(cycle.path()).setDetail(cycle.chain()));
      log.say("DEADLOCK: " + cycle.path());
    }
  }

  /** To the run: a reported cycle lost an edge — whatever ended that wait (a timeout, a reset, a death) broke it. */
  record Broken(WaitForGraph.Broken broken) implements ScenarioRun.Msg {
    void record(RunLog log, RunDirectory names) {
      names.deadlock(broken.cycle().path(), false);
      log.add(RunLog.event(EventKind.VIOLATION, "deadlocks").setName("DEADLOCK_BROKEN_BY_TIMEOUT").setSubject(broken.cycle().path())
          .setDetail("the cycle broke when " + broken.edge() + " ended (a timeout, a reset or a node's death); it was: "
              + broken.cycle().chain()));
      log.say("deadlock broken: " + broken.edge() + " ended");
    }
  }

  private final WaitForGraph graph = new WaitForGraph();
  private final ActorRef<ScenarioRun.Msg> run;

  static Behavior<Object> create(ActorRef<ScenarioRun.Msg> run) {
    return Behaviors.setup(context -> new DeadlockWatch(context, run));
  }

  private DeadlockWatch(ActorContext<Object> context, ActorRef<ScenarioRun.Msg> run) {
    super(context);
    this.run = run;
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(WaitsChanged.class, this::onChanged)
        .onMessage(RunnerEdges.class, r -> {
          r.removed().forEach(k -> graph.remove(k).forEach(b -> run.tell(new Broken(b))));
          for (WaitForGraph.Edge e : r.added()) {
            WaitForGraph.Cycle cycle = graph.add(e);
            if (cycle != null) {
              run.tell(new Found(cycle));
            }
          }
          return this;
        })
        .onMessage(NodeDown.class, d -> {
          graph.keysOf(d.node()).forEach(k -> graph.remove(k).forEach(b -> run.tell(new Broken(b))));
          return this;
        })
        .build();
  }

  private Behavior<Object> onChanged(WaitsChanged c) {
    for (long id : c.removed()) {
      graph.remove(c.nodeName() + "#" + id).forEach(b -> run.tell(new Broken(b)));
    }
    for (WaitEdge e : c.added()) {
      WaitForGraph.Cycle cycle = graph.add(new WaitForGraph.Edge(c.nodeName(), e.getWaitId(), e.getWaiter(), e.getFence(), e.getReason()));
      if (cycle != null) {
        run.tell(new Found(cycle));
      }
    }
    return this;
  }
}
