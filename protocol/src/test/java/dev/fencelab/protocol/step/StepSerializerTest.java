package dev.fencelab.protocol.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import dev.fencelab.protocol.scenario.v1.FenceSignal;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import java.io.NotSerializableException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class StepSerializerTest {
  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("step-serializer-test",
        ConfigFactory.parseString("pekko.actor.allow-java-serialization = off\npekko.actor.serialize-messages = on"));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Object roundTrip(Object message) throws NotSerializableException {
    var serializer = serialization.findSerializerFor(message);
    assertEquals(StepSerializer.IDENTIFIER, serializer.identifier());
    byte[] bytes = serialization.serialize(message).get();
    return serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
  }

  @Test
  void anExecuteStepRoundTripsWithItsBindingsAndReplyTo() throws Exception {
    var message = new ExecuteStep(StepRequest.newBuilder().setRun("r1").setStepId("sig")
        .setStep(Step.newBuilder().setSignal(FenceSignal.newBuilder().setFence("f").setError("EIO")))
        .putBindings("p", Binding.newBuilder().setFd(3).build()).setTimeoutNanos(5).build(),
        testKit.<StepReply>createTestProbe().ref());
    assertEquals(message, roundTrip(message));
  }

  @Test
  void aStepReplyRoundTripsWithItsValueAndOutputs() throws Exception {
    var message = new StepReply(StepResult.newBuilder().setRet(-22).setExecuted(true).setValue(Value.newBuilder().setNull(true))
        .putOut("num_fences", "2").setDetail("d").build());
    assertEquals(message, roundTrip(message));
  }

  @Test
  void anUnknownManifestIsRefused() {
    var serializer = new StepSerializer((org.apache.pekko.actor.ExtendedActorSystem) Adapter.toClassic(testKit.system()));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "StepFromTheFuture"));
  }
}
