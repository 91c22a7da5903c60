package dev.fencelab.node.device;

import java.time.Duration;
import java.util.Objects;

/**
 * What a device is and can do (DESIGN.md "The emulated world").
 *
 * @param name unique on its node ({@code gpu0})
 * @param engines how many engines (rings); each is its own fence context
 * @param vramBytes device memory; 0 for a device without VRAM (a NIC); VRAM buffers beyond it fail with -ENOMEM
 * @param pageTables per-process page tables (isolation by the MMU). Without them the driver validates every buffer
 *     a job touches against the submitting process (the command-parser story)
 * @param recoverableFaults recoverable page faults (ODP/HMM-capable); recorded, used by later memory features
 * @param jobTimeout the driver's job timeout (amdgpu {@code lockup_timeout}, 10 s by default in the kernel)
 * @param userptrPolicy how the driver keeps userptr buffers valid (kernel-semantics §1.15, §3.9)
 * @param preemptTime how long a preemption takes under {@link UserptrPolicy#PREEMPT}
 * @param faultInRunJob the bug of §3.5 (D4): the driver faults its userptr pages in run_job, after the job's fence is
 *     published, instead of before (it then takes mmap_lock inside the signalling path)
 * @param skipRetry the bug of §1.15 step 4: the driver publishes without checking read_retry under its notifier lock
 * @param foreignFenceTimeout i915's bound on waits for other devices' fences (§3.9): a job whose foreign in-fence has
 *     not signalled by then fails with -ETIMEDOUT instead of waiting on; zero for none
 * @param signalling what the driver's signalling paths do beyond signalling (§3.2-§3.8's mistakes, for the lockdep check)
 */
public record DeviceSpec(
    String name, Kind kind, int engines, long vramBytes, boolean pageTables, boolean recoverableFaults, Duration jobTimeout,
    UserptrPolicy userptrPolicy, Duration preemptTime, boolean faultInRunJob, boolean skipRetry, Duration foreignFenceTimeout,
    SignallingPath signalling) {

  /**
   * What run_job and the reset handler do inside their signalling sections (kernel-semantics §1.18, §3.2-§3.8): nothing by
   * default. {@code runJobGfp}/{@code resetGfp}: they allocate with that gfp (null: they do not allocate).
   */
  public record SignallingPath(dev.fencelab.node.lockdep.Gfp runJobGfp, boolean runJobTakesResv, dev.fencelab.node.lockdep.Gfp resetGfp,
      boolean runJobTakesNotifierLock) {
    public static final SignallingPath CLEAN = new SignallingPath(null, false, null, false);
  }

  /** How a driver's userptr invalidate callback keeps the device off pages the mm takes away (§3.9). */
  public enum UserptrPolicy {
    /** amdgpu gfx: take the notifier lock, set the seq, wait for the buffer's fences (BOOKKEEP). */
    WAIT,
    /** amdkfd: preempt the process's queues (bounded), drop the translation; the next access revalidates. */
    PREEMPT,
    /** Recoverable page faults (ODP-like): drop the translation and return at once; the device faults it back. */
    FAULT,
    /** No notifier: the pages are pinned (FOLL_LONGTERM) when the buffer is made and stay the device's. */
    PIN,
    /** A broken driver: returns at once and keeps using the old translation. */
    NONE
  }

  /** A device with the default userptr policy (wait) and preemption time (100 us). */
  public DeviceSpec(String name, Kind kind, int engines, long vramBytes, boolean pageTables, boolean recoverableFaults, Duration jobTimeout) {
    this(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, UserptrPolicy.WAIT, Duration.ofNanos(100_000), false, false, Duration.ZERO, SignallingPath.CLEAN);
  }

  /** A device without the run_job fault bug. */
  public DeviceSpec(String name, Kind kind, int engines, long vramBytes, boolean pageTables, boolean recoverableFaults, Duration jobTimeout,
      UserptrPolicy userptrPolicy, Duration preemptTime) {
    this(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime, false, false, Duration.ZERO, SignallingPath.CLEAN);
  }

  /** Kinds of device. */
  public enum Kind {
    GPU,
    RDMA_NIC,
    COPY_ENGINE
  }

  public DeviceSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(jobTimeout, "jobTimeout");
    Objects.requireNonNull(userptrPolicy, "userptrPolicy");
    Objects.requireNonNull(preemptTime, "preemptTime");
    Objects.requireNonNull(foreignFenceTimeout, "foreignFenceTimeout");
    Objects.requireNonNull(signalling, "signalling");
    if (name.isEmpty() || !name.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("device name must be letters, digits, '_', '.', '-': '" + name + "'");
    }
    if (engines < 1 || engines > 64) {
      throw new IllegalArgumentException("a device has 1..64 engines, not " + engines);
    }
    if (vramBytes < 0) {
      throw new IllegalArgumentException("negative VRAM size " + vramBytes);
    }
    if (jobTimeout.isNegative() || jobTimeout.isZero()) {
      throw new IllegalArgumentException("job timeout must be positive: " + jobTimeout);
    }
  }

  /** A GPU as the seed story has it: one engine, VRAM, page tables, no recoverable faults, a 10 s timeout. */
  public static DeviceSpec gpu(String name) {
    return new DeviceSpec(name, Kind.GPU, 1, 16L << 30, true, false, Duration.ofSeconds(10));
  }

  public DeviceSpec withJobTimeout(Duration timeout) {
    return new DeviceSpec(name, kind, engines, vramBytes, pageTables, recoverableFaults, timeout, userptrPolicy, preemptTime, faultInRunJob, skipRetry, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withEngines(int n) {
    return new DeviceSpec(name, kind, n, vramBytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime, faultInRunJob, skipRetry, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withPageTables(boolean on) {
    return new DeviceSpec(name, kind, engines, vramBytes, on, recoverableFaults, jobTimeout, userptrPolicy, preemptTime, faultInRunJob, skipRetry, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withVram(long bytes) {
    return new DeviceSpec(name, kind, engines, bytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime, faultInRunJob, skipRetry, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withUserptr(UserptrPolicy policy, Duration preempt) {
    return new DeviceSpec(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, policy, preempt, faultInRunJob, skipRetry, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withFaultInRunJob(boolean on) {
    return new DeviceSpec(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime, on, skipRetry, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withSkipRetry(boolean on) {
    return new DeviceSpec(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime,
        faultInRunJob, on, foreignFenceTimeout, signalling);
  }

  public DeviceSpec withForeignFenceTimeout(Duration timeout) {
    return new DeviceSpec(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime,
        faultInRunJob, skipRetry, timeout, signalling);
  }

  public DeviceSpec withSignalling(SignallingPath path) {
    return new DeviceSpec(name, kind, engines, vramBytes, pageTables, recoverableFaults, jobTimeout, userptrPolicy, preemptTime,
        faultInRunJob, skipRetry, foreignFenceTimeout, path);
  }
}
