package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.trace.v1.NamedFence;
import dev.fencelab.protocol.trace.v1.RunRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The scenario's names in what the verdict says: a fence id ({@code ctx4.ed26#1}) the scenario named (a submit's
 * {@code out_fence}, a point's {@code as}…) reads {@code fA (ctx4.ed26#1)}; where the text already names it, it is left
 * alone.
 */
final class FenceNamer {
  /** A fence id as members write it: {@code ctx<context>.<hex>#<seqno>}, or {@code ctx<n>#<seqno>}. */
  private static final Pattern ID = Pattern.compile("ctx[0-9a-f]+(?:\\.[0-9a-f]+)?#[0-9]+");

  private final Map<String, String> byId = new LinkedHashMap<>();

  FenceNamer(RunRecord record) {
    for (NamedFence f : record.getFencesList()) {
      if (!f.getName().isEmpty() && !f.getName().equals(f.getFence())) {
        byId.putIfAbsent(f.getFence(), f.getName());
      }
    }
  }

  /** {@code text} with every named fence id it holds written {@code name (id)}. */
  String name(String text) {
    if (byId.isEmpty() || text.indexOf("ctx") < 0) {
      return text;
    }
    Matcher m = ID.matcher(text);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String id = m.group();
      String name = byId.get(id);
      boolean named = name == null || text.regionMatches(Math.max(0, m.start() - name.length() - 2), name + " (", 0, name.length() + 2);
      m.appendReplacement(b, Matcher.quoteReplacement(named ? id : name + " (" + id + ")"));
    }
    m.appendTail(b);
    return b.toString();
  }
}
