package dev.fencelab.protocol.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ControlSerializerTest {
  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create(
        "control-serializer-test",
        ConfigFactory.parseString("pekko.actor.allow-java-serialization = off\npekko.actor.serialize-messages = on"));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static Stream<ControlMessage> everyControlMessage() {
    var coordinator = testKit.<CoordinatorControl>createTestProbe().ref();
    var infoProbe = testKit.<NodeInfo>createTestProbe().ref();
    var pongProbe = testKit.<Pong>createTestProbe().ref();
    var statusProbe = testKit.<ClusterStatus>createTestProbe().ref();
    return Stream.of(
        new Register(coordinator, infoProbe),
        new NodeInfo("n1", "pekko://fencelab@127.0.0.1:25521", List.of("node"), 4242, 1_700_000_000_000L, "0.1.0", "/user/agent"),
        new Describe(infoProbe),
        new Ping(7, 123_456_789L, pongProbe),
        new Pong("n2", 7, 123_456_789L, 1_700_000_000_000_000L, 987_654_321L),
        new GetStatus(Duration.ofMillis(1500), statusProbe),
        new ClusterStatus(
            "pekko://fencelab@127.0.0.1:25520",
            1_700_000_000_123L,
            List.of(
                new ClusterStatus.Member("pekko://fencelab@127.0.0.1:25520", List.of("coordinator", "dc-default"), "Up", true, ""),
                new ClusterStatus.Member("pekko://fencelab@127.0.0.1:25521", List.of("node"), "Down", false, "n1")),
            List.of(
                new ClusterStatus.Node("n1", "pekko://fencelab@127.0.0.1:25521", true, 350_000L, 4242),
                new ClusterStatus.Node("n2", "pekko://fencelab@127.0.0.1:25522", false, 0L, 4243)),
            Stream.of(ClusterStatus.Kind.values())
                .map(k -> new ClusterStatus.MemberEvent(1_700_000_000_000L + k.ordinal(), k, "pekko://fencelab@127.0.0.1:25521", List.of("node")))
                .toList()),
        new CollectTrace(17, 500, testKit.<TracePage>createTestProbe().ref()),
        new TracePage(dev.fencelab.protocol.trace.v1.TraceChunk.newBuilder().setNode("n1")
            .addEvents(dev.fencelab.protocol.trace.v1.TraceEvent.newBuilder().setKind(dev.fencelab.protocol.trace.v1.EventKind.WAIT_END)
                .setFence("ctx9.3#4").setStatus(-19).setSeq(17).addDeps("a").setWallNanos(-5))
            .setNextSeq(18).setDone(true).build()),
        new Crash("chaos: kill_node n1"),
        new ReleaseRun("r1b", "r1b"),
        new ReleaseRun("r1c", "r1c", testKit.<Ack>createTestProbe().ref()),
        new PauseMember(3_000_000_000L, "chaos #1: pause_node n2"),
        new Blackhole(List.of("pekko://fencelab@127.0.0.1:25521", "pekko://fencelab@127.0.0.1:25522"), true, "step cut",
            testKit.<Ack>createTestProbe().ref()),
        new SetLinkDelay("pekko://fencelab@127.0.0.1:25522", 250_000L, testKit.<Ack>createTestProbe().ref()),
        new Ack("n1", "blackholed 2 member(s)"),
        new ListWaits(testKit.<WaitsListed>createTestProbe().ref()),
        new ListWaits(testKit.<WaitsListed>createTestProbe().ref(), 1500, 20),
        new WaitsListed("n2", List.of(dev.fencelab.protocol.fence.v1.FenceV1.WaitEdge.newBuilder().setWaitId(1).setWaiter("n2/p")
            .setFence("ctx1#1").setFenceAddress("pekko://fencelab@127.0.0.1:1").setReason("poll").setSinceWallNanos(5).build()), 7001, 500));
  }

  @ParameterizedTest
  @MethodSource("everyControlMessage")
  void shouldRoundTripEveryControlMessageThroughProtobuf(ControlMessage message) throws Exception {
    Serializer serializer = serialization.findSerializerFor(message);
    assertEquals(ControlSerializer.IDENTIFIER, serializer.identifier(), "bound serializer for " + message.getClass());

    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    Object back = serialization.deserialize(bytes, serializer.identifier(), manifest).get();

    assertEquals(message, back);
  }

  @Test
  void shouldRejectMalformedProtobufNamingTheMessage() throws Exception {
    ControlSerializer serializer = (ControlSerializer) serialization.serializerFor(Ping.class);
    byte[] garbage = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01, 0x02};

    NotSerializableException e =
        assertThrows(NotSerializableException.class, () -> serializer.fromBinary(garbage, ControlSerializer.PING));

    assertTrue(e.getMessage().contains("malformed protobuf for control message Ping"), e.getMessage());
  }

  @Test
  void shouldRejectUnknownManifest() throws Exception {
    ControlSerializer serializer = (ControlSerializer) serialization.serializerFor(Ping.class);

    NotSerializableException e =
        assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "FromTheFuture"));

    assertTrue(e.getMessage().contains("unknown control-plane manifest 'FromTheFuture'"), e.getMessage());
  }

  @Test
  void shouldRejectPingWithoutReplyTo() throws Exception {
    ControlSerializer serializer = (ControlSerializer) serialization.serializerFor(Ping.class);
    byte[] noReplyTo = dev.fencelab.protocol.control.v1.ControlV1.Ping.newBuilder().setSeq(1).build().toByteArray();

    NotSerializableException e =
        assertThrows(NotSerializableException.class, () -> serializer.fromBinary(noReplyTo, ControlSerializer.PING));

    assertTrue(e.getMessage().contains("Ping: missing actor reference"), e.getMessage());
  }
}
