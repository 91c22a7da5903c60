package dev.fencelab.node.resv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.step.StepHarness;
import dev.fencelab.node.wire.NodeSerializer;
import dev.fencelab.protocol.scenario.v1.ResvFences;
import dev.fencelab.protocol.scenario.v1.ResvSingleton;
import dev.fencelab.protocol.scenario.v1.ResvTestSignaled;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.StepResult;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dma_resv query steps (kernel-semantics §1.9) through a real step executor. */
class ResvStepsTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> timeline;
  private StepHarness steps;

  @BeforeEach
  void start() {
    fx = new FenceFixture("resv-steps-test");
    timeline = fx.timeline();
    steps = new StepHarness(fx.testKit, new ResvSteps(new FenceNames(NodeSerializer.of(fx.testKit.system())), fx.services, fx.containers(),
        Resv.Mode.MODERN, (call, buffer) -> java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("no buffers here"))),
        ResvSteps.actions());
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  private ActorRef<Resv.Command> resvWith(Resv.Mode mode, FenceRef writer, FenceRef reader) {
    ActorRef<Resv.Command> resv = fx.testKit.spawn(Resv.create("bo", mode, fx.containers(), fx.services));
    AcquireCtx ctx = new AcquireCtx(1, "test");
    TestProbe<Resv.LockReply> holder = fx.testKit.createTestProbe();
    resv.tell(new Resv.Lock(ctx, false, holder.ref()));
    holder.receiveMessage();
    TestProbe<Resv.Result> r = fx.testKit.createTestProbe();
    resv.tell(new Resv.Reserve(ctx, 2, r.ref()));
    r.receiveMessage();
    if (mode == Resv.Mode.Y2020) {
      resv.tell(new Resv.AddExclusive(ctx, writer, java.util.List.of(), r.ref()));
      r.receiveMessage();
      resv.tell(new Resv.AddShared(ctx, reader, java.util.List.of(), r.ref()));
    } else {
      resv.tell(new Resv.AddFence(ctx, writer, ResvUsage.WRITE, r.ref()));
      r.receiveMessage();
      resv.tell(new Resv.AddFence(ctx, reader, ResvUsage.READ, r.ref()));
    }
    r.receiveMessage();
    resv.tell(new Resv.Unlock(ctx));
    steps.bindActor("bo", resv);
    steps.bindFence("w", writer);
    steps.bindFence("r", reader);
    return resv;
  }

  @Test
  void fencesByUsageListOnlyTheUsagesUpToIt() {
    resvWith(Resv.Mode.MODERN, fx.createFence(timeline), fx.createFence(timeline));
    StepResult writers = steps.call(Step.newBuilder().setResvFences(ResvFences.newBuilder().setResv("bo").setUsage("write")));
    assertEquals(1, writers.getValue().getFences().getFencesCount());
    assertEquals("write", writers.getOutMap().get("usages"));
    StepResult all = steps.call(Step.newBuilder().setResvFences(ResvFences.newBuilder().setResv("bo").setUsage("bookkeep")));
    assertEquals("write,read", all.getOutMap().get("usages"));
  }

  @Test
  void testSignaledForWritersIgnoresAPendingReader() {
    FenceRef w = fx.createFence(timeline);
    FenceRef r = fx.createFence(timeline);
    resvWith(Resv.Mode.MODERN, w, r);
    fx.signal(timeline, w, 0);
    assertTrue(steps.call(Step.newBuilder().setResvTestSignaled(ResvTestSignaled.newBuilder().setResv("bo").setUsage("write")))
        .getValue().getFlag());
    assertFalse(steps.call(Step.newBuilder().setResvTestSignaled(ResvTestSignaled.newBuilder().setResv("bo").setUsage("read")))
        .getValue().getFlag());
    fx.signal(timeline, r, 0);
  }

  @Test
  void the2020TestAllChecksTheSharedFencesNotTheExclusiveOne() {
    FenceRef w = fx.createFence(timeline);
    FenceRef r = fx.createFence(timeline);
    resvWith(Resv.Mode.Y2020, w, r);
    fx.signal(timeline, w, 0);
    // 2020 add_excl dropped nothing here (the reader came after); test_all looks at the pending reader: false.
    assertFalse(steps.call(Step.newBuilder().setResvTestSignaled(ResvTestSignaled.newBuilder().setResv("bo").setAll(true)))
        .getValue().getFlag());
    assertTrue(steps.call(Step.newBuilder().setResvTestSignaled(ResvTestSignaled.newBuilder().setResv("bo").setAll(false)))
        .getValue().getFlag());
    fx.signal(timeline, r, 0);
  }

  @Test
  void aSingletonOfOneFenceIsThatFence() throws Exception {
    FenceRef w = fx.createFence(timeline);
    FenceRef r = fx.createFence(timeline);
    resvWith(Resv.Mode.MODERN, w, r);
    StepResult one = steps.call(Step.newBuilder().setResvSingleton(ResvSingleton.newBuilder().setResv("bo").setUsage("write")));
    assertEquals(w.id(), steps.fence(one).id());
    fx.signal(timeline, w, 0);
    fx.signal(timeline, r, 0);
  }
}
