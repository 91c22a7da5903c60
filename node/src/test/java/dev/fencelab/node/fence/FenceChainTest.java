package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** dma_fence_chain, kernel-semantics §1.7. */
class FenceChainTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> containers;

  @BeforeEach
  void start() {
    fx = new FenceFixture("fence-chain-test");
    containers = fx.containers();
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  /** A three-point timeline 1, 2, 3 over fences on separate timelines. */
  private record Timeline(ActorRef<ContextOwner.Command>[] owners, FenceRef[] fences, FenceRef[] points) {}

  @SuppressWarnings("unchecked")
  private Timeline timeline(int n) {
    ActorRef<ContextOwner.Command>[] owners = new ActorRef[n];
    FenceRef[] fences = new FenceRef[n];
    FenceRef[] points = new FenceRef[n];
    FenceRef prev = null;
    for (int i = 0; i < n; i++) {
      owners[i] = fx.timeline();
      fences[i] = fx.createFence(owners[i]);
      points[i] = fx.chain(containers, prev, fences[i], i + 1);
      prev = points[i];
    }
    return new Timeline(owners, fences, points);
  }

  private void signal(Timeline t, int i) {
    fx.signal(t.owners()[i], t.fences()[i], 0);
  }

  @Test
  void shouldKeepContextForIncreasingPoints() {
    Timeline t = timeline(3);

    assertEquals(t.points()[0].id().context(), t.points()[2].id().context());
    assertEquals(3, t.points()[2].id().seqno());
    assertTrue(t.points()[2].seqno64(), "chains use 64-bit seqnos");
  }

  @Test
  void shouldStartNewContextWithMaxSeqnoForNonIncreasingPoint() {
    Timeline t = timeline(2);
    FenceRef f = fx.createFence(fx.timeline());

    FenceRef broken = fx.chain(containers, t.points()[1], f, 1);

    assertNotEquals(t.points()[1].id().context(), broken.id().context());
    assertEquals(2, broken.id().seqno(), "seqno = max(prev->seqno, seqno)");
  }

  @Test
  void shouldSignalPointOnlyAfterEveryEarlierFence() {
    Timeline t = timeline(3);

    signal(t, 2);
    signal(t, 1);
    assertEquals(0, fx.await(t.points()[2], Duration.ofMillis(200)).result(), "point 1's fence still pending");
    signal(t, 0);

    assertTrue(fx.await(t.points()[2], Duration.ofSeconds(5)).signalled());
  }

  @Test
  void shouldNotPropagateFenceErrorsThroughChain() {
    Timeline t = timeline(1);

    fx.signal(t.owners()[0], t.fences()[0], Errno.EIO.negative());

    assertEquals(1, fx.await(t.points()[0], Duration.ofSeconds(5)).status().value());
  }

  @Test
  void shouldReturnHeadUnchangedForSeqnoZero() {
    Timeline t = timeline(2);

    ChainFindSeqno.SeqnoFound found = fx.findSeqno(containers, t.points()[1], 0);

    assertEquals(0, found.result());
    assertEquals(t.points()[1], found.point());
  }

  @Test
  void shouldReturnEinvalForSeqnoBeyondHead() {
    Timeline t = timeline(2);

    assertEquals(Errno.EINVAL.negative(), fx.findSeqno(containers, t.points()[1], 3).result());
  }

  @Test
  void shouldReturnEinvalWhenHeadIsNotAChain() {
    FenceRef leaf = fx.createFence(fx.timeline());

    assertEquals(Errno.EINVAL.negative(), fx.findSeqno(containers, leaf, 1).result());
  }

  @Test
  void shouldFindThePointCoveringSeqno() {
    Timeline t = timeline(3);

    ChainFindSeqno.SeqnoFound found = fx.findSeqno(containers, t.points()[2], 2);

    assertEquals(0, found.result());
    assertEquals(t.points()[1].id(), found.point().id());
  }

  @Test
  void shouldReturnNullWhenEverythingUpToSeqnoHasSignalled() {
    Timeline t = timeline(3);
    signal(t, 0);
    signal(t, 1);
    fx.await(t.points()[1], Duration.ofSeconds(5));

    ChainFindSeqno.SeqnoFound found = fx.findSeqno(containers, t.points()[2], 1);

    assertEquals(0, found.result());
    assertNull(found.point());
  }

  @Test
  void shouldEndFindSeqnoWithAValidAnswerWhileSignalsRace() {
    // Race: points signal while find_seqno walks; every answer is 0 with point 2, point 1 or NULL (see below).
    for (int round = 0; round < 10; round++) {
      Timeline t = timeline(5);
      var probe = fx.testKit.<ChainFindSeqno.SeqnoFound>createTestProbe();
      for (int i = 0; i < 5; i++) {
        containers.tell(new Containers.FindSeqno(t.points()[4], 2, probe.ref()));
        t.owners()[i].tell(new FenceTimeline.SignalFence(t.fences()[i].id().seqno(), 0, 0, null));
      }
      for (int i = 0; i < 5; i++) {
        ChainFindSeqno.SeqnoFound found = probe.receiveMessage(Duration.ofSeconds(5));
        assertEquals(0, found.result(), "round " + round);
        // The fences are signalled through separate timelines, so fence 2 may signal before fence 1. Valid answers:
        // point 2 (covers seqno 2); point 1 (point 2 was skipped because its fence signalled, and point 1's
        // prev_seqno 0 < 2 ends the walk — the kernel returns it too); NULL (everything up to 2 signalled).
        // Points 3-5 have prev_seqno >= 2: a walk that stopped there would be wrong.
        assertTrue(found.point() == null || found.point().id().seqno() <= 2, "round " + round + ": " + found);
      }
    }
  }
}
