package dev.fencelab.deploy.member;

import java.io.PrintStream;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * Ties a member to the fencelab command that started it ({@code run}, {@code demo}, {@code bench}): when that
 * process is gone — exited, killed by a signal, even SIGKILL, which leaves it no chance to clean up — the member
 * leaves the cluster and exits. A member whose owner is already gone when it starts exits at once. Members of
 * {@code cluster up} have no owner and stay.
 *
 * <p>The owner is watched by the JDK's process handle (its start time guards against a reused pid); the leave is
 * the member's coordinated shutdown, and if that does not end within {@link #HALT_AFTER_SECONDS} the JVM halts.
 */
final class OwnerWatch {
  static final String CONFIG = "fencelab.member.owner-pid";
  static final long HALT_AFTER_SECONDS = 15;

  /** The reason a member gives for leaving when its owner is gone. */
  static final CoordinatedShutdown.Reason OWNER_GONE = new CoordinatedShutdown.Reason() {
    @Override
    public String toString() {
      return "OwnerGone";
    }
  };

  private OwnerWatch() {}

  /** Watches {@code ownerPid} for {@code system}'s member; a no-op for pid 0. */
  static void start(long ownerPid, ActorSystem<?> system, String member, PrintStream out) {
    if (ownerPid <= 0) {
      return;
    }
    Optional<ProcessHandle> owner = ProcessHandle.of(ownerPid);
    if (owner.isEmpty() || !owner.get().isAlive()) {
      leave(system, member, ownerPid, out);
      return;
    }
    owner.get().onExit().thenRun(() -> leave(system, member, ownerPid, out));
  }

  private static void leave(ActorSystem<?> system, String member, long ownerPid, PrintStream out) {
    out.printf("member %s: the fencelab command that started it (pid %d) is gone; leaving%n", member, ownerPid);
    org.slf4j.LoggerFactory.getLogger(OwnerWatch.class).warn("the fencelab command that started this member (pid {}) is gone: leaving",
        ownerPid);
    Thread halt = new Thread(() -> {
      try {
        TimeUnit.SECONDS.sleep(HALT_AFTER_SECONDS);
      } catch (InterruptedException e) {
        return;
      }
      Runtime.getRuntime().halt(1); // the leave did not finish: nothing may outlive its owner
    }, "fencelab-owner-gone-halt");
    halt.setDaemon(true);
    halt.start();
    CoordinatedShutdown.get(Adapter.toClassic(system)).run(OWNER_GONE);
  }
}
