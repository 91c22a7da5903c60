package dev.fencelab.protocol;

import java.util.HashMap;
import java.util.Map;

/**
 * Linux error numbers as fencelab uses them (kernel-semantics §1.19 and the sections of each primitive).
 * Wire-stable: the number travels, never the name, and a number this version does not know decodes to
 * {@link #UNKNOWN} with the number kept by the caller. Fence errors are negative errnos, as in the kernel:
 * use {@link #negative()}.
 */
public enum Errno {
  /** No error. */
  OK(0),
  EPERM(1),
  ENOENT(2),
  ESRCH(3),
  EINTR(4),
  EIO(5),
  EBADF(9),
  EAGAIN(11),
  ENOMEM(12),
  EFAULT(14),
  EBUSY(16),
  EEXIST(17),
  ENODEV(19),
  EINVAL(22),
  ENOSPC(28),
  ENOTTY(25),
  EDEADLK(35),
  ENODATA(61),
  ETIME(62),
  EOVERFLOW(75),
  EOPNOTSUPP(95),
  ETIMEDOUT(110),
  EALREADY(114),
  ECANCELED(125),
  EREMOTEIO(121),
  ERESTARTSYS(512),
  /** A number this version does not know (a newer peer). */
  UNKNOWN(-1);

  /** The kernel's MAX_ERRNO: errors are in [-4095, -1]. */
  public static final int MAX_ERRNO = 4095;

  private static final Map<Integer, Errno> BY_CODE = new HashMap<>();

  static {
    for (Errno e : values()) {
      BY_CODE.put(e.code, e);
    }
  }

  private final int code;

  Errno(int code) {
    this.code = code;
  }

  /** The positive errno ({@code EINVAL} → 22). */
  public int code() {
    return code;
  }

  /** As the kernel returns it: {@code -EINVAL} → -22. */
  public int negative() {
    return -code;
  }

  /** From a positive or negative number; unknown numbers give {@link #UNKNOWN}. */
  public static Errno of(int code) {
    return BY_CODE.getOrDefault(Math.abs(code), UNKNOWN);
  }

  /** The errno of that name ("EINVAL"), or null for a name this version does not know. */
  public static Errno byName(String name) {
    try {
      Errno e = valueOf(name.startsWith("-") ? name.substring(1) : name);
      return e == UNKNOWN ? null : e;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** {@code -EINVAL}, or the raw number for unknown codes. */
  public static String describe(int negativeCode) {
    if (negativeCode == 0) {
      return "0";
    }
    Errno e = of(negativeCode);
    return e == UNKNOWN ? Integer.toString(negativeCode) : (negativeCode < 0 ? "-" : "") + e.name();
  }
}
