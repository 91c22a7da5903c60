package dev.fencelab.protocol.scenario;

import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.scenario.v1.StepExpect;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks what a step's call returned against the step's {@code expect}, the way a kernel selftest asserts each
 * call: {@code ret}, {@code errno} (ret == -errno), {@code result} of a wait, {@code value}, {@code values} (in
 * order), {@code count} and named {@code out}puts. Shared by the runner (a step that returned the error it expects
 * succeeds) and the verdict.
 */
public final class StepExpectations {
  private StepExpectations() {}

  /**
   * What a call produced, as the runner renders it.
   *
   * @param value the value rendered (a number, true/false, null, a fence name), or null when the call has none
   * @param values the list value (fence names), or null when the call has none
   */
  public record Observed(long ret, String result, String value, List<String> values, Map<String, String> out) {
    public Observed {
      result = result == null ? "" : result;
      values = values == null ? null : List.copyOf(values);
      out = out == null ? Map.of() : Map.copyOf(out);
    }
  }

  /** True when {@code expect} asks for anything. */
  public static boolean any(StepExpect expect) {
    return expect.hasRet() || !expect.getErrno().isEmpty() || !expect.getResult().isEmpty() || !expect.getValue().isEmpty()
        || expect.getValuesCount() > 0 || expect.hasCount() || expect.getOutCount() > 0;
  }

  /** True when {@code expect} names a failure of the call (a negative ret or an errno). */
  public static boolean expectsError(StepExpect expect) {
    return !expect.getErrno().isEmpty() || (expect.hasRet() && expect.getRet() < 0);
  }

  /** The mismatches between {@code expect} and {@code got}, each "expected X, got Y"; empty when it was met. */
  public static List<String> mismatches(StepExpect expect, Observed got) {
    List<String> out = new ArrayList<>();
    if (expect.hasRet() && expect.getRet() != got.ret()) {
      out.add("ret: expected " + expect.getRet() + ", got " + ret(got.ret()));
    }
    if (!expect.getErrno().isEmpty()) {
      Errno e = Errno.byName(expect.getErrno());
      if (e == null || got.ret() != e.negative()) {
        out.add("errno: expected " + expect.getErrno() + ", got " + ret(got.ret()));
      }
    }
    if (!expect.getResult().isEmpty() && !normal(expect.getResult()).equals(normal(got.result()))) {
      out.add("result: expected " + expect.getResult() + ", got " + (got.result().isEmpty() ? "none" : got.result()));
    }
    if (!expect.getValue().isEmpty() && !sameValue(expect.getValue(), got.value())) {
      out.add("value: expected " + expect.getValue() + ", got " + (got.value() == null ? "no value" : got.value()));
    }
    if (expect.getValuesCount() > 0 && !expect.getValuesList().equals(got.values())) {
      out.add("values: expected " + expect.getValuesList() + ", got " + (got.values() == null ? "no list" : got.values()));
    }
    if (expect.hasCount()) {
      int n = got.values() == null ? -1 : got.values().size();
      if (n != expect.getCount()) {
        out.add("count: expected " + expect.getCount() + ", got " + (n < 0 ? "no list" : n));
      }
    }
    for (Map.Entry<String, String> e : expect.getOutMap().entrySet()) {
      String v = got.out().get(e.getKey());
      if (!e.getValue().equals(v)) {
        out.add(e.getKey() + ": expected " + e.getValue() + ", got " + (v == null ? "nothing" : v));
      }
    }
    return out;
  }

  /** A return value with its errno name when it is one ("-22 (EINVAL)"). */
  public static String ret(long ret) {
    if (ret < 0 && ret >= -Errno.MAX_ERRNO) {
      Errno e = Errno.of((int) -ret);
      if (e != null && e != Errno.UNKNOWN) {
        return ret + " (" + e.name() + ")";
      }
    }
    return Long.toString(ret);
  }

  private static String normal(String result) {
    String r = result.toLowerCase(java.util.Locale.ROOT);
    return r.equals("signalled") ? "signaled" : r;
  }

  private static boolean sameValue(String expected, String got) {
    if (got == null) {
      return false;
    }
    if (expected.equals(got)) {
      return true;
    }
    try {
      return Long.parseLong(expected) == Long.parseLong(got);
    } catch (NumberFormatException e) {
      return expected.equalsIgnoreCase(got) && (got.equals("true") || got.equals("false") || got.equals("null"));
    }
  }
}
