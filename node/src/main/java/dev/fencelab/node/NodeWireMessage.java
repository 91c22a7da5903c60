package dev.fencelab.node;

/**
 * Marker of every node message that may cross members; bound to {@link dev.fencelab.node.wire.NodeSerializer} in
 * {@code reference.conf}. Messages that never leave their JVM implement
 * {@code NoSerializationVerificationNeeded} instead.
 */
public interface NodeWireMessage {}
