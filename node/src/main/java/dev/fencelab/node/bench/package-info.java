/**
 * {@code fencelab bench fences}: the cost of emulated fences measured against raw Pekko doing the same shape of
 * work in the same run, on a real cluster (DESIGN.md "Performance budget"). Figures, never assertions.
 *
 * <p>{@link dev.fencelab.node.bench.FenceBench} runs inside one node member; cross-node figures use a second node
 * member's agent as the peer. Every figure comes with its raw-Pekko baseline and the ratio.
 */
package dev.fencelab.node.bench;
