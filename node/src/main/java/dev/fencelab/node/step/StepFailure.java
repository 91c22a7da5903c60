package dev.fencelab.node.step;

import dev.fencelab.protocol.Errno;

/**
 * The call could not be made as the step describes it (a name the node does not know, a value it cannot read): the
 * step fails with {@code errno} and its detail, and the result is marked not executed.
 */
public final class StepFailure extends RuntimeException {
  private final Errno errno;

  public StepFailure(Errno errno, String detail) {
    super(detail, null, false, false);
    this.errno = errno;
  }

  public Errno errno() {
    return errno;
  }
}
