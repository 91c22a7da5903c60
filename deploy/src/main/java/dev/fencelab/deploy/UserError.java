package dev.fencelab.deploy;

/**
 * A failure the user can act on: printed as one line ({@code error: ...}) with its exit code, never as a
 * stack trace. Exit code 2 is bad input (usage, malformed file, unknown name); 1 is a runtime failure.
 */
public final class UserError extends RuntimeException {
  public static final int RUNTIME = 1;
  public static final int BAD_INPUT = 2;

  private final int exitCode;

  public UserError(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public static UserError badInput(String message) {
    return new UserError(BAD_INPUT, message);
  }

  public static UserError runtime(String message) {
    return new UserError(RUNTIME, message);
  }

  public int exitCode() {
    return exitCode;
  }
}
