/**
 * The emulator as a sanitizer (DESIGN.md "Checks"): contract violations and the wait-for graph.
 *
 * <ul>
 *   <li>{@link dev.fencelab.node.check.Violations}: one per member; every primitive reports a
 *       {@link dev.fencelab.node.check.Violation} where the kernel would WARN (and goes on with the state change
 *       the kernel makes), or a fatal one where the kernel would BUG (kernel-semantics, "Emulator conventions").
 *   <li>{@link dev.fencelab.node.check.WaitGraph}: one per member; every outstanding wait is an edge
 *       (who waits, on which fence, why, since when), added when the wait starts and removed when it ends, so
 *       that the waits still pending at any moment — and later, cycles — can be listed.
 * </ul>
 */
package dev.fencelab.node.check;
