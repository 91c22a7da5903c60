/**
 * The scenario runner (DESIGN.md "Scenarios"; the issue "Scenarios, chaos and latency traces").
 *
 * <p>{@link dev.fencelab.node.scenario.ScenarioRunner} drives a validated {@code fencelab.scenario.v1.Scenario} on a
 * cluster through the node agents' protobuf messages only: placement ({@code PlaceDevice}, {@code SpawnProcess},
 * {@code CreateBo}), the steps (the same calls a process makes in the kernel: dma-buf export and import, job
 * submission with sync_file in- and out-fences, sync_file merge, pass and poll, sw_sync timelines, CPU access,
 * dma_resv adds), the faults (unplug, kill node, hang, fail reset), final checksums and the collection of every
 * live node's trace. Its product is a {@code RunRecord}; judging it is the coordinator's checker's job.
 */
package dev.fencelab.node.scenario;
