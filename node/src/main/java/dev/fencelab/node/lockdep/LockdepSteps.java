package dev.fencelab.node.lockdep;

import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.node.step.StepHandler;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.step.v1.StepResult;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Kernel code paths written by hand (kernel-semantics §1.18): {@code begin_signalling}, {@code end_signalling},
 * {@code lock} and {@code unlock} on a named kernel thread of the step's node ({@link KernelThreads}); and, through
 * {@link #threaded}, the {@code thread} of alloc, wait, wait_timeout and signal — the call is made by that thread, so a
 * wait is a might_wait with its locks held and an allocation a might_alloc with its gfp.
 */
public final class LockdepSteps implements StepHandler {
  public static List<Step.ActionCase> actions() {
    return List.of(Step.ActionCase.BEGIN_SIGNALLING, Step.ActionCase.END_SIGNALLING, Step.ActionCase.LOCK, Step.ActionCase.UNLOCK);
  }

  /** The actions that take a {@code thread}. */
  public static List<Step.ActionCase> threadedActions() {
    return List.of(Step.ActionCase.WAIT, Step.ActionCase.WAIT_TIMEOUT, Step.ActionCase.SIGNAL, Step.ActionCase.ALLOC);
  }

  @Override
  public CompletionStage<StepResult> execute(StepCall call) {
    Step step = call.step();
    KernelThreads threads = KernelThreads.of(call);
    return switch (step.getActionCase()) {
      case BEGIN_SIGNALLING -> {
        var b = step.getBeginSignalling();
        boolean cookie = threads.beginSignalling(thread(b.getThread()), b.getAtomic());
        yield StepCall.done(StepCall.ret(0).setValue(StepCall.flag(cookie))
            .setDetail(cookie ? "cookie true: " + (b.getAtomic() ? "atomic context" : "already in a section") + ", nothing acquired"
                : "dma_fence_map read-held"));
      }
      case END_SIGNALLING -> {
        threads.endSignalling(thread(step.getEndSignalling().getThread()));
        yield StepCall.done(StepCall.ret(0));
      }
      case LOCK -> lock(call, threads, step.getLock());
      case UNLOCK -> {
        var u = step.getUnlock();
        threads.unlock(thread(u.getThread()), name(u.getLock()));
        yield StepCall.done(StepCall.ret(0));
      }
      default -> throw new StepFailure(Errno.EOPNOTSUPP, "not a lockdep step: " + step.getActionCase());
    };
  }

  private static CompletionStage<StepResult> lock(StepCall call, KernelThreads threads, dev.fencelab.protocol.scenario.v1.LockAcquire l) {
    String thread = thread(l.getThread());
    String name = name(l.getLock());
    String holders = threads.holders(name);
    String what = "step " + call.stepId() + ": " + (l.getTrylock() ? "trylock " : l.getRead() ? "down_read " : "lock ") + name;
    long bound = call.timeout().toNanos();
    return threads.lock(thread, name, l.getRead(), l.getTrylock(), what).orTimeout(bound, TimeUnit.NANOSECONDS).handle((got, failure) -> {
      if (failure != null) {
        return StepCall.ret(Errno.ETIMEDOUT.negative()).setExecuted(true)
            .setDetail("thread " + thread + " still waits for " + name + " held by " + holders
                + " after the step's bound: the kernel would wait forever").build();
      }
      if (l.getTrylock()) {
        return StepCall.ret(got ? 1 : 0).setValue(StepCall.flag(got)).build();
      }
      return StepCall.ret(0).build();
    });
  }

  /**
   * {@code inner} with the step's {@code thread} honoured: the thread makes the call (a might_wait for the waits, a
   * signalling section around a signal, a might_alloc for an allocation — without a process, only the annotation).
   */
  public static StepHandler threaded(StepHandler inner) {
    return call -> {
      Step step = call.step();
      String thread = switch (step.getActionCase()) {
        case WAIT -> step.getWait().getThread();
        case WAIT_TIMEOUT -> step.getWaitTimeout().getThread();
        case SIGNAL -> step.getSignal().getThread();
        case ALLOC -> step.getAlloc().getThread();
        default -> "";
      };
      if (thread.isEmpty()) {
        return inner.execute(call);
      }
      KernelTask task = KernelThreads.of(call).thread(thread).task();
      String what = "step " + call.stepId() + ": ";
      switch (step.getActionCase()) {
        case WAIT -> task.mightWait(what + "wait on " + (step.getWait().getFence().isEmpty() ? "buffer " + step.getWait().getBuffer()
            : step.getWait().getFence()));
        case WAIT_TIMEOUT -> task.mightWait(what + "dma_fence_wait_timeout(" + step.getWaitTimeout().getFence() + ")");
        case SIGNAL -> task.signal();
        case ALLOC -> {
          String text = step.getAlloc().getGfp().isEmpty() ? "kernel" : step.getAlloc().getGfp();
          Gfp gfp = Gfp.parse(text);
          if (gfp == null) {
            throw new StepFailure(Errno.EINVAL, "gfp '" + text + "': kernel, nofs, noio, atomic or nowait");
          }
          task.mightAlloc(gfp, what + "kmalloc(" + gfp.kernelName() + ")");
          if (step.getProcess().isEmpty()) {
            return StepCall.done(StepCall.ret(0).setDetail("might_alloc(" + gfp.kernelName() + ") by thread " + thread + ": nothing allocated"));
          }
        }
        default -> {}
      }
      return inner.execute(call);
    };
  }

  private static String thread(String name) {
    if (name.isEmpty()) {
      throw new StepFailure(Errno.EINVAL, "name the kernel thread: thread: <name>");
    }
    return name;
  }

  private static String name(String lock) {
    if (lock.isEmpty()) {
      throw new StepFailure(Errno.EINVAL, "name the lock: lock: <name>");
    }
    return lock;
  }
}
