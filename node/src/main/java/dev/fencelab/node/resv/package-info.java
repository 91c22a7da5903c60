/**
 * {@code dma_resv}: reservation objects (kernel-semantics §1.9), one actor per object.
 *
 * <p>Contract:
 * <ul>
 *   <li><b>Modern mode</b> (≥ v5.19): fences carry a usage, KERNEL &lt; WRITE &lt; READ &lt; BOOKKEEP; a query for
 *       usage U returns every fence whose usage ≤ U. {@code add_fence} replaces in place the first entry that is of
 *       the same context with a usage not weaker and not later than the new fence, or that has already signalled;
 *       otherwise it appends into a reserved slot. Adding never removes fences of other contexts.
 *   <li><b>2020 mode</b> (v5.8–v5.10): one exclusive fence and a shared list. Adding a shared fence replaces a
 *       shared fence of the same context regardless of seqno (or a signalled one); adding an exclusive fence drops
 *       every shared fence. The mode is chosen per cluster ({@code fencelab.resv.mode}).
 *   <li><b>Premature-free check</b>: whenever fences are dropped or replaced, each unsignalled fence removed must be
 *       ordered before its replacement (same context and not later, or a leaf of it); otherwise a
 *       {@code RESV_REPLACE_HAZARD} violation is recorded — König's "security hazard of replacing a fence". The
 *       modern rules never trigger it; the 2020 exclusive add does whenever it drops a fence it does not wait for.
 *   <li><b>Slots</b>: {@code reserve_fences(n)} grows capacity to {@code max(4, roundup_pow_of_two(n))} the first
 *       time and {@code max(num + n, 2 * max)} later, compacting signalled fences; unlocking resets capacity to the
 *       fence count (CONFIG_DEBUG_MUTEXES), so a missing reserve is always caught. Adding without a slot is the
 *       kernel's BUG: a fatal violation, and the add is refused with {@code -ENOSPC}.
 *   <li><b>Lock</b>: a ww_mutex, wait-die: a context younger than the holder gets {@code -EDEADLK} and must back
 *       off ({@code LockSlow} then waits regardless of age); an older one waits; the holder's own context gets
 *       {@code -EALREADY}. Adding or reserving without holding the lock is a violation (lockdep's
 *       {@code dma_resv_assert_held}); a holder whose actor dies releases the lock. No lock wait outlasts the wait
 *       cap. ({@code reservation_ww_class} is taken to be wait-die; the reference does not say which.)
 * </ul>
 */
package dev.fencelab.node.resv;
