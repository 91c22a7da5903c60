package dev.fencelab.node.sync;

import dev.fencelab.node.process.ProcessProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.fence.FenceNames;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.process.ProcessActor;
import dev.fencelab.node.step.StepHarness;
import dev.fencelab.node.wire.NodeSerializer;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.CloseFd;
import dev.fencelab.protocol.scenario.v1.FileInfo;
import dev.fencelab.protocol.scenario.v1.GetDeadline;
import dev.fencelab.protocol.scenario.v1.SetDeadline;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.SyncFile;
import dev.fencelab.protocol.step.v1.StepResult;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sync_file and sw_sync ioctl steps (kernel-semantics §1.10, §1.11) through a real step executor. */
class SyncFileStepsTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> timeline;
  private StepHarness steps;

  @BeforeEach
  void start() {
    fx = new FenceFixture("sync-file-steps-test");
    ActorRef<ProcessProtocol.Command> proc = fx.testKit.spawn(ProcessActor.create("p", fx.containers(), fx.services));
    timeline = fx.testKit.spawn(SwSyncTimeline.create(fx.services));
    steps = new StepHarness(fx.testKit, new SyncFileSteps(new FenceNames(NodeSerializer.of(fx.testKit.system()))), SyncFileSteps.actions());
    steps.bindActor("p", proc);
    steps.bindActor("t", timeline);
    TestProbe<SwSyncTimeline.PointCreated> created = fx.testKit.createTestProbe();
    timeline.tell(new SwSyncTimeline.CreatePoint(1, "pt", created.ref()));
    FenceRef point = created.receiveMessage().fence();
    steps.bindFence("pt", point);
    assertEquals(0, call(Step.newBuilder().setSyncFile(SyncFile.newBuilder().setFence("pt"))).getRet());
  }

  @AfterEach
  void stop() {
    timeline.tell(new SwSyncTimeline.Inc(1));
    fx.close();
  }

  private StepResult call(Step.Builder step) {
    return steps.call(step.setProcess("p"));
  }

  @Test
  void fileInfoWithZeroFencesAnswersTheCountAndTheStatus() {
    StepResult r = call(Step.newBuilder().setFileInfo(FileInfo.newBuilder().setFd("pt")));
    assertEquals(0, r.getRet());
    assertEquals("1", r.getOutMap().get("num_fences"));
    assertEquals("0", r.getOutMap().get("status"));
  }

  @Test
  void fileInfoWithFlagsIsEinval() {
    assertEquals(Errno.EINVAL.negative(), call(Step.newBuilder().setFileInfo(FileInfo.newBuilder().setFd("pt").setFlags(1))).getRet());
  }

  @Test
  void fileInfoWithRoomForTheLeavesReportsEachLeaf() {
    StepResult r = call(Step.newBuilder().setFileInfo(FileInfo.newBuilder().setFd("pt").setNumFences(1)));
    assertEquals("0", r.getOutMap().get("fence_status"));
    assertEquals("0", r.getOutMap().get("fence_timestamp"));
  }

  @Test
  void closingAFdTwiceIsEbadfTheSecondTime() {
    assertEquals(0, call(Step.newBuilder().setClose(CloseFd.newBuilder().setFd("pt"))).getRet());
    assertEquals(Errno.EBADF.negative(), call(Step.newBuilder().setClose(CloseFd.newBuilder().setFd("pt"))).getRet());
  }

  @Test
  void closingTheInvalidFdIsEbadf() {
    assertEquals(Errno.EBADF.negative(), call(Step.newBuilder().setClose(CloseFd.newBuilder().setFd("-1"))).getRet());
  }

  @Test
  void setDeadlineWithPadIsEinval() {
    assertEquals(Errno.EINVAL.negative(), call(Step.newBuilder().setSetDeadline(SetDeadline.newBuilder().setFd("pt").setPad(1))).getRet());
  }

  @Test
  void getDeadlineIsEnoentUntilADeadlineIsSet() {
    GetDeadline.Builder get = GetDeadline.newBuilder().setTimeline("t").setFd("pt");
    assertEquals(Errno.ENOENT.negative(), call(Step.newBuilder().setGetDeadline(get)).getRet());
    assertEquals(0, call(Step.newBuilder().setSetDeadline(SetDeadline.newBuilder().setFd("pt").setDeadline("1ms"))).getRet());
    fx.testKit.createTestProbe().awaitAssert(() -> {
      StepResult r = call(Step.newBuilder().setGetDeadline(get));
      assertEquals(0, r.getRet(), r.toString());
      assertFalse(r.getValue().getNumber() == 0);
      return null;
    });
  }

  @Test
  void getDeadlineWithANonZeroDeadlineFieldIsEinval() {
    assertEquals(Errno.EINVAL.negative(), call(Step.newBuilder().setGetDeadline(GetDeadline.newBuilder().setTimeline("t").setFd("pt")
        .setDeadlineNs(5))).getRet());
  }
}
