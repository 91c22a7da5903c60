package dev.fencelab.coordinator.scenario;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Variant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code --set OBJECT.FIELD=VALUE} and a scenario's {@code matrix:} of variants: the same scenario with a device's knob (or
 * a node's, a process's, a buffer's, a host's, or a {@code settings} field) changed — a driver mistake and each of its
 * mitigations side by side. An override names one scalar field of one object; anything else is a problem, listed.
 */
public final class ScenarioOverrides {
  private static final List<String> KINDS = List.of("nodes", "devices", "processes", "buffers", "hosts");

  private ScenarioOverrides() {}

  /** {@code s} with each {@code OBJECT.FIELD=VALUE} applied, in order; every bad one is a problem. */
  public static Scenario apply(Scenario s, List<String> sets) throws ScenarioException {
    List<String> problems = new ArrayList<>();
    Scenario out = apply(s, sets, "--set", problems);
    if (!problems.isEmpty()) {
      throw new ScenarioException(problems);
    }
    return out;
  }

  private static Scenario apply(Scenario s, List<String> sets, String where, List<String> problems) {
    Scenario.Builder b = s.toBuilder();
    for (String set : sets) {
      int eq = set.indexOf('=');
      int dot = set.indexOf('.');
      if (eq <= 0) {
        problems.add(where + " '" + set + "': write OBJECT.FIELD=VALUE (a device, node, process, buffer or host name, or settings), "
            + "or a settings field as FIELD=VALUE (resv_mode=2020)");
        continue;
      }
      boolean setting = dot < 0 || dot > eq; // FIELD=VALUE: a field of the scenario's settings
      String object = setting ? "settings" : set.substring(0, dot);
      String field = setting ? set.substring(0, eq) : set.substring(dot + 1, eq);
      String value = set.substring(eq + 1);
      Message.Builder target = object.equals("settings") ? b.getSettingsBuilder() : find(b, object, where, set, problems);
      if (target != null) {
        setField(target, field, value, where + " '" + set + "'", problems);
      }
    }
    return b.build();
  }

  private static Message.Builder find(Scenario.Builder b, String name, String where, String set, List<String> problems) {
    List<Message.Builder> found = new ArrayList<>();
    for (String kind : KINDS) {
      FieldDescriptor list = Scenario.getDescriptor().findFieldByName(kind);
      for (int i = 0; i < b.getRepeatedFieldCount(list); i++) {
        Message m = (Message) b.getRepeatedField(list, i);
        if (name.equals(m.getField(m.getDescriptorForType().findFieldByName("name")))) {
          found.add(b.getRepeatedFieldBuilder(list, i));
        }
      }
    }
    if (found.size() != 1) {
      problems.add(where + " '" + set + "': " + (found.isEmpty() ? "no device, node, process, buffer or host is named '" + name + "'"
          : "'" + name + "' names " + found.size() + " objects"));
      return null;
    }
    return found.get(0);
  }

  private static void setField(Message.Builder target, String field, String value, String what, List<String> problems) {
    FieldDescriptor f = target.getDescriptorForType().findFieldByName(field);
    if (f == null || f.isRepeated() || f.getJavaType() == FieldDescriptor.JavaType.MESSAGE || f.getName().equals("name")) {
      problems.add(what + ": " + (f == null ? "a " + target.getDescriptorForType().getName().toLowerCase(java.util.Locale.ROOT)
          + " has no field '" + field + "'" : "'" + field + "' cannot be set this way (only single text, number or true/false fields)"));
      return;
    }
    try {
      Object v = switch (f.getJavaType()) {
        case STRING -> value;
        case BOOLEAN -> switch (value) {
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> throw new NumberFormatException("true or false");
        };
        case INT -> Integer.parseInt(value);
        case LONG -> Long.parseLong(value);
        case DOUBLE -> Double.parseDouble(value);
        case FLOAT -> Float.parseFloat(value);
        default -> throw new NumberFormatException("a " + f.getJavaType().name().toLowerCase(java.util.Locale.ROOT));
      };
      target.setField(f, v);
    } catch (NumberFormatException e) {
      problems.add(what + ": '" + value + "' is not a value of " + field + " (" + f.getJavaType().name().toLowerCase(java.util.Locale.ROOT)
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
    }
  }

  /** The problems of a scenario's matrix: unnamed or repeated variants, and overrides that do not apply. */
  static List<String> matrixProblems(Scenario s) {
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < s.getMatrixCount(); i++) {
      Variant v = s.getMatrix(i);
      if (v.getName().isEmpty() || !names.add(v.getName())) {
        problems.add("matrix[" + i + "]: " + (v.getName().isEmpty() ? "name the variant" : "a second variant named '" + v.getName() + "'"));
      }
      apply(s, v.getSetList(), "matrix[" + i + "].set", problems);
    }
    return problems;
  }

  /**
   * One scenario per variant of {@code loaded}'s matrix, named {@code NAME[variant]}: its overrides (then {@code sets})
   * applied, its {@code expect} replacing the scenario's when it has one, and validated.
   */
  public static List<ScenarioLoader.Loaded> variants(ScenarioLoader.Loaded loaded, List<String> sets) throws ScenarioException {
    List<ScenarioLoader.Loaded> out = new ArrayList<>();
    Scenario s = loaded.scenario();
    for (Variant v : s.getMatrixList()) {
      Scenario.Builder b = apply(s, v.getSetList()).toBuilder().clearMatrix().setName(s.getName() + "[" + v.getName() + "]");
      if (v.hasExpect()) {
        b.setExpect(v.getExpect());
      }
      out.add(with(new ScenarioLoader.Loaded(b.build(), loaded.source() + " [" + v.getName() + "]", loaded.lines()), sets));
    }
    return out;
  }

  /** {@code loaded} with {@code sets} applied and validated again. */
  public static ScenarioLoader.Loaded with(ScenarioLoader.Loaded loaded, List<String> sets) throws ScenarioException {
    ScenarioLoader.Loaded changed = sets.isEmpty() ? loaded
        : new ScenarioLoader.Loaded(apply(loaded.scenario(), sets), loaded.source() + " " + String.join(" ", sets.stream()
            .map(x -> "--set " + x).toList()), loaded.lines());
    List<String> problems = ScenarioValidator.problems(changed);
    if (!problems.isEmpty()) {
      throw new ScenarioException(problems);
    }
    return changed;
  }
}
