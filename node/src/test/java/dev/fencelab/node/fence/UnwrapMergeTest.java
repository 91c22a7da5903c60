package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** dma_fence_unwrap / dma_fence_unwrap_merge, kernel-semantics §1.8. */
class UnwrapMergeTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> containers;

  @BeforeEach
  void start() {
    fx = new FenceFixture("unwrap-merge-test");
    containers = fx.containers();
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  @Test
  void shouldReturnTheSameFenceWhenMergedWithItself() {
    FenceRef f = fx.createFence(fx.timeline());

    assertEquals(f, fx.merge(containers, f, f));
  }

  @Test
  void shouldKeepOnlyTheLatestFenceOfOneTimeline() {
    ActorRef<ContextOwner.Command> timeline = fx.timeline();
    FenceRef early = fx.createFence(timeline);
    FenceRef late = fx.createFence(timeline);

    assertEquals(late, fx.merge(containers, early, late));
  }

  @Test
  void shouldDropSignalledFences() {
    ActorRef<ContextOwner.Command> t1 = fx.timeline();
    FenceRef done = fx.createFence(t1);
    fx.signal(t1, done, 0);
    FenceRef pending = fx.createFence(fx.timeline());

    assertEquals(pending, fx.merge(containers, done, pending));
  }

  @Test
  void shouldGiveSignalledStubWithLatestTimestampWhenAllSignalled() {
    ActorRef<ContextOwner.Command> t1 = fx.timeline();
    ActorRef<ContextOwner.Command> t2 = fx.timeline();
    FenceRef a = fx.createFence(t1);
    FenceRef b = fx.createFence(t2);
    fx.signal(t1, a, 0);
    fx.signal(t2, b, 0);
    long latest = Math.max(fx.await(a, Duration.ZERO).status().wallNanos(), fx.await(b, Duration.ZERO).status().wallNanos());

    FenceRef merged = fx.merge(containers, a, b);

    assertTrue(merged.isStub());
    assertEquals(latest, merged.stubTimestampNanos());
  }

  @Test
  void shouldMergeFencesOfSeveralTimelinesIntoAFlatArray() {
    ActorRef<ContextOwner.Command> t1 = fx.timeline();
    ActorRef<ContextOwner.Command> t2 = fx.timeline();
    ActorRef<ContextOwner.Command> t3 = fx.timeline();
    FenceRef a = fx.createFence(t1);
    FenceRef b = fx.createFence(t2);
    FenceRef c = fx.createFence(t3);
    FenceRef ab = fx.array(containers, List.of(a, b), false);

    FenceRef merged = fx.merge(containers, ab, c);

    assertEquals(FenceRef.Kind.ARRAY, merged.kind());
    TestProbe<FenceProtocol.Members> members = fx.testKit.createTestProbe();
    merged.actor().tell(new FenceProtocol.GetMembers(members.ref()));
    List<FenceRef> leaves = members.receiveMessage().members();
    assertEquals(3, leaves.size(), "flattened: " + leaves);
    assertTrue(leaves.stream().noneMatch(FenceRef::isContainer), "never nests");
    fx.signal(t1, a, 0);
    fx.signal(t2, b, 0);
    fx.signal(t3, c, 0);
    assertTrue(fx.await(merged, Duration.ofSeconds(5)).signalled());
  }

  @Test
  void shouldOrderTheMergedLeavesByContextNumberNotByItsText() {
    List<ActorRef<ContextOwner.Command>> timelines = new java.util.ArrayList<>();
    for (int i = 0; i < 11; i++) {
      timelines.add(fx.timeline()); // context numbers 1..11: from one digit to two
    }
    FenceRef oneDigit = fx.createFence(timelines.get(8));
    FenceRef twoDigits = fx.createFence(timelines.get(10));
    assertTrue(Long.toString(twoDigits.id().context().id()).length() > Long.toString(oneDigit.id().context().id()).length(),
        "the two contexts' numbers must differ in digits: " + oneDigit.id() + ", " + twoDigits.id());

    FenceRef merged = fx.merge(containers, twoDigits, oneDigit);

    TestProbe<FenceProtocol.Members> members = fx.testKit.createTestProbe();
    merged.actor().tell(new FenceProtocol.GetMembers(members.ref()));
    List<FenceRef> leaves = members.receiveMessage().members();
    assertEquals(List.of(oneDigit.id(), twoDigits.id()), leaves.stream().map(FenceRef::id).toList());
  }

  @Test
  void shouldUnwrapChainPointsIntoTheirUnsignalledFences() {
    ActorRef<ContextOwner.Command> t1 = fx.timeline();
    ActorRef<ContextOwner.Command> t2 = fx.timeline();
    FenceRef a = fx.createFence(t1);
    FenceRef b = fx.createFence(t2);
    FenceRef p1 = fx.chain(containers, null, a, 1);
    FenceRef p2 = fx.chain(containers, p1, b, 2);
    fx.signal(t1, a, 0);

    assertEquals(b, fx.merge(containers, p2));
  }
}
