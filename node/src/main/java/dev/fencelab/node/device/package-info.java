/**
 * Devices and engines: the hardware side of GPUs, RDMA NICs and copy engines (DESIGN.md "The emulated world";
 * kernel-semantics §1.19 for reset, §1.2 for fence ordering).
 *
 * <p>A {@link dev.fencelab.node.device.DeviceActor} is placed on a node by its driver and owns its
 * {@link dev.fencelab.node.device.Engine}s. The contract:
 * <ul>
 *   <li><b>Fence contexts.</b> Each engine is its own fence context in the sense of the kernel's scheduler: every
 *       process that submits to an engine gets a scheduler entity there, with its own fence context
 *       ({@code drm_sched_entity}: the user-visible "finished" fences). Jobs of one engine run strictly in
 *       submission order, so each context signals in seqno order — also when a reset cancels one process's jobs
 *       while another's stay queued, which one context per engine could not do without signalling out of order.
 *   <li><b>When a job runs.</b> Once all its dependencies have signalled: explicit in-fences and the implicit fences
 *       the driver collected from its buffers' reservation objects. It then runs for its modelled duration and its
 *       out-fence signals at model time {@code max(engine busy-until, dependencies' model times) + duration}. Pacing
 *       {@code asap} never waits real time; {@code realtime[:SCALE]} waits {@code duration × SCALE}
 *       ({@code fencelab.device.pacing}).
 *   <li><b>Failed dependencies.</b> A job with a failed dependency does not run and writes nothing; its out-fence is
 *       signalled with the error of the first dependency that failed (in completion order), unchanged: a dependency
 *       cancelled with -ECANCELED gives -ECANCELED, one that timed out in a reset gives -ETIME, one whose member died
 *       gives -ENODEV. (drm_sched propagates the dependency's error the same way.)
 *   <li><b>Hang and reset</b> (§1.19). A job still running after the device's job timeout triggers a reset of the
 *       device: the guilty job's fence gets -ETIME; the guilty process's jobs still queued on any engine get
 *       -ECANCELED and its later submissions are refused with -ECANCELED (amdgpu's guilty context); an innocent job
 *       that was running on another engine runs again; innocent queued jobs run afterwards. No hardware fence is left
 *       pending. A timeout reported for a job that an earlier reset already dealt with is ignored. Chaos causes hangs
 *       explicitly ({@code InjectFault HANG_ENGINE}); {@code FAIL_RESET} makes the next reset fail: the device is
 *       wedged, every pending fence gets -EIO (i915's wedged GPU) and every later submission -EIO.
 *   <li><b>Unplug.</b> Every job is cancelled and every fence of every context signalled with -ENODEV; the device
 *       refuses jobs with -ENODEV afterwards.
 * </ul>
 * Messages between driver, device and engines are local to the member and never cross the wire.
 */
package dev.fencelab.node.device;
