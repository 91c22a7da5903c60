/**
 * Cluster membership of a node member: its {@link dev.fencelab.node.cluster.NodeAgent}, the single point
 * through which the coordinator reaches the emulated hardware of this member.
 *
 * <p>Contract:
 * <ul>
 *   <li>Every member with role {@code node} runs exactly one agent, registered with the Receptionist under
 *       {@link dev.fencelab.protocol.control.NodeAgentKey#KEY}. The coordinator finds agents only that way.
 *   <li>The agent answers every {@link dev.fencelab.protocol.control.Ping} with a
 *       {@link dev.fencelab.protocol.control.Pong} carrying this member's wall and monotonic clocks, so that
 *       the coordinator can estimate clock offsets from round trips (DESIGN.md "Time").
 *   <li>The agent answers every {@link dev.fencelab.protocol.control.Register} with this member's
 *       {@link dev.fencelab.protocol.control.NodeInfo}; a repeated Register (a new coordinator after
 *       fail-over) is answered again, never refused.
 *   <li>The agent never blocks and holds no state a restart could not rebuild.
 * </ul>
 */
package dev.fencelab.node.cluster;
