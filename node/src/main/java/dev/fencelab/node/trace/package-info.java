/**
 * Trace recording on a member (DESIGN.md "Traces and reports", "Time").
 *
 * <p>{@link dev.fencelab.node.trace.TraceRecorder} is the member's bounded, low-overhead event record: actors
 * hand it {@code fencelab.trace.v1.TraceEvent}s (fence created and signalled, wait begin and end, job queued,
 * dependencies, start and end, copies, unplug handling, violations, buffer writes), it keeps the newest
 * {@code fencelab.trace.buffer-events} in memory for {@link dev.fencelab.protocol.control.CollectTrace} and
 * appends every event to {@code <run-dir>/<member>.trace} as it goes, so a SIGKILLed member's events survive it.
 * Events carry the member's monotonic clock and its model clock; aligning wall clocks across members is the
 * collector's job (it measures each member's offset from ping round trips).
 */
package dev.fencelab.node.trace;
