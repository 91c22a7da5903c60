package dev.fencelab.protocol.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Link rates as scenarios write them, in bytes per nanosecond. */
class UnitsRateTest {
  @Test
  void bitRatesDivideByEight() {
    assertEquals(12.5, Units.rate("100Gbit"), 1e-9);
    assertEquals(3.125, Units.rate("25Gbit/s"), 1e-9);
    assertEquals(0.125, Units.rate("1000Mbit"), 1e-9);
  }

  @Test
  void byteRatesAreTakenAsTheyAre() {
    assertEquals(12.5, Units.rate("12.5GB"), 1e-9);
    assertEquals(0.8, Units.rate("800MB/s"), 1e-9);
  }

  @Test
  void anythingElseOrZeroIsMinusOne() {
    assertEquals(-1, Units.rate("fast"));
    assertEquals(-1, Units.rate("0Gbit"));
    assertEquals(-1, Units.rate("100"));
  }
}
