package dev.fencelab.node.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The verbs' flag checks (ib_check_mr_access, ib_umem_get's first checks) and ib_wc_status values. */
class VerbsTest {
  @Test
  void remoteWriteWithoutLocalWriteIsEINVAL() {
    assertEquals(-22, Verbs.checkAccess(Verbs.REMOTE_WRITE, true));
    assertEquals(-22, Verbs.checkAccess(Verbs.REMOTE_ATOMIC | Verbs.REMOTE_READ, true));
    assertEquals(0, Verbs.checkAccess(Verbs.REMOTE_WRITE | Verbs.LOCAL_WRITE, false));
    assertEquals(0, Verbs.checkAccess(Verbs.REMOTE_READ, false));
  }

  @Test
  void onDemandOnANicWithoutOdpIsEOPNOTSUPP() {
    assertEquals(-95, Verbs.checkAccess(Verbs.ON_DEMAND | Verbs.LOCAL_WRITE, false));
    assertEquals(0, Verbs.checkAccess(Verbs.ON_DEMAND | Verbs.LOCAL_WRITE, true));
  }

  @Test
  void ibUmemGetWithOnDemandIsEOPNOTSUPP() {
    assertEquals(-95, Verbs.checkPinnedRange(Verbs.ON_DEMAND, 0x1000, 4096));
  }

  @Test
  void anAddressRangeThatOverflowsIsEINVAL() {
    assertEquals(-22, Verbs.checkPinnedRange(0, -4096L, 8192));
    assertEquals(-22, Verbs.checkPinnedRange(0, -8192L, 4097), "PAGE_ALIGN(addr + size) wraps");
    assertEquals(0, Verbs.checkPinnedRange(0, -8192L, 4096));
  }

  @Test
  void accessNamesMapToTheIbAccessFlags() {
    assertEquals(Verbs.LOCAL_WRITE | Verbs.REMOTE_READ | Verbs.ON_DEMAND, Verbs.access(List.of("local_write", "remote_read", "on_demand")));
    assertThrows(IllegalArgumentException.class, () -> Verbs.access(List.of("remote_everything")));
  }

  @Test
  void completionStatusesHaveTheirIbWcStatusValues() {
    assertEquals(0, Verbs.Status.SUCCESS.code);
    assertEquals(1, Verbs.Status.LOC_LEN_ERR.code);
    assertEquals(4, Verbs.Status.LOC_PROT_ERR.code);
    assertEquals(5, Verbs.Status.WR_FLUSH_ERR.code);
    assertEquals(9, Verbs.Status.REM_INV_REQ_ERR.code);
    assertEquals(10, Verbs.Status.REM_ACCESS_ERR.code);
    assertEquals(12, Verbs.Status.RETRY_EXC_ERR.code);
    assertEquals("rem_access_err", Verbs.Status.REM_ACCESS_ERR.text());
  }
}
