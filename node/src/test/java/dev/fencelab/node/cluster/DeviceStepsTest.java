package dev.fencelab.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.control.NodeControl;
import dev.fencelab.protocol.scenario.v1.Buffer;
import dev.fencelab.protocol.scenario.v1.Checksum;
import dev.fencelab.protocol.scenario.v1.Copy;
import dev.fencelab.protocol.scenario.v1.CpuAccess;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Export;
import dev.fencelab.protocol.scenario.v1.Hang;
import dev.fencelab.protocol.scenario.v1.Import;
import dev.fencelab.protocol.scenario.v1.Map;
import dev.fencelab.protocol.scenario.v1.Pass;
import dev.fencelab.protocol.scenario.v1.Process;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.Submit;
import dev.fencelab.protocol.scenario.v1.Unplug;
import dev.fencelab.protocol.step.ExecuteStep;
import dev.fencelab.protocol.step.StepBindings;
import dev.fencelab.protocol.step.StepReply;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.Placement;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import java.time.Duration;
import java.util.HashMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Placement, dma-buf, job, pass and fault steps through a real node agent and its step executor, as the runner sends
 * them (one ExecuteStep, one StepResult; the names a result binds go with the next requests). Every message crosses
 * the serializers ({@code serialize-messages = on}).
 */
class DeviceStepsTest {
  private static ActorTestKit testKit;
  private static ActorRef<NodeControl> agent;
  private static int runs;
  private final java.util.Map<String, Binding> names = new HashMap<>();
  private String run;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("device-steps-test",
        ConfigFactory.parseString("pekko.cluster.roles = [node]").withFallback(ConfigFactory.load("application-test")));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    agent = testKit.spawn(NodeAgent.create(new NodeAgent.Identity("n1", 1, 0, "test")));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A run of its own per test: gpuA exporting bo (1 MiB, owned by app), gpuB beside it, processes app and peer. */
  @BeforeEach
  void placeRun() {
    run = "t" + (++runs);
    assertEquals(0, place(Placement.newBuilder().setDevice(Device.newBuilder().setName("gpuA-" + run).setNode("n1")).setAs("gpuA")).getRet());
    assertEquals(0, place(Placement.newBuilder().setDevice(Device.newBuilder().setName("gpuB-" + run).setNode("n1")).setAs("gpuB")).getRet());
    assertEquals(0, place(Placement.newBuilder().setProcess(Process.newBuilder().setName("app-" + run).setNode("n1")).setAs("app")).getRet());
    assertEquals(0, place(Placement.newBuilder().setProcess(Process.newBuilder().setName("peer-" + run).setNode("n1")).setAs("peer")).getRet());
    for (String bo : new String[] {"bo", "dst"}) {
      StepResult r = place(Placement.newBuilder().setBuffer(Buffer.newBuilder().setName(bo).setDevice("gpuA").setProcess("app").setSize("1MiB"))
          .setAs(bo));
      assertEquals(0, r.getRet(), r.getDetail());
      names.put(bo, names.get(StepBindings.device("gpuA")));
      names.put(StepBindings.ownHandle(bo), names.get(StepBindings.handle(bo, "gpuA")));
      names.put(StepBindings.owner(bo), names.get(StepBindings.label("app")));
    }
  }

  private StepResult place(Placement.Builder place) {
    return send(StepRequest.newBuilder().setPlace(place), null);
  }

  private StepResult call(Step.Builder step) {
    return send(StepRequest.newBuilder().setStep(step), step.getProcess());
  }

  /** Sends with every name bound so far; binds what the result bound (fds under the step's process, or the receiver's). */
  private StepResult send(StepRequest.Builder request, String process) {
    java.util.Map<String, Binding> bindings = new HashMap<>(names);
    if (process != null) {
      names.forEach((k, v) -> {
        if (k.startsWith("fd:" + process + "/")) {
          bindings.put(k.substring(("fd:" + process + "/").length()), v);
        }
      });
    }
    TestProbe<StepReply> probe = testKit.createTestProbe();
    agent.tell(new ExecuteStep(request.setRun(run).setStepId("s").putAllBindings(bindings)
        .setTimeoutNanos(Duration.ofSeconds(10).toNanos()).build(), probe.ref()));
    StepResult r = probe.receiveMessage(Duration.ofSeconds(15)).result();
    r.getBoundMap().forEach((k, v) -> {
      if (v.getKindCase() == Binding.KindCase.FD) {
        names.put("fd:" + (v.getProcess().isEmpty() ? process : v.getProcess()) + "/" + k, v);
      } else {
        names.put(k, v);
      }
    });
    return r;
  }

  private StepResult export() {
    return call(Step.newBuilder().setProcess("app").setExport(Export.newBuilder().setBuffer("bo")));
  }

  @Test
  void placementBindsTheDriversTheProcessesWithTheirLabelsAndTheBuffersHandleAndSize() {
    assertEquals(Binding.KindCase.ACTOR, names.get(StepBindings.device("gpuA")).getKindCase());
    assertEquals(Binding.KindCase.ACTOR, names.get("app").getKindCase());
    assertEquals("n1/app-" + run, names.get(StepBindings.label("app")).getText());
    assertEquals(Binding.KindCase.HANDLE, names.get(StepBindings.handle("bo", "gpuA")).getKindCase());
    assertEquals(1L << 20, names.get(StepBindings.size("bo")).getNumber());
  }

  @Test
  void placingADeviceUnderATakenNameFailsWithEEXIST() {
    StepResult again = place(Placement.newBuilder().setDevice(Device.newBuilder().setName("gpuA-" + run).setNode("n1")).setAs("gpuA"));
    assertEquals(Errno.EEXIST.negative(), again.getRet());
  }

  @Test
  void exportReturnsZeroWithTheDmaBufFdAsItsValueAndBindsItInTheProcess() {
    StepResult r = export();
    assertEquals(0, r.getRet(), r.getDetail());
    assertTrue(r.getValue().getNumber() >= 3, "an fd after stdin/out/err");
    assertEquals(r.getValue().getNumber(), names.get("fd:app/bo").getFd());
  }

  @Test
  void exportWithPinButNoUnpinFailsWithEINVAL() {
    StepResult r = call(Step.newBuilder().setProcess("app").setExport(Export.newBuilder().setBuffer("bo").setExporterOps("pin_only")));
    assertEquals(Errno.EINVAL.negative(), r.getRet());
    assertFalse(names.containsKey("fd:app/bo"));
  }

  @Test
  void passGivesTheReceiverAFdOfItsOwnUnderTheSameName() {
    export();
    StepResult r = call(Step.newBuilder().setProcess("app").setPass(Pass.newBuilder().setName("bo").setTo("peer")));
    assertEquals(0, r.getRet(), r.getDetail());
    assertEquals(r.getValue().getNumber(), names.get("fd:peer/bo").getFd());
  }

  @Test
  void passOfAnFdTheProcessDoesNotHoldFailsWithEBADF() {
    StepResult r = call(Step.newBuilder().setProcess("app").setPass(Pass.newBuilder().setName("nothing").setTo("peer")));
    assertEquals(Errno.EBADF.negative(), r.getRet());
  }

  @Test
  void importOnAnotherDeviceBindsTheBuffersHandleThere() {
    export();
    StepResult r = call(Step.newBuilder().setProcess("app").setImport(Import.newBuilder().setBuffer("bo").setDevice("gpuB")));
    assertEquals(0, r.getRet(), r.getDetail());
    assertEquals(r.getValue().getNumber(), names.get(StepBindings.handle("bo", "gpuB")).getHandle());
  }

  @Test
  void dynamicImportWithoutMoveNotifyFailsWithEINVAL() {
    export();
    StepResult r = call(Step.newBuilder().setProcess("app").setImport(Import.newBuilder().setBuffer("bo").setDevice("gpuB").setNoMoveNotify(true)));
    assertEquals(Errno.EINVAL.negative(), r.getRet());
  }

  @Test
  void mapOnADeviceTheBufferIsNotImportedToFailsWithENOENT() {
    StepResult r = call(Step.newBuilder().setProcess("app").setMap(Map.newBuilder().setBuffer("bo").setDevice("gpuB")));
    assertEquals(Errno.ENOENT.negative(), r.getRet());
    assertFalse(r.getExecuted());
  }

  @Test
  void mapOfAnImportedBufferReturnsItsSegments() {
    export();
    call(Step.newBuilder().setProcess("app").setImport(Import.newBuilder().setBuffer("bo").setDevice("gpuB")));
    StepResult r = call(Step.newBuilder().setProcess("app").setMap(Map.newBuilder().setBuffer("bo").setDevice("gpuB")));
    assertEquals(0, r.getRet(), r.getDetail());
    assertTrue(r.getValue().getNumber() >= 1, "at least one DMA segment");
  }

  @Test
  void submitWithAnOutFenceReturnsTheFenceAndBindsItsSyncFileFd() {
    StepResult r = call(Step.newBuilder().setProcess("app").setSubmit(Submit.newBuilder().setDevice("gpuA").addWrites("bo").setOutFence("done")));
    assertEquals(0, r.getRet(), r.getDetail());
    assertTrue(r.getValue().hasFence());
    assertEquals(Binding.KindCase.FD, names.get("fd:app/done").getKindCase());
  }

  @Test
  void checksumAfterACopyEqualsTheSourcesChecksum() {
    call(Step.newBuilder().setProcess("app").setSubmit(Submit.newBuilder().setDevice("gpuA").addWrites("bo").setLabel("paint")));
    StepResult source = call(Step.newBuilder().setChecksum(Checksum.newBuilder().setBuffer("bo")));
    StepResult before = call(Step.newBuilder().setChecksum(Checksum.newBuilder().setBuffer("dst")));
    assertFalse(source.getOutMap().get("checksum").equals(before.getOutMap().get("checksum")), "distinct contents before the copy");
    call(Step.newBuilder().setProcess("app").setSubmit(Submit.newBuilder().setDevice("gpuA").addReads("bo")
        .setCopy(Copy.newBuilder().setFrom("bo").setTo("dst"))));
    StepResult copied = call(Step.newBuilder().setChecksum(Checksum.newBuilder().setBuffer("dst")));
    assertEquals(0, copied.getRet(), copied.getDetail());
    assertEquals(source.getOutMap().get("checksum"), copied.getOutMap().get("checksum"));
  }

  @Test
  void cpuAccessBeginsAndEndsOnTheBuffersDevice() {
    StepResult r = call(Step.newBuilder().setProcess("app").setCpuAccess(CpuAccess.newBuilder().setBuffer("bo").setDevice("gpuA").setWrite(true)));
    assertEquals(0, r.getRet(), r.getDetail());
  }

  @Test
  void unplugReportsWhatItCancelledAndLaterSubmitsFailWithENODEV() {
    StepResult unplug = call(Step.newBuilder().setUnplug(Unplug.newBuilder().setDevice("gpuA")));
    assertEquals(0, unplug.getRet(), unplug.getDetail());
    assertEquals("2", unplug.getOutMap().get("buffers_released"));
    StepResult submit = call(Step.newBuilder().setProcess("app").setSubmit(Submit.newBuilder().setDevice("gpuA").addWrites("bo")));
    assertEquals(Errno.ENODEV.negative(), submit.getRet());
  }

  @Test
  void hangOfAnEngineIsInjected() {
    StepResult r = call(Step.newBuilder().setHang(Hang.newBuilder().setDevice("gpuA")));
    assertEquals(0, r.getRet(), r.getDetail());
  }

  @Test
  void releasingARunStopsItsDevicesAndProcessesSoTheirNamesAreFreeAgain() {
    Placement.Builder gpu = Placement.newBuilder().setDevice(Device.newBuilder().setName("gpuA-" + run).setNode("n1")).setAs("gpuA");
    assertEquals(Errno.EEXIST.negative(), place(gpu).getRet());

    agent.tell(new dev.fencelab.protocol.control.ReleaseRun(run, run));

    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(0, place(gpu.clone()).getRet(), "the released device's name is free");
      return null;
    });
    StepResult process = place(Placement.newBuilder().setProcess(Process.newBuilder().setName("app-" + run).setNode("n1")).setAs("app"));
    assertEquals(0, process.getRet(), process.getDetail());
  }
}
