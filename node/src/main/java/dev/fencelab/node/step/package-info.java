/**
 * The node side of the step protocol (DESIGN.md "Scenarios"): one {@code ExecuteStep} in, one {@code StepResult}
 * out. {@link dev.fencelab.node.step.StepExecutor} switches once on the step's action and hands the call to the
 * {@link dev.fencelab.node.step.StepHandler} that lives beside the feature it drives; the handler makes the kernel
 * call and reports what it returned ({@code ret}: the return value as the kernel function gives it, negative errno
 * on error), the value it produced (a number, a flag, null, a fence or a list of fences) and its named outputs.
 *
 * <p>Contract: every request gets exactly one reply, within the step's timeout ({@code -ETIMEDOUT} otherwise); a
 * call that cannot be made (a name not bound, an action this node has no handler for) answers with
 * {@code executed = false} and the errno of the reason. Names: fences travel in the request as references (a
 * fence name is a cluster-wide handle); callbacks and fence contexts are bound on the node that created them, and
 * the runner sends the steps that use them there.
 */
package dev.fencelab.node.step;
