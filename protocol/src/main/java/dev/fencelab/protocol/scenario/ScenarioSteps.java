package dev.fencelab.protocol.scenario;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** How a scenario's steps are named and ordered — shared by the validator and the runner. */
public final class ScenarioSteps {
  private ScenarioSteps() {}

  /** The id of step {@code i}: its own, or {@code step-<i+1>}. */
  public static String id(Scenario s, int i) {
    String id = s.getSteps(i).getId();
    return id.isEmpty() ? "step-" + (i + 1) : id;
  }

  /** The names of the actions a step sets (exactly one in a valid scenario). */
  public static List<String> actions(Step step) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<FieldDescriptor, Object> e : step.getAllFields().entrySet()) {
      if (e.getKey().getNumber() >= 10) {
        out.add(e.getKey().getName());
      }
    }
    return out;
  }

  public static String action(Step step) {
    List<String> a = actions(step);
    return a.isEmpty() ? "none" : a.get(0);
  }

  /** The steps each step starts after: its {@code after} list, else the previous step, none for {@code start_at_once}. */
  public static List<List<Integer>> dependencies(Scenario s) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < s.getStepsCount(); i++) {
      index.put(id(s, i), i);
    }
    List<List<Integer>> deps = new ArrayList<>();
    for (int i = 0; i < s.getStepsCount(); i++) {
      Step st = s.getSteps(i);
      List<Integer> d = new ArrayList<>();
      if (st.getAfterCount() > 0) {
        st.getAfterList().forEach(a -> {
          if (index.containsKey(a)) {
            d.add(index.get(a));
          }
        });
      } else if (!st.getStartAtOnce() && i > 0) {
        d.add(i - 1);
      }
      deps.add(d);
    }
    return deps;
  }
}
