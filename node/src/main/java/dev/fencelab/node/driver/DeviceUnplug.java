package dev.fencelab.node.driver;

import dev.fencelab.node.device.DeviceActor;
import dev.fencelab.node.mm.AddressSpace;
import dev.fencelab.node.mm.MmProtocol;
import dev.fencelab.node.trace.TraceRecorder;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A driver's hot-unplug ({@code drm_dev_unplug}; kernel-semantics §1.12, §1.17, §1.19), the steps of the amdgpu unplug
 * discussion: 1. no new submissions (every later call answers {@code -ENODEV}); 2. every pending fence signalled with
 * {@code -ENODEV} and the queued jobs cancelled (the device does that); 3. every importer revoked ({@code move_notify});
 * 4. the device's buffers freed as their importers and fences allow ({@link BufferRelease}). Steps 2 and 3 start in the
 * same turn; with HMM, every device-private page goes back to system memory ({@code dmirror_device_remove_chunks})
 * after step 2 and before step 4.
 * Traced as {@code UNPLUG_BEGIN} … {@code UNPLUG_END}, answered with a {@link DriverProtocol.UnplugReport}; a second
 * unplug reports nothing more. Touched on the driver's thread only.
 */
final class DeviceUnplug {
  private final DriverContext d;
  private final BufferRelease release;
  private final org.apache.pekko.actor.typed.ActorRef<DeviceActor.Command> device;
  private final String deviceName;
  /** The mms holding device-private pages in this device's memory (HMM): evicted on unplug. */
  private final Set<org.apache.pekko.actor.typed.ActorRef<MmProtocol.Command>> hmmHolders = new LinkedHashSet<>();

  DeviceUnplug(DriverContext d, BufferRelease release, org.apache.pekko.actor.typed.ActorRef<DeviceActor.Command> device,
      String deviceName) {
    this.d = d;
    this.release = release;
    this.device = device;
    this.deviceName = deviceName;
  }

  void holdsDevicePrivate(org.apache.pekko.actor.typed.ActorRef<MmProtocol.Command> mm) {
    hmmHolders.add(mm);
  }

  void unplug(DriverProtocol.Unplug unplug) {
    if (d.unplugged) {
      unplug.replyTo().tell(new DriverProtocol.UnplugReport(deviceName, 0, 0, 0));
      return;
    }
    d.unplugged = true; // 1. no new submissions
    TraceRecorder.get(d.system()).record(TraceRecorder.event(EventKind.UNPLUG_BEGIN, d.label).setSubject(deviceName));
    int revoked = 0;
    int released = 0;
    for (Bo bo : d.bos.values()) {
      if (bo.imported != null) {
        if (!bo.revoked) {
          bo.imported.exporter().tell(new DriverProtocol.Detach(bo.imported.exporterHandle(), bo.attachment));
        }
        continue;
      }
      for (Bo.Attachment a : bo.attachments.values()) { // 3. revoke every importer
        a.importer.tell(new DriverProtocol.MoveNotify(a.importerHandle, true));
        revoked++;
      }
      released++;
    }
    int revokedCount = revoked;
    int releasedCount = released;
    // 2. signal every pending fence with -ENODEV and cancel queued jobs; then (HMM) evict every device-private page back
    // to system memory; then 4. release everything.
    d.ask(Integer.class, device, d.settings.callTimeout(), DeviceActor.Unplug::new,
        (n, failure) -> evictDevicePrivate(List.copyOf(hmmHolders), 0, 0, System.nanoTime(),
            () -> unplugged(n == null ? 0 : n, unplug, revokedCount, releasedCount)));
  }

  /**
   * dmirror_device_remove_chunks: before the device's memory goes, every device-private page in it is migrated back to
   * system memory, mm by mm (bounded by the call timeout each: a dead mm has nothing left to evict); traced with its latency.
   */
  private void evictDevicePrivate(List<org.apache.pekko.actor.typed.ActorRef<MmProtocol.Command>> mms, int i, long pages, long began,
      Runnable then) {
    if (i == mms.size()) {
      if (pages > 0) {
        TraceRecorder.get(d.system()).record(TraceRecorder.event(EventKind.MARK, d.label).setName("device-private pages evicted")
            .setSubject(deviceName).setBytes(pages * AddressSpace.PAGE).setWallNanos(began).setWallEndNanos(System.nanoTime())
            .setDetail(pages + " page(s) of " + mms.size() + " process(es) back in system memory before the unplug"));
      }
      hmmHolders.clear();
      then.run();
      return;
    }
    d.ask(MmProtocol.Result.class, mms.get(i), d.settings.callTimeout(),
        r -> new MmProtocol.EvictDevicePrivate(d.endpoint.isEmpty() ? deviceName : d.endpoint, r), // as the scenario names it
        (r, failure) -> evictDevicePrivate(mms, i + 1, pages + (r == null ? 0 : r.value()), began, then));
  }

  private void unplugged(int cancelled, DriverProtocol.Unplug unplug, int revoked, int released) {
    release.release(d.bos.values().stream().filter(bo -> bo.imported == null).toList()); // freed as importers and fences allow
    for (Bo bo : d.bos.values()) {
      if (bo.userptr != null) {
        d.stop(bo.userptr); // mmu_interval_notifier_remove: the mm drops the subscription
      }
    }
    d.bos.clear();
    d.vramUsed = 0;
    d.log("{}: unplugged: {} jobs cancelled, {} importers revoked, {} buffers released", d.label, cancelled, revoked, released);
    TraceRecorder.get(d.system()).record(TraceRecorder.event(EventKind.UNPLUG_END, d.label).setSubject(deviceName)
        .setDetail(cancelled + " jobs cancelled, " + revoked + " importers revoked, " + released + " buffers released"));
    unplug.replyTo().tell(new DriverProtocol.UnplugReport(deviceName, cancelled, revoked, released));
  }
}
