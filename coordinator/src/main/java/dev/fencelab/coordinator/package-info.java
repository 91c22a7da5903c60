/**
 * The control plane of a fencelab cluster (DESIGN.md "Modules", "The runtime").
 *
 * <ul>
 *   <li>{@link dev.fencelab.coordinator.Coordinator}: a cluster singleton on members with role
 *       {@code coordinator}. It discovers node agents through the Receptionist, registers with each
 *       ({@link dev.fencelab.protocol.control.Register} → {@link dev.fencelab.protocol.control.NodeInfo}),
 *       records membership events with timestamps, and answers {@link dev.fencelab.protocol.control.GetStatus}.
 *   <li>{@link dev.fencelab.coordinator.StatusQuery}: one short-lived child per status request; it pings every
 *       agent with a protobuf {@link dev.fencelab.protocol.control.Ping}, watches each, and replies once — when
 *       all answered, died, or the timeout passed. A status request never waits longer than its timeout.
 *   <li>{@link dev.fencelab.coordinator.CoordinatorApi}: the HTTP API the CLI uses
 *       ({@code GET /api/v1/status}, {@code GET /api/v1/health}).
 * </ul>
 *
 * <p>This module talks to nodes only through {@code dev.fencelab.protocol}; it must never depend on
 * {@code node}.
 */
package dev.fencelab.coordinator;
