package dev.fencelab.node.check;

import java.util.Objects;

/**
 * A broken contract, as a kernel WARN (or BUG, when {@code fatal}) would report it.
 *
 * @param subject the object it concerns ({@code ctx7.1a2b#42}, a resv name…)
 * @param detail what happened, for people
 */
public record Violation(Kind kind, String subject, String detail, boolean fatal, long wallNanos) {
  public Violation {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(detail, "detail");
  }

  /** Kinds of violation, with the reference section that defines each. */
  public enum Kind {
    /** §1.3: {@code dma_fence_signal} on a signalled fence (-EINVAL). */
    DOUBLE_SIGNAL,
    /** §1.1 F3: {@code dma_fence_set_error} after the fence signalled. */
    ERROR_AFTER_SIGNAL,
    /** §1.1 F3: an error that is not in [-MAX_ERRNO, -1]. */
    INVALID_ERROR,
    /** §1.1 F4: released while pending with callbacks; force-signalled with -EDEADLK. */
    RELEASED_WITH_PENDING_CALLBACKS,
    /** §1.2: a fence signalled before an earlier seqno of its context. */
    OUT_OF_ORDER_SIGNAL,
    /** §1.6/§1.7/§1.9: a container where only leaves are allowed. */
    NESTED_CONTAINER,
    /** §1.6: a fence array with no fences. */
    EMPTY_ARRAY,
    /** §1.2: comparing fences of different contexts. */
    CONTEXT_MISMATCH,
    /** §1.9: dma_resv_add_fence without a reserved slot (BUG: fatal). */
    RESV_NO_SLOT,
    /** §1.9: adding, reserving or replacing fences without holding the resv lock (dma_resv_assert_held). */
    RESV_NOT_LOCKED,
    /** §1.9: a replacement fence that is not ordered after the fence it replaces (premature-free hazard). */
    RESV_REPLACE_HAZARD,
    /** A wait that would never end in the kernel: it hit fencelab's wait cap. */
    WAIT_CAP_EXCEEDED,
    /** DESIGN.md "Data": DMA to or from memory that was revoked (unplug) or whose owner died: reads all-ones, writes dropped. */
    DMA_REVOKED,
    /**
     * §1.12: DMA into a buffer after its exporter freed it — once every importer's {@code move_notify} (the revoke)
     * returned and the buffer's fences signalled — through a mapping an importer kept (its callback did not zap it).
     */
    DMA_AFTER_FREE,
    /** §1.12: {@code dma_buf_pin} by a static importer (WARN). */
    DMA_BUF_PIN_STATIC,
    /** §1.12: {@code dma_buf_export} with exactly one of {@code pin}/{@code unpin} (WARN; -EINVAL). */
    DMA_BUF_EXPORT_OPS,
    /** §1.12: {@code dma_buf_dynamic_attach} with importer ops but no {@code move_notify} (WARN; -EINVAL). */
    DMA_BUF_NO_MOVE_NOTIFY,
    /** §1.14: an invalidate callback returned false on a blockable range (WARN; the round goes on). */
    NOTIFIER_REFUSED_BLOCKABLE,
    /** §1.14/§1.15: a device accessed pages after the invalidation that covered them was acknowledged (stale translation). */
    STALE_TRANSLATION,
    /** §1.15: an invalidate callback returned while its device still had work on the range (fences unsignalled). */
    NOTIFIER_RETURNED_EARLY,
    /** §1.15: a userptr job published without a successful read_retry: an invalidation since the fault went unnoticed. */
    USERPTR_PUBLISHED_WITHOUT_RETRY,
    /** §1.14: {@code mmu_interval_notifier_remove} from inside an invalidate callback: it waits for itself. */
    NOTIFIER_REMOVE_SELF_DEADLOCK
  }

  @Override
  public String toString() {
    return (fatal ? "FATAL " : "") + kind + " " + subject + ": " + detail;
  }
}
