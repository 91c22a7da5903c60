/**
 * The protobuf mapping of every node message that may cross members: one codec per message type, registered in
 * {@link dev.fencelab.node.wire.NodeSerializer}, with a stable manifest. The serializer holds the fence core (commands,
 * replies, links, owners, the shared sub-messages); each other feature registers its codecs from its own class
 * ({@code ContainerCodecs}, {@code SwSyncCodecs}, {@code ProcessCodecs}, {@code ResvCodecs}, {@code FenceControlCodecs},
 * {@code DeviceCodecs}, {@code MmCodecs}, {@code RdmaCodecs}, {@code BenchCodecs}).
 *
 * <p>Contract: codecs depend on the domain types, never the reverse — domain messages carry only the marker
 * {@link dev.fencelab.node.NodeWireMessage}, which lives outside this package. Actor references travel as resolver
 * strings, errors as negative errnos, fields are only ever added. A payload that does not parse, or a manifest from a
 * newer peer, is a {@code NotSerializableException} naming it: Artery drops the message and the receiving actor never
 * sees half of one. {@code NodeSerializerTest} round-trips every registered message.
 */
package dev.fencelab.node.wire;
