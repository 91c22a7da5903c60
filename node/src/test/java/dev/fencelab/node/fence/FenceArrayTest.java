package dev.fencelab.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.check.Violation;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** dma_fence_array, kernel-semantics §1.6. */
class FenceArrayTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> containers;

  @BeforeEach
  void start() {
    fx = new FenceFixture("fence-array-test");
    containers = fx.containers();
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  /** One fence on each of {@code n} timelines, with the timelines, so tests can signal them in any order. */
  private record Fences(List<ActorRef<ContextOwner.Command>> timelines, List<FenceRef> fences) {}

  private Fences fences(int n) {
    List<ActorRef<ContextOwner.Command>> timelines = new ArrayList<>();
    List<FenceRef> fences = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      timelines.add(fx.timeline());
      fences.add(fx.createFence(timelines.get(i)));
    }
    return new Fences(timelines, fences);
  }

  @Test
  void shouldSignalOnlyWhenEveryMemberHasSignalled() {
    Fences f = fences(3);
    FenceRef array = fx.array(containers, f.fences(), false);

    fx.signal(f.timelines().get(0), f.fences().get(0), 0);
    fx.signal(f.timelines().get(2), f.fences().get(2), 0);
    assertEquals(0, fx.await(array, Duration.ofMillis(200)).result(), "one member still pending");
    fx.signal(f.timelines().get(1), f.fences().get(1), 0);

    WaitResult r = fx.await(array, Duration.ofSeconds(5));
    assertTrue(r.signalled());
    assertEquals(1, r.status().value());
  }

  @Test
  void shouldSignalOnFirstMemberWithSignalOnAny() {
    Fences f = fences(3);
    FenceRef array = fx.array(containers, f.fences(), true);

    fx.signal(f.timelines().get(1), f.fences().get(1), 0);

    assertTrue(fx.await(array, Duration.ofSeconds(5)).signalled());
  }

  @Test
  void shouldCarryTheFirstMemberErrorInCompletionOrder() {
    Fences f = fences(3);
    FenceRef array = fx.array(containers, f.fences(), false);
    fx.violations.awaitAssert(Duration.ofSeconds(5), () -> { // armed: every member is followed
      assertEquals(3, fx.pendingWaits().stream().filter(e -> e.reason().equals("fence array member")).count());
      return null;
    });

    fx.signal(f.timelines().get(2), f.fences().get(2), Errno.ETIME.negative());
    awaitArrayNoLongerWaitsOn(f.fences().get(2));
    fx.signal(f.timelines().get(0), f.fences().get(0), Errno.EIO.negative());
    fx.signal(f.timelines().get(1), f.fences().get(1), 0);

    assertEquals(Errno.ETIME, fx.await(array, Duration.ofSeconds(5)).status().error());
  }

  /**
   * The array's follower of {@code member} removes its wait edge only after it has told the array, so once the
   * edge is gone the member's completion is in the array's mailbox: a happens-before, not a sleep.
   */
  private void awaitArrayNoLongerWaitsOn(FenceRef member) {
    fx.violations.awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(fx.pendingWaits().stream().noneMatch(e -> e.fence().equals(member.id().toString())));
      return null;
    });
  }

  @Test
  void shouldTakeErrorsOfMembersAlreadySignalledWhenArmedInIndexOrder() {
    Fences f = fences(3);
    fx.signal(f.timelines().get(2), f.fences().get(2), Errno.ETIME.negative());
    fx.signal(f.timelines().get(1), f.fences().get(1), Errno.EIO.negative());
    fx.signal(f.timelines().get(0), f.fences().get(0), 0);

    FenceRef array = fx.array(containers, f.fences(), false);

    assertEquals(Errno.EIO, fx.await(array, Duration.ofSeconds(5)).status().error(), "index 1 before index 2");
  }

  @Test
  void shouldRecordViolationForNestedContainerAndStillWork() {
    Fences f = fences(2);
    FenceRef inner = fx.array(containers, List.of(f.fences().get(0)), false);

    FenceRef outer = fx.array(containers, List.of(inner, f.fences().get(1)), false);

    fx.expectViolation(Violation.Kind.NESTED_CONTAINER);
    fx.signal(f.timelines().get(0), f.fences().get(0), 0);
    fx.signal(f.timelines().get(1), f.fences().get(1), 0);
    assertTrue(fx.await(outer, Duration.ofSeconds(5)).signalled());
  }

  @Test
  void shouldRecordViolationForEmptyArrayAndSignalIt() {
    FenceRef array = fx.array(containers, List.of(), false);

    fx.expectViolation(Violation.Kind.EMPTY_ARRAY);
    assertTrue(fx.await(array, Duration.ofSeconds(5)).signalled());
  }

  @Test
  void shouldCountStubMembersAsSignalled() {
    Fences f = fences(1);
    FenceRef array = fx.array(containers, List.of(FenceRef.stub(), f.fences().get(0)), false);

    fx.signal(f.timelines().get(0), f.fences().get(0), 0);

    assertTrue(fx.await(array, Duration.ofSeconds(5)).signalled());
  }

  @Test
  void shouldSignalExactlyOnceWhenMembersSignalWhileArming() {
    // Race: members signal while the array polls and arms; the array still signals once, after the last.
    for (int round = 0; round < 10; round++) {
      Fences f = fences(4);
      fx.signal(f.timelines().get(0), f.fences().get(0), 0);
      containers.tell(new Containers.CreateArray(f.fences(), false, null, 1, fx.testKit.<FenceRef>createTestProbe().ref()));
      var probe = fx.testKit.<FenceRef>createTestProbe();
      containers.tell(new Containers.CreateArray(f.fences(), false, null, 1, probe.ref()));
      for (int i = 1; i < 4; i++) {
        f.timelines().get(i).tell(new FenceTimeline.SignalFence(f.fences().get(i).id().seqno(), 0, 0, null));
      }
      FenceRef array = probe.receiveMessage();
      WaitResult r = fx.await(array, Duration.ofSeconds(5));
      assertTrue(r.signalled(), "round " + round);
      assertEquals(1, r.status().value());
    }
  }
}
