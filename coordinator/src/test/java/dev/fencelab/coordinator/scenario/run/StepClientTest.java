package dev.fencelab.coordinator.scenario.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Checksum;
import dev.fencelab.protocol.scenario.v1.CpuAccess;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Export;
import dev.fencelab.protocol.scenario.v1.Import;
import dev.fencelab.protocol.scenario.v1.Node;
import dev.fencelab.protocol.scenario.v1.Process;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.Submit;
import dev.fencelab.protocol.scenario.v1.Unplug;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which node a step goes to and what it carries, with probes standing in for the node agents. */
class StepClientTest {
  private static ActorTestKit testKit;
  private TestProbe<NodeControl> n1;
  private TestProbe<NodeControl> n2;
  private RunDirectory names;
  private StepClient client;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("step-client-test", ConfigFactory.load("application-test"));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void directory() {
    n1 = testKit.createTestProbe();
    n2 = testKit.createTestProbe();
    Scenario s = Scenario.newBuilder().addNodes(Node.newBuilder().setName("n1")).addNodes(Node.newBuilder().setName("n2"))
        .addDevices(Device.newBuilder().setName("gpuA").setNode("n1")).addDevices(Device.newBuilder().setName("gpuB").setNode("n2"))
        .addProcesses(Process.newBuilder().setName("app").setNode("n1")).addProcesses(Process.newBuilder().setName("peer").setNode("n2"))
        .addBuffers(Buffer.newBuilder().setName("bo").setDevice("gpuA").setProcess("app").setSize("4KiB")).build();
    names = new RunDirectory(s, Map.of("n1", n1.ref(), "n2", n2.ref()));
    names.bind(StepBindings.device("gpuA"), Binding.newBuilder().setActor("driverA").build());
    names.bind(StepBindings.device("gpuB"), Binding.newBuilder().setActor("driverB").build());
    names.bind("app", Binding.newBuilder().setActor("appActor").build());
    names.bind(StepBindings.label("app"), Binding.newBuilder().setText("n1/app").build());
    names.bind("peer", Binding.newBuilder().setActor("peerActor").build());
    names.bind(StepBindings.handle("bo", "gpuA"), Binding.newBuilder().setHandle(1).build());
    names.bind(StepBindings.size("bo"), Binding.newBuilder().setNumber(4096).build());
    client = new StepClient(names, "r1", Duration.ofSeconds(5), testKit.system().scheduler());
  }

  /** Executes {@code step} and returns the request the node got (it answers ret 0). */
  private StepRequest sent(TestProbe<NodeControl> node, Step step) {
    var reply = client.execute(client.complete(step), "s1").toCompletableFuture();
    ExecuteStep e = node.expectMessageClass(ExecuteStep.class);
    e.replyTo().tell(new StepReply(StepResult.newBuilder().setExecuted(true).build()));
    try {
      assertEquals(0, reply.get(5, TimeUnit.SECONDS).result().getRet());
    } catch (Exception ex) {
      throw new AssertionError(ex);
    }
    return e.request();
  }

  @Test
  void anExportWithoutAProcessIsMadeByTheBuffersOwnerOnItsNode() {
    StepRequest r = sent(n1, Step.newBuilder().setExport(Export.newBuilder().setBuffer("bo")).build());
    assertEquals("app", r.getStep().getProcess());
    assertEquals("driverA", r.getBindingsMap().get("bo").getActor());
    assertEquals(1, r.getBindingsMap().get(StepBindings.ownHandle("bo")).getHandle());
    assertEquals("appActor", r.getBindingsMap().get("app").getActor());
  }

  @Test
  void aDeviceFaultGoesToTheDevicesNode() {
    StepRequest r = sent(n2, Step.newBuilder().setUnplug(Unplug.newBuilder().setDevice("gpuB")).build());
    assertEquals("driverB", r.getBindingsMap().get(StepBindings.device("gpuB")).getActor());
  }

  @Test
  void aChecksumGoesToTheBuffersNodeWithItsOwnersLabel() {
    StepRequest r = sent(n1, Step.newBuilder().setChecksum(Checksum.newBuilder().setBuffer("bo")).build());
    assertEquals("n1/app", r.getBindingsMap().get(StepBindings.owner("bo")).getText());
  }

  @Test
  void cpuAccessWithoutADeviceIsOnTheBuffersDevice() {
    StepRequest r = sent(n1, Step.newBuilder().setProcess("app").setCpuAccess(CpuAccess.newBuilder().setBuffer("bo")).build());
    assertEquals("gpuA", r.getStep().getCpuAccess().getDevice());
    assertEquals(1, r.getBindingsMap().get(StepBindings.handle("bo", "gpuA")).getHandle());
  }

  @Test
  void aSubmitCarriesTheInFenceFdsOfItsProcess() {
    names.bindFd("app", "ready", 9);
    StepRequest r = sent(n1, Step.newBuilder().setProcess("app")
        .setSubmit(Submit.newBuilder().setDevice("gpuA").addWrites("bo").addInFences("ready")).build());
    assertEquals(9, r.getBindingsMap().get("ready").getFd());
    assertEquals("driverA", r.getBindingsMap().get(StepBindings.device("gpuA")).getActor());
  }

  @Test
  void anImportOfABufferTheProcessHoldsNoFdOfFailsWithEBADFWithoutASend() throws Exception {
    StepResult r = client.execute(Step.newBuilder().setProcess("peer").setImport(Import.newBuilder().setBuffer("bo").setDevice("gpuB")).build(), "s")
        .toCompletableFuture().get(5, TimeUnit.SECONDS).result();
    assertEquals(Errno.EBADF.negative(), r.getRet());
    assertFalse(r.getExecuted());
    n2.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aStepThatNeedsADeviceOnAKilledNodeFailsWithENODEVWithoutASend() throws Exception {
    names.kill("n2");
    StepResult r = client.execute(Step.newBuilder().setProcess("app").setSubmit(Submit.newBuilder().setDevice("gpuB")).build(), "s")
        .toCompletableFuture().get(5, TimeUnit.SECONDS).result();
    assertEquals(Errno.ENODEV.negative(), r.getRet());
    assertTrue(r.getDetail().contains("gpuB"), r.getDetail());
    n1.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aCallInFlightOnANodeThatGoesDownEndsWithEnodevAtOnceNotAtItsBound() throws Exception {
    var reply = client.execute(Step.newBuilder().setChecksum(Checksum.newBuilder().setBuffer("bo")).build(), "s").toCompletableFuture();
    n1.expectMessageClass(ExecuteStep.class); // sent; the node never answers
    names.kill("n1");
    StepResult r = reply.get(1, TimeUnit.SECONDS).result();
    assertEquals(Errno.ENODEV.negative(), r.getRet());
    assertTrue(r.getDetail().contains("node n1 went down during the call"), r.getDetail());
  }
}
