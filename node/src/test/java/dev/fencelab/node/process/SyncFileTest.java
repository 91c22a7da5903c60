package dev.fencelab.node.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.fence.ContextOwner;
import dev.fencelab.node.fence.FenceFixture;
import dev.fencelab.node.fence.FenceRef;
import dev.fencelab.node.fence.FenceTimeline;
import dev.fencelab.protocol.Errno;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** sync_file fds in an emulated process, kernel-semantics §1.10. */
class SyncFileTest {
  private FenceFixture fx;
  private ActorRef<ContextOwner.Command> containers;
  private ActorRef<ProcessProtocol.Command> proc;

  @BeforeEach
  void start() {
    fx = new FenceFixture("sync-file-test");
    containers = fx.containers();
    proc = fx.testKit.spawn(ProcessActor.create("proc1", containers, fx.services));
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  private int fd(ActorRef<ProcessProtocol.Command> process, FenceRef fence) {
    TestProbe<ProcessProtocol.FdReply> probe = fx.testKit.createTestProbe();
    process.tell(new ProcessProtocol.SyncFileCreate(fence, "f", probe.ref()));
    return probe.receiveMessage().fd();
  }

  private int merge(int fd, int fd2, int flags, int pad) {
    TestProbe<ProcessProtocol.FdReply> probe = fx.testKit.createTestProbe();
    proc.tell(new ProcessProtocol.SyncMerge(fd, fd2, "merged", flags, pad, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10)).fd();
  }

  private ProcessProtocol.FileInfo info(int fd, int numFences) {
    TestProbe<ProcessProtocol.FileInfo> probe = fx.testKit.createTestProbe();
    proc.tell(new ProcessProtocol.SyncFileInfo(fd, numFences, 0, 0, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private ProcessProtocol.PollResult poll(ActorRef<ProcessProtocol.Command> process, int fd, long timeoutMillis) {
    TestProbe<ProcessProtocol.PollResult> probe = fx.testKit.createTestProbe();
    process.tell(new ProcessProtocol.SyncFileWait(fd, timeoutMillis, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  @Test
  void shouldAllocateLowestFreeFdFromThree() {
    FenceRef f = fx.createFence(fx.timeline());
    int a = fd(proc, f);
    int b = fd(proc, f);
    TestProbe<ProcessProtocol.FdReply> closed = fx.testKit.createTestProbe();
    proc.tell(new ProcessProtocol.CloseFd(a, closed.ref()));
    assertEquals(0, closed.receiveMessage().fd());

    assertEquals(3, a);
    assertEquals(4, b);
    assertEquals(3, fd(proc, f), "the lowest free fd is reused");
  }

  @Test
  void shouldRejectMergeWithFlagsOrPadWithEinval() {
    FenceRef f = fx.createFence(fx.timeline());
    int a = fd(proc, f);

    assertEquals(Errno.EINVAL.negative(), merge(a, a, 1, 0));
    assertEquals(Errno.EINVAL.negative(), merge(a, a, 0, 1));
  }

  @Test
  void shouldRejectMergeWithSecondFdNotASyncFileWithEnoent() {
    int a = fd(proc, fx.createFence(fx.timeline()));

    assertEquals(Errno.ENOENT.negative(), merge(a, 99, 0, 0));
  }

  @Test
  void shouldRejectMergeOnClosedFdWithEbadf() {
    assertEquals(Errno.EBADF.negative(), merge(42, 43, 0, 0));
  }

  @Test
  void shouldReportLeafCountAndStatusWhenAskedWithZeroFences() {
    ActorRef<ContextOwner.Command> t1 = fx.timeline();
    ActorRef<ContextOwner.Command> t2 = fx.timeline();
    FenceRef a = fx.createFence(t1);
    int merged = merge(fd(proc, a), fd(proc, fx.createFence(t2)), 0, 0);
    fx.signal(t1, a, 0);

    ProcessProtocol.FileInfo info = info(merged, 0);

    assertEquals(0, info.result());
    assertEquals(2, info.numFences(), "both leaves of the merged array");
    assertEquals(0, info.status(), "one leaf still pending");
    assertEquals(0, info.fences().size(), "no array filled");
  }

  @Test
  void shouldRejectFileInfoWithTooFewFencesWithEinval() {
    int merged = merge(fd(proc, fx.createFence(fx.timeline())), fd(proc, fx.createFence(fx.timeline())), 0, 0);

    assertEquals(Errno.EINVAL.negative(), info(merged, 1).result());
  }

  @Test
  void shouldFillEveryLeafWithStatusAndTimestampOnlyWhenSignalled() {
    ActorRef<ContextOwner.Command> t1 = fx.timeline();
    ActorRef<ContextOwner.Command> t2 = fx.timeline();
    FenceRef a = fx.createFence(t1);
    FenceRef b = fx.createFence(t2);
    int merged = merge(fd(proc, a), fd(proc, b), 0, 0);
    fx.signal(t1, a, Errno.ETIME.negative());

    ProcessProtocol.FileInfo info = info(merged, 2);

    assertEquals(2, info.fences().size());
    ProcessProtocol.FenceInfo failed = info.fences().stream().filter(i -> i.status() < 0).findFirst().orElseThrow();
    ProcessProtocol.FenceInfo pending = info.fences().stream().filter(i -> i.status() == 0).findFirst().orElseThrow();
    assertEquals(Errno.ETIME.negative(), failed.status());
    assertTrue(failed.timestampNanos() > 0);
    assertEquals(0, pending.timestampNanos());
    assertEquals(Errno.ETIME.negative(), info.status(), "starts at 1, becomes the first leaf status <= 0");
  }

  @Test
  void shouldPollReadyWhenFenceSignalsWithError() {
    ActorRef<ContextOwner.Command> t = fx.timeline();
    FenceRef f = fx.createFence(t);
    int fd = fd(proc, f);
    fx.signal(t, f, Errno.EIO.negative());

    ProcessProtocol.PollResult r = poll(proc, fd, 1000);

    assertEquals(1, r.result(), "EPOLLIN also when signalled with an error");
    assertEquals(Errno.EIO, r.status().error());
  }

  @Test
  void shouldPollZeroOnTimeout() {
    int fd = fd(proc, fx.createFence(fx.timeline()));

    assertEquals(0, poll(proc, fd, 100).result());
  }

  @Test
  void shouldPollBadFdWithEbadf() {
    assertEquals(Errno.EBADF.negative(), poll(proc, 77, 100).result());
  }

  @Test
  void shouldRejectDeadlineWithPadWithEinval() {
    int fd = fd(proc, fx.createFence(fx.timeline()));
    TestProbe<ProcessProtocol.FdReply> probe = fx.testKit.createTestProbe();

    proc.tell(new ProcessProtocol.SyncSetDeadline(fd, 1000, 1, probe.ref()));

    assertEquals(Errno.EINVAL.negative(), probe.receiveMessage().fd());
  }

  @Test
  void shouldGiveReceiverOfPassedFdAWorkingHandleToTheSameFence() {
    ActorRef<ContextOwner.Command> t = fx.timeline();
    FenceRef f = fx.createFence(t);
    int fd = fd(proc, f);
    ActorRef<ProcessProtocol.Command> other = fx.testKit.spawn(ProcessActor.create("proc2", containers, fx.services));
    TestProbe<ProcessProtocol.FdReply> sent = fx.testKit.createTestProbe();

    proc.tell(new ProcessProtocol.SendFd(fd, other, sent.ref()));
    int received = sent.receiveMessage().fd();
    fx.signal(t, f, 0);

    assertEquals(3, received);
    assertEquals(1, poll(other, received, 1000).result());
    TestProbe<ProcessProtocol.FenceReply> fence = fx.testKit.createTestProbe();
    other.tell(new ProcessProtocol.GetFence(received, fence.ref()));
    assertEquals(f, fence.receiveMessage().fence());
  }

  @Test
  void shouldWakeEveryPollerWhenSignalRacesPollRegistration() {
    ActorRef<ContextOwner.Command> t = fx.timeline();
    FenceRef f = fx.createFence(t);
    int fd = fd(proc, f);
    TestProbe<ProcessProtocol.PollResult> results = fx.testKit.createTestProbe();

    for (int i = 0; i < 20; i++) {
      proc.tell(new ProcessProtocol.SyncFileWait(fd, 5000, results.ref()));
      if (i == 10) {
        t.tell(new FenceTimeline.SignalFence(f.id().seqno(), 0, 0, null));
      }
    }

    for (int i = 0; i < 20; i++) {
      assertEquals(1, results.receiveMessage(Duration.ofSeconds(10)).result());
    }
  }
}
