/**
 * RDMA NICs (kernel-semantics §1.16): protection domains, memory regions, completion queues and reliable-connected
 * queue pairs, one {@link dev.fencelab.node.rdma.RdmaNic} actor per NIC, on the NIC's member.
 *
 * <ul>
 *   <li><b>Pinned MRs</b> ({@code ib_umem_get}): the process's {@code mm} accounts the pages against RLIMIT_MEMLOCK
 *       ({@code pinned_vm}) and pins them long-term; the NIC's translation never changes. After {@code munmap} and a new
 *       mapping of the range, the MR still targets the old pages: what an RDMA WRITE puts there, the process never
 *       sees. "RDMA does not use dma_fence at all" — and no notifier either.
 *   <li><b>ODP MRs</b> ({@code ib_umem_odp_get}): an interval notifier per MR. A work request that touches a page the
 *       NIC has no translation for faults it ({@code ib_umem_odp_map_dma_and_lock}: read_begin, hmm_range_fault, -EBUSY
 *       retried up to HMM_RANGE_DEFAULT_TIMEOUT = 1000 ms, then read_retry under umem_mutex). The invalidate callback
 *       zaps the translation without waiting on anything (false when not blockable), so in-flight DMA faults again
 *       and restarts.
 *   <li><b>dma-buf MRs</b> ({@code ib_umem_dmabuf_get[_pinned]}): a dynamic attachment to a GPU's buffer, mapped on
 *       first access after the resv's KERNEL fences, zapped by {@code move_notify} and mapped again, revoked for good
 *       when the exporter goes. The callback's return is answered to the exporter, which frees a revoked buffer only
 *       after it; {@code move_notify_keeps_mapping} is the bug of a callback that keeps the mapping (DMA_AFTER_FREE).
 *   <li><b>Transfers</b>: RDMA WRITE, RDMA READ and SEND/RECV between queue pairs on any NICs and members move the
 *       real content in chunks with a window of outstanding chunks, and complete into CQs with the verbs' status
 *       codes ({@code enum ib_wc_status}). A NIC learns that its peer's member died from a death watch per connected
 *       peer NIC: the active work request ends with RETRY_EXC_ERR and the queue pair's others are flushed.
 * </ul>
 *
 * <p>The NIC issues every DMA and answers every invalidate callback from one actor: once it has acknowledged an
 * invalidation, no later DMA uses the old translation, and DMA it sent before reaches the {@code mm} before the
 * acknowledgement (messages between two actors keep their order), exactly the guarantee the hardware's synchronous
 * zap gives. DMA issued while the NIC works through its mailbox travels to the {@code mm} as one batch (done in order,
 * each DMA answered on its own), sent before anything else the NIC tells an {@code mm} or answers to a callback.
 *
 * <p>As an RC responder does, a NIC coalesces its ACKs: those of the requests it handles together go in one message
 * (at most half the requester's work requests in flight; a partial batch goes once the messages already in the
 * NIC's mailbox are handled, so no ACK waits for traffic that may not come). Each keeps its own PSN and model time,
 * and a NAK goes at once behind the ACKs before it: the requester completes exactly as with one ACK per request.
 */
package dev.fencelab.node.rdma;
