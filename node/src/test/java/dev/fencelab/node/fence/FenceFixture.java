package dev.fencelab.node.fence;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.node.check.Violation;
import dev.fencelab.node.check.Violations;
import dev.fencelab.node.check.WaitGraph;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/** Shared set-up of fence tests: a test kit with serialize-messages on, and services whose violations a probe sees. */
public final class FenceFixture implements AutoCloseable {
  public final ActorTestKit testKit;
  public final TestProbe<Violations.Command> violations;
  public final ActorRef<WaitGraph.Command> waits;
  public final FenceServices services;

  public FenceFixture(String name) {
    this(name, Duration.ofSeconds(30));
  }

  public FenceFixture(String name, Duration waitCap) {
    testKit = ActorTestKit.create(name, ConfigFactory.load("application-test"));
    violations = testKit.createTestProbe();
    waits = testKit.spawn(WaitGraph.create(), "waits");
    services = new FenceServices(violations.ref(), waits, new FenceContexts(0x5eed), waitCap, 64);
  }

  public ActorRef<ContextOwner.Command> timeline() {
    return testKit.spawn(FenceTimeline.create(services, false));
  }

  public FenceRef createFence(ActorRef<ContextOwner.Command> timeline) {
    TestProbe<FenceRef> probe = testKit.createTestProbe();
    timeline.tell(new FenceTimeline.CreateFence(probe.ref()));
    return probe.receiveMessage();
  }

  public FenceProtocol.SignalResult signal(ActorRef<ContextOwner.Command> timeline, FenceRef fence, int error) {
    TestProbe<FenceProtocol.SignalResult> probe = testKit.createTestProbe();
    timeline.tell(new FenceTimeline.SignalFence(fence.id().seqno(), error, 0, probe.ref()));
    return probe.receiveMessage();
  }

  public WaitResult await(FenceRef fence, Duration timeout) {
    TestProbe<WaitResult> probe = testKit.createTestProbe();
    testKit.spawn(FenceWait.create(fence, timeout, "test", "unit test", probe.ref(), services));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  public ActorRef<ContextOwner.Command> containers() {
    return testKit.spawn(Containers.create(services));
  }

  public FenceRef array(ActorRef<ContextOwner.Command> containers, List<FenceRef> members, boolean signalOnAny) {
    TestProbe<FenceRef> probe = testKit.createTestProbe();
    containers.tell(new Containers.CreateArray(members, signalOnAny, null, 1, probe.ref()));
    return probe.receiveMessage();
  }

  public FenceRef chain(ActorRef<ContextOwner.Command> containers, FenceRef prev, FenceRef fence, long seqno) {
    TestProbe<FenceRef> probe = testKit.createTestProbe();
    containers.tell(new Containers.CreateChain(prev, fence, seqno, probe.ref()));
    return probe.receiveMessage();
  }

  public FenceRef merge(ActorRef<ContextOwner.Command> containers, FenceRef... fences) {
    TestProbe<FenceRef> probe = testKit.createTestProbe();
    containers.tell(new Containers.Merge(List.of(fences), probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  public ChainFindSeqno.SeqnoFound findSeqno(ActorRef<ContextOwner.Command> containers, FenceRef head, long seqno) {
    TestProbe<ChainFindSeqno.SeqnoFound> probe = testKit.createTestProbe();
    containers.tell(new Containers.FindSeqno(head, seqno, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  public FenceProtocol.StatusReply status(FenceRef fence) {
    TestProbe<FenceProtocol.StatusReply> probe = testKit.createTestProbe();
    fence.actor().tell(new FenceProtocol.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  /** The next violation reported, which must be of {@code kind}. */
  public Violation expectViolation(Violation.Kind kind) {
    Violations.Report report = (Violations.Report) violations.fishForMessage(Duration.ofSeconds(5), m ->
        m instanceof Violations.Report r && r.violation().kind() == kind ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore())
        .get(0);
    return report.violation();
  }

  public List<WaitGraph.Edge> pendingWaits() {
    TestProbe<WaitGraph.Pending> probe = testKit.createTestProbe();
    waits.tell(new WaitGraph.ListPending(probe.ref()));
    return probe.receiveMessage().edges();
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
