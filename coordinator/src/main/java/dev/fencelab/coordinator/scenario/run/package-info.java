/**
 * Running a scenario on a cluster, from the member that hosts the run (the {@code fencelab run} client): the
 * orchestration of DESIGN.md "Scenarios", one small class per phase.
 *
 * <ul>
 *   <li>{@link dev.fencelab.coordinator.scenario.run.ScenarioRun}: the run's actor — phases in order, nothing blocks;
 *   <li>{@code Clocks}: each node's clock offset (the trace is aligned with it);
 *   <li>{@code Placements}: devices, processes and buffers placed on their nodes;
 *   <li>{@code StepSchedule}: which step may start (its dependencies) and the outcomes;
 *   <li>{@code StepClient}: one {@code ExecuteStep} per step to the node whose kernel makes the call, with the
 *       bindings of the names it uses; {@code Outcomes}: what its {@code StepResult} binds and whether it met its
 *       {@code expect};
 *   <li>{@code Faults}: kill_node, unplug, hang, fail_reset — from steps and the chaos schedule;
 *   <li>{@code Harvest}: the waits still open at the end, and every live node's trace.
 * </ul>
 *
 * <p>Contract: it talks to the nodes only through protocol messages ({@code ExecuteStep}/{@code StepResult},
 * {@code Ping}, {@code ListWaits}, {@code CollectTrace}); the names the nodes bound are kept as protocol values in
 * {@code RunDirectory} (actor references as resolver strings, fences in their wire form). Every call is bounded by the
 * step timeout; a step that needs a node the run killed fails at once with -ENODEV.
 */
package dev.fencelab.coordinator.scenario.run;
