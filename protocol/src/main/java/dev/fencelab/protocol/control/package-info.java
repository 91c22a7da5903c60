/**
 * The control-plane contract between the coordinator and the node agents.
 *
 * <p>Both sides of this contract need the same message types and the same serializer, and the
 * coordinator must not depend on {@code node} (DESIGN.md "Modules"), so the contract lives here, next
 * to the schema it maps to ({@code fencelab/control/v1/control.proto}). The emulation messages that
 * only nodes exchange (fences, memory, transfers) are mapped by the node's own {@code wire} package.
 *
 * <ul>
 *   <li>{@link dev.fencelab.protocol.control.NodeControl}: what a node agent accepts
 *       ({@link dev.fencelab.protocol.control.Register}, {@link dev.fencelab.protocol.control.Ping}).
 *       Agents are found through the Receptionist under {@link dev.fencelab.protocol.control.NodeAgentKey#KEY}.
 *   <li>{@link dev.fencelab.protocol.control.CoordinatorControl}: what the coordinator singleton accepts
 *       ({@link dev.fencelab.protocol.control.GetStatus}).
 *   <li>Replies: {@link dev.fencelab.protocol.control.NodeInfo}, {@link dev.fencelab.protocol.control.Pong},
 *       {@link dev.fencelab.protocol.control.ClusterStatus}.
 * </ul>
 *
 * <p>Every message here implements {@link dev.fencelab.protocol.control.ControlMessage}, which is bound to
 * {@link dev.fencelab.protocol.control.ControlSerializer} in this module's {@code reference.conf}. Java
 * serialization is never used.
 */
package dev.fencelab.protocol.control;
