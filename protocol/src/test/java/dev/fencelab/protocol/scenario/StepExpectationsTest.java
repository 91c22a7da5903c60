package dev.fencelab.protocol.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.protocol.scenario.v1.StepExpect;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepExpectationsTest {
  private static StepExpectations.Observed got(long ret, String value, List<String> values) {
    return new StepExpectations.Observed(ret, "", value, values, Map.of());
  }

  @Test
  void anErrnoIsMetByItsNegativeReturn() {
    assertTrue(StepExpectations.mismatches(StepExpect.newBuilder().setErrno("EINVAL").build(), got(-22, null, null)).isEmpty());
  }

  @Test
  void anUnmetErrnoNamesBothValues() {
    assertEquals(List.of("errno: expected ENOENT, got 0"),
        StepExpectations.mismatches(StepExpect.newBuilder().setErrno("ENOENT").build(), got(0, null, null)));
  }

  @Test
  void anUnmetRetShowsTheErrnoNameOfWhatCame() {
    assertEquals(List.of("ret: expected 0, got -2 (ENOENT)"),
        StepExpectations.mismatches(StepExpect.newBuilder().setRet(0).build(), got(-2, null, null)));
  }

  @Test
  void aValueOfNullNeedsANullValue() {
    StepExpect e = StepExpect.newBuilder().setValue("null").build();
    assertTrue(StepExpectations.mismatches(e, got(0, "null", null)).isEmpty());
    assertEquals(1, StepExpectations.mismatches(e, got(0, "f1", null)).size());
  }

  @Test
  void valuesAreComparedInOrder() {
    StepExpect e = StepExpect.newBuilder().addValues("a").addValues("b").build();
    assertTrue(StepExpectations.mismatches(e, got(0, "[a, b]", List.of("a", "b"))).isEmpty());
    assertEquals(1, StepExpectations.mismatches(e, got(0, "[b, a]", List.of("b", "a"))).size());
  }

  @Test
  void aCountOfZeroIsMetByAnEmptyList() {
    assertTrue(StepExpectations.mismatches(StepExpect.newBuilder().setCount(0).build(), got(0, "[]", List.of())).isEmpty());
  }

  @Test
  void aWaitResultAcceptsBothSpellingsOfSignalled() {
    StepExpect e = StepExpect.newBuilder().setResult("signalled").build();
    assertTrue(StepExpectations.mismatches(e, new StepExpectations.Observed(5, "signaled", null, null, Map.of())).isEmpty());
  }

  @Test
  void namedOutputsMustAllMatch() {
    StepExpect e = StepExpect.newBuilder().putOut("num_fences", "2").putOut("status", "1").build();
    var observed = new StepExpectations.Observed(0, "", null, null, Map.of("num_fences", "2", "status", "0"));
    assertEquals(List.of("status: expected 1, got 0"), StepExpectations.mismatches(e, observed));
  }
}
