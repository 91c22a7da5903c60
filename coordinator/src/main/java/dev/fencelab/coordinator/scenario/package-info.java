/**
 * Scenarios as data, and everything that judges a run (DESIGN.md "Scenarios"), over protobuf records only.
 *
 * <ul>
 *   <li>{@link dev.fencelab.coordinator.scenario.ScenarioLoader} reads YAML or JSON onto {@code scenario.proto} with the
 *       line of every field; {@link dev.fencelab.coordinator.scenario.ScenarioValidator} checks references, order, units
 *       and expectations. Together they list every problem in one pass ({@code fencelab check}); a bad scenario starts
 *       nothing.
 *   <li>{@link dev.fencelab.coordinator.scenario.ScenarioOverrides} applies {@code --set OBJECT.FIELD=VALUE} and expands a
 *       scenario's {@code matrix:} into its variants, each checked again like a file.
 *   <li>{@link dev.fencelab.coordinator.scenario.ChaosSchedule} draws the seeded fault schedule: same seed, same
 *       schedule.
 *   <li>{@link dev.fencelab.coordinator.scenario.VerdictChecker} judges the collected trace, never what the runner
 *       believes: fences complete once, waits end, dead nodes' waiters see an error, errors propagate, no unexpected
 *       violation, surviving data intact, and each step's {@code expect} met (a step that returns the error it expects
 *       succeeds; one that does not is a failure naming the step, its line and both values).
 *   <li>{@link dev.fencelab.coordinator.scenario.LockOrder} is the run's lockdep (kernel-semantics §1.18): the dependencies
 *       the members saw first ({@code LOCK_DEP}), merged per emulated host after the boot priming chain; a new
 *       dependency that closes a cycle is a {@code SIGNALLING_*} (V1-V5) or {@code LOCK_ORDER} violation with both paths.
 *   <li>{@link dev.fencelab.coordinator.scenario.Latencies}, {@link dev.fencelab.coordinator.scenario.ChromeTrace} and
 *       {@link dev.fencelab.coordinator.scenario.RunReport} turn the record into percentiles, Perfetto traces and a report.
 * </ul>
 */
package dev.fencelab.coordinator.scenario;
