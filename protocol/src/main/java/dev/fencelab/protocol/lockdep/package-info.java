/**
 * The lock classes of the emulated kernel, as members record them in {@code LOCK_DEP} trace events and the
 * coordinator's lock-order check reads them (kernel-semantics §1.18).
 */
package dev.fencelab.protocol.lockdep;
