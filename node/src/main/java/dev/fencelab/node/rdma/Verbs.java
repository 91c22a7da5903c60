package dev.fencelab.node.rdma;

import dev.fencelab.protocol.Errno;
import java.util.List;
import java.util.Locale;

/** The verbs' constants: access flags ({@code enum ib_access_flags}), opcodes and completion statuses. */
public final class Verbs {
  private Verbs() {}

  public static final int LOCAL_WRITE = 1;
  public static final int REMOTE_WRITE = 1 << 1;
  public static final int REMOTE_READ = 1 << 2;
  public static final int REMOTE_ATOMIC = 1 << 3;
  public static final int ON_DEMAND = 1 << 6;

  /** The access flags a scenario names: local_write, remote_write, remote_read, remote_atomic, on_demand. */
  public static int access(List<String> names) {
    int flags = 0;
    for (String n : names) {
      flags |= switch (n.toLowerCase(Locale.ROOT)) {
        case "local_write" -> LOCAL_WRITE;
        case "remote_write" -> REMOTE_WRITE;
        case "remote_read" -> REMOTE_READ;
        case "remote_atomic" -> REMOTE_ATOMIC;
        case "on_demand" -> ON_DEMAND;
        default -> throw new IllegalArgumentException("access '" + n + "': local_write, remote_write, remote_read, remote_atomic or on_demand");
      };
    }
    return flags;
  }

  /**
   * {@code ib_check_mr_access}: remote write or remote atomic without local write is -EINVAL; on_demand on a device
   * without IBK_ON_DEMAND_PAGING is -EOPNOTSUPP. 0 when the flags are acceptable.
   */
  public static int checkAccess(int flags, boolean deviceOdp) {
    if ((flags & (REMOTE_WRITE | REMOTE_ATOMIC)) != 0 && (flags & LOCAL_WRITE) == 0) {
      return Errno.EINVAL.negative();
    }
    if ((flags & ON_DEMAND) != 0 && !deviceOdp) {
      return Errno.EOPNOTSUPP.negative();
    }
    return 0;
  }

  /**
   * {@code ib_umem_get}'s own checks before the mm's: -EOPNOTSUPP with ON_DEMAND (that is ib_umem_odp_get's), -EINVAL
   * when {@code addr + size} or its page alignment overflows. Unsigned 64-bit arithmetic.
   */
  public static int checkPinnedRange(int flags, long addr, long size) {
    if ((flags & ON_DEMAND) != 0) {
      return Errno.EOPNOTSUPP.negative();
    }
    long end = addr + size;
    if (Long.compareUnsigned(end, addr) < 0 || Long.compareUnsigned((end + 4095) & ~4095L, end) < 0) {
      return Errno.EINVAL.negative();
    }
    return 0;
  }

  /** A work request's operation. */
  public enum Opcode { WRITE, READ, SEND, RECV }

  /** {@code enum ib_wc_status}, with its values. */
  public enum Status {
    SUCCESS(0), LOC_LEN_ERR(1), LOC_QP_OP_ERR(2), LOC_EEC_OP_ERR(3), LOC_PROT_ERR(4), WR_FLUSH_ERR(5), MW_BIND_ERR(6),
    BAD_RESP_ERR(7), LOC_ACCESS_ERR(8), REM_INV_REQ_ERR(9), REM_ACCESS_ERR(10), REM_OP_ERR(11), RETRY_EXC_ERR(12),
    RNR_RETRY_EXC_ERR(13);

    public final int code;

    Status(int code) {
      this.code = code;
    }

    public static Status of(int code) {
      for (Status s : values()) {
        if (s.code == code) {
          return s;
        }
      }
      throw new IllegalArgumentException("no ib_wc_status " + code);
    }

    /** As a scenario writes it: success, wr_flush_err… */
    public String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
