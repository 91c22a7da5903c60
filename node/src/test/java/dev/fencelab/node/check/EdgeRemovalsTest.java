package dev.fencelab.node.check;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The wait-for edges an actor ends reach the graph together, one message per flush. */
class EdgeRemovalsTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("edge-removals-test");
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldSendTheRemovalsBeforeAFlushInOneMessage() {
    TestProbe<WaitGraph.Command> graph = testKit.createTestProbe();
    EdgeRemovals removals = new EdgeRemovals(graph.ref(), () -> {});

    for (long id = 1; id <= 40; id++) {
      removals.remove(id);
    }
    removals.flush();

    WaitGraph.RemoveEdges sent = graph.expectMessageClass(WaitGraph.RemoveEdges.class);
    assertArrayEquals(java.util.stream.LongStream.rangeClosed(1, 40).toArray(), sent.waitIds());
    graph.expectNoMessage(java.time.Duration.ofMillis(50));
  }

  @Test
  void shouldSendALoneRemovalAsOneRemoveEdge() {
    TestProbe<WaitGraph.Command> graph = testKit.createTestProbe();
    EdgeRemovals removals = new EdgeRemovals(graph.ref(), () -> {});

    removals.remove(7);
    removals.flush();

    assertEquals(7, graph.expectMessageClass(WaitGraph.RemoveEdge.class).waitId());
  }

  @Test
  void shouldAskForOneFlushPerBatchOfRemovals() {
    TestProbe<WaitGraph.Command> graph = testKit.createTestProbe();
    AtomicInteger asked = new AtomicInteger();
    EdgeRemovals removals = new EdgeRemovals(graph.ref(), asked::incrementAndGet);

    removals.remove(1);
    removals.remove(2);
    removals.flush();
    removals.remove(3);

    assertEquals(2, asked.get());
    assertEquals(1, removals.pending());
  }

  @Test
  void shouldSendNothingWhenFlushedWithNoRemovals() {
    TestProbe<WaitGraph.Command> graph = testKit.createTestProbe();
    EdgeRemovals removals = new EdgeRemovals(graph.ref(), () -> {});

    removals.flush();

    graph.expectNoMessage(java.time.Duration.ofMillis(50));
  }
}
