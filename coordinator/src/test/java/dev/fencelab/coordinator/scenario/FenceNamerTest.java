package dev.fencelab.coordinator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fencelab.protocol.trace.v1.NamedFence;
import dev.fencelab.protocol.trace.v1.RunRecord;
import org.junit.jupiter.api.Test;

/** The verdict's texts with the scenario's fence names beside the ids. */
class FenceNamerTest {
  private final FenceNamer namer = new FenceNamer(RunRecord.newBuilder()
      .addFences(NamedFence.newBuilder().setName("fA").setFence("ctx4.ed26#1"))
      .addFences(NamedFence.newBuilder().setName("inval_done").setFence("ctx12#7")).build());

  @Test
  void aNamedFencesIdReadsWithItsName() {
    assertEquals("n2 gpuB job copy waits on fA (ctx4.ed26#1) -> inval_done (ctx12#7)",
        namer.name("n2 gpuB job copy waits on ctx4.ed26#1 -> ctx12#7"));
  }

  @Test
  void aTextThatAlreadyNamesTheFenceIsLeftAlone() {
    assertEquals("fence fA (ctx4.ed26#1) ended ETIME", namer.name("fence fA (ctx4.ed26#1) ended ETIME"));
  }

  @Test
  void anUnnamedFenceKeepsItsId() {
    assertEquals("fence ctx9.1#3 never signalled", namer.name("fence ctx9.1#3 never signalled"));
  }
}
