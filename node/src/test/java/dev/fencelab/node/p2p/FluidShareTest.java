package dev.fencelab.node.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FluidShareTest {
  /** Every resource carries 1 byte per nanosecond, except "slow" (0.25) and "dram" (2). */
  private final FluidShare share = new FluidShare(r -> r.equals("slow") ? 0.25 : r.equals("dram") ? 2.0 : 1.0);

  @Test
  void aTransferAloneGetsItsSlowestResource() {
    share.add(1, 100, 1000, Map.of("link/up", 1, "slow", 1));
    assertEquals(100 + 4000, share.finish(1));
  }

  @Test
  void twoTransfersThroughOneLinkEachGetHalf() {
    share.add(1, 0, 1000, Map.of("uplink/up", 1));
    share.add(2, 0, 1000, Map.of("uplink/up", 1));
    assertEquals(2000, share.finish(1));
    assertEquals(2000, share.finish(2));
  }

  @Test
  void fourTransfersThroughOneUplinkEachGetAQuarter() {
    for (int i = 1; i <= 4; i++) {
      share.add(i, 0, 1000, Map.of("gpu" + i + "/up", 1, "uplink/up", 1));
    }
    for (int i = 1; i <= 4; i++) {
      assertEquals(4000, share.finish(i));
    }
  }

  @Test
  void oppositeDirectionsDoNotShare() {
    share.add(1, 0, 1000, Map.of("link/up", 1));
    share.add(2, 0, 1000, Map.of("link/down", 1));
    assertEquals(1000, share.finish(1));
    assertEquals(1000, share.finish(2));
  }

  @Test
  void aTransferCrossingAResourceTwiceUsesItTwice() {
    share.add(1, 0, 1000, Map.of("dram", 2)); // a bounce: written to DRAM, read back
    assertEquals(1000, share.finish(1));
  }

  @Test
  void aLaterTransferSharesOnlyWhileBothAreInFlight() {
    share.add(1, 0, 1000, Map.of("link/up", 1));
    share.add(2, 500, 1000, Map.of("link/up", 1));
    // 0..500 alone (500 B), then half each: the first's last 500 B take 1000 ns
    assertEquals(1500, share.finish(1));
    assertEquals(2000, share.finish(2));
  }

  @Test
  void aMaxMinShareGivesTheUnconstrainedTransferWhatTheSlowOneCannotUse() {
    share.add(1, 0, 250, Map.of("link/up", 1, "slow", 1)); // limited to 0.25 by "slow"
    share.add(2, 0, 750, Map.of("link/up", 1));             // gets the other 0.75
    assertEquals(1000, share.finish(1));
    assertEquals(1000, share.finish(2));
  }

  @Test
  void aFinishedTransferIsNeverRevisedAndLaterOnesGetWhatItLeft() {
    share.add(1, 0, 1000, Map.of("link/up", 1));
    assertEquals(1000, share.finish(1)); // alone when it finished
    share.add(2, 0, 1000, Map.of("link/up", 1));
    assertEquals(2000, share.finish(2)); // the link was full until 1000
  }

  @Test
  void aCancelledTransferUsesNothing() {
    share.add(1, 0, 1000, Map.of("link/up", 1));
    share.add(2, 0, 1000, Map.of("link/up", 1));
    share.cancel(1);
    assertEquals(1000, share.finish(2));
  }

  @Test
  void anEmptyTransferEndsWhenItStarts() {
    share.add(1, 42, 0, Map.of("link/up", 1));
    assertEquals(42, share.finish(1));
  }

  @Test
  void anUnknownTransferHasNoEnd() {
    assertEquals(-1, share.finish(9));
  }
}
