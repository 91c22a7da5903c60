/**
 * Drivers: the kernel side of a device — buffer objects, command submission with implicit synchronisation, dma-buf
 * export and import, and unplug (kernel-semantics §1.9 dma_resv, §1.12 dma-buf, §1.19 errors, §3.1 the seed story).
 *
 * <p>{@link dev.fencelab.node.driver.DriverActor} is one per device. Its calls (all answer 0 or a negative errno):
 * <ul>
 *   <li><b>Buffers.</b> {@code CreateBo} in VRAM (-ENOMEM beyond the device's memory) or system memory; every buffer
 *       has a {@link dev.fencelab.node.resv.Resv} and content ({@link dev.fencelab.node.memory.Content}). Handles are
 *       per process, like GEM handles: any call naming a handle the process does not have gets -ENOENT. On a device
 *       without page tables this lookup is the only thing that keeps a job to its process's own buffers — the driver
 *       validates every buffer a job touches before it queues the job.
 *   <li><b>Submission.</b> Validate (-ENODEV after unplug, -ENOENT, -EINVAL for a bad engine or copy range); queue the
 *       job on its engine, which allocates the out-fence; then, on every buffer's reservation object, collect the
 *       implicit dependencies and add the out-fence in one locked step ({@link dev.fencelab.node.resv.Resv.Exchange}):
 *       a writer waits for readers and writers, a reader for writers ({@code dma_resv_usage_rw}); the out-fence is
 *       added as WRITE or READ. The caller's answer comes after every reservation object has the out-fence, so any
 *       later submission, on any member, orders after it. The device may refuse the job (-ECANCELED, -EIO).
 *   <li><b>Job effects</b> happen when the engine runs the job, before its fence signals: a compute job writes each
 *       output buffer with a pattern seeded from the job and the checksums of its inputs; a copy job pulls the source
 *       range in chunks (at most {@code fencelab.memory.copy-window} in flight, each a protobuf message) and writes
 *       them to the destination (reads planned from the source's layout: a pattern run in one message, bytes in chunks);
 *       the transfer's model time comes from its route through the run's PCIe fabric ({@link dev.fencelab.node.p2p}).
 *       DMA to memory that is gone reads all-ones and drops writes, reported as {@code DMA_REVOKED}.
 *   <li><b>dma-buf.</b> {@code Export} gives a {@link dev.fencelab.node.driver.DmaBufRef} (the same one on a second
 *       export); {@code Import} attaches to the exporter as a dynamic or static importer (-ENODEV when the exporter is
 *       gone); importing one's own export returns the original handle. {@code MapBo} on an import maps the attachment:
 *       contiguous VRAM is one segment (u64 length), system memory 2 MiB runs; a static importer's mapping pins the
 *       buffer. An importer asks for {@code peer2peer} ({@code allow_peer2peer}); the exporter keeps it only when the
 *       p2pdma distance between the two devices is not negative (§1.13), and maps a VRAM buffer for an attachment
 *       without it by first moving the buffer to system memory — a job on its engine whose fence goes into the resv as
 *       KERNEL, so that every later job waits for the move (-EBUSY when pinned: it cannot move); pinning with such an
 *       attachment pins in GTT. {@code Pin} by a static importer is a WARN ({@code DMA_BUF_PIN_STATIC}). {@code Evict} moves a buffer
 *       to system memory (-EBUSY while pinned) and sends {@code move_notify} to dynamic importers, whose mappings go
 *       stale until they map again. Importers share the exporter's reservation object, so implicit sync spans
 *       devices and members.
 *   <li><b>Sync-file bridge</b> (in {@link dev.fencelab.node.process.ProcessActor}): export is a snapshot of the
 *       fences of {@code dma_resv_usage_rw(write)} (the signalled stub if none); import only adds.
 *   <li><b>CPU access</b> ({@code DMA_BUF_IOCTL_SYNC}): START waits for the implicit fences; END returns at once;
 *       bad flags -EINVAL.
 *   <li><b>Soft unplug</b> ({@code Unplug}), in order: refuse new calls with -ENODEV; signal every pending fence of
 *       the device with -ENODEV and cancel its queued jobs; revoke every importer of its buffers ({@code move_notify}
 *       with revoke: their mappings become invalid and a later map fails with -ENODEV); release its buffers and their
 *       reservation objects — an exported buffer is freed only once every importer's callback returned
 *       ({@code MoveNotified}) and its resv's fences signalled ({@link dev.fencelab.node.driver.BufferRelease}); DMA
 *       that reaches it after is {@code DMA_AFTER_FREE}. Nothing of other devices is touched.
 *   <li><b>Hard unplug</b> (the member dies): importers watch their exporters and revoke the import when the
 *       exporter is gone; waiters see its fences as -ENODEV ({@link dev.fencelab.node.fence.FenceWait}); jobs that
 *       depended on them fail with -ENODEV. The survivors end in the same observable state as after a soft unplug.
 * </ul>
 */
package dev.fencelab.node.driver;
