package dev.fencelab.coordinator.scenario;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a scenario file (YAML, or JSON: a file starting with '{' or named *.json) into {@link Scenario}, checking it
 * against {@code scenario.proto} field by field: an unknown field, a duplicate key, a wrong type (a list where a
 * mapping belongs, text where a number belongs…) is a problem naming the field's path and line. Then
 * {@link ScenarioValidator} checks what the schema cannot (references, cycles, units).
 */
public final class ScenarioLoader {
  /** A loaded, valid scenario, with the line of every field (by path, {@code steps[2].submit.device}). */
  public record Loaded(Scenario scenario, String source, Map<String, Integer> lines) {
    public String at(String path) {
      Integer line = lines.get(path);
      while (line == null && path.contains(".")) {
        path = path.substring(0, path.lastIndexOf('.'));
        line = lines.get(path);
      }
      return line == null ? source : source + ":" + line;
    }
  }

  private record Node(Object value, int line) {}

  private ScenarioLoader() {}

  /** Larger than this is not a scenario someone wrote (or generated sensibly): refused before parsing. */
  static final long MAX_BYTES = 8L << 20;
  /** Deeper nesting than this is not a scenario either; the parser would otherwise recurse as deep. */
  static final int MAX_DEPTH = 64;
  static final int MAX_PROBLEMS = 50;

  /** SnakeYAML's own limit (3 MiB of code points by default) raised to {@link #MAX_BYTES}: the size limit is ours. */
  private static final YAMLFactory YAML;

  static {
    org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
    options.setCodePointLimit((int) MAX_BYTES);
    YAML = YAMLFactory.builder().loaderOptions(options).build();
  }

  public static Loaded load(Path file) throws ScenarioException {
    String text;
    try {
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw new ScenarioException(List.of(file + ": the file is " + (size >> 20) + " MiB; a scenario is at most " + (MAX_BYTES >> 20)
            + " MiB"));
      }
      text = Files.readString(file);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new ScenarioException(List.of(file + ": not UTF-8 text (a binary file?); a scenario is YAML or JSON"));
    } catch (IOException e) {
      throw new ScenarioException(List.of(file + ": cannot read the scenario: " + e.getMessage()));
    }
    return parse(text, file.toString(), file.toString().endsWith(".json"));
  }

  public static Loaded parse(String text, String source, boolean json) throws ScenarioException {
    boolean asJson = json || text.stripLeading().startsWith("{");
    Node root;
    try (JsonParser p = (asJson ? new JsonFactory() : YAML).createParser(text)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw new ScenarioException(List.of(source + ": the scenario is empty"));
      }
      root = read(p, source, 0);
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
      throw new ScenarioException(List.of(source + ":" + line + ": not valid " + (asJson ? "JSON" : "YAML") + ": "
          + oneLine(e.getOriginalMessage())));
    } catch (IOException e) {
      throw new ScenarioException(List.of(source + ": cannot parse: " + e.getMessage()));
    }
    List<String> problems = new ArrayList<>();
    Map<String, Integer> lines = new HashMap<>();
    Scenario.Builder builder = Scenario.newBuilder();
    fill(builder, root, "", source, problems, lines);
    Loaded loaded = new Loaded(builder.build(), source, lines);
    // One pass: reference and order problems of what did parse are listed with the field problems.
    problems.addAll(ScenarioValidator.problems(loaded));
    if (!problems.isEmpty()) {
      List<String> distinct = problems.stream().distinct().toList();
      if (distinct.size() > MAX_PROBLEMS) {
        List<String> shown = new ArrayList<>(distinct.subList(0, MAX_PROBLEMS));
        shown.add("… and " + (distinct.size() - MAX_PROBLEMS) + " more problems");
        distinct = shown;
      }
      throw new ScenarioException(distinct);
    }
    return loaded;
  }

  /**
   * A parser's message on one line: SnakeYAML's spans several (the context, a caret under the column, the problem);
   * what was expected and where it was found is kept, the echo of the source is not.
   */
  static String oneLine(String message) {
    if (message == null) {
      return "";
    }
    List<String> kept = new ArrayList<>();
    for (String l : message.split("\\R")) {
      String t = l.strip();
      if (t.isEmpty() || t.startsWith("in 'reader'") || t.equals("^") || l.startsWith("    ")) {
        continue; // the source line echoed, the caret, the stream name: the file and line are already in front
      }
      kept.add(t);
    }
    return String.join("; ", kept);
  }

  private static Node read(JsonParser p, String source, int depth) throws IOException {
    JsonToken t = p.currentToken();
    int line = p.currentTokenLocation().getLineNr();
    if (depth > MAX_DEPTH) {
      throw new JsonProcessingException("nested deeper than " + MAX_DEPTH + " levels", p.currentTokenLocation()) {};
    }
    switch (t) {
      case START_OBJECT: {
        Map<String, Node> map = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String key = p.currentName();
          int keyLine = p.currentTokenLocation().getLineNr();
          p.nextToken();
          Node value = read(p, source, depth + 1);
          if (map.containsKey(key)) {
            throw new JsonProcessingException("duplicate key '" + key + "'", p.currentTokenLocation()) {};
          }
          map.put(key, new Node(value.value(), keyLine));
        }
        return new Node(map, line);
      }
      case START_ARRAY: {
        List<Node> list = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          list.add(read(p, source, depth + 1));
        }
        return new Node(list, line);
      }
      case VALUE_STRING:
        return new Node(p.getText(), line);
      case VALUE_NUMBER_INT:
        return new Node(p.getBigIntegerValue(), line);
      case VALUE_NUMBER_FLOAT:
        return new Node(p.getDoubleValue(), line);
      case VALUE_TRUE:
        return new Node(Boolean.TRUE, line);
      case VALUE_FALSE:
        return new Node(Boolean.FALSE, line);
      case VALUE_NULL:
        return new Node(null, line);
      default:
        throw new JsonProcessingException("unexpected " + t, p.currentTokenLocation()) {};
    }
  }

  @SuppressWarnings("unchecked")
  private static void fill(Message.Builder builder, Node node, String path, String source, List<String> problems,
      Map<String, Integer> lines) {
    Descriptor d = builder.getDescriptorForType();
    String where = path.isEmpty() ? "the scenario" : "'" + path + "'";
    if (!(node.value() instanceof Map)) {
      problems.add(source + ":" + node.line() + ": " + where + " must be a mapping (fields: " + fieldNames(d) + "), not "
          + kind(node.value()));
      return;
    }
    for (Map.Entry<String, Node> e : ((Map<String, Node>) node.value()).entrySet()) {
      String fieldPath = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      Node value = e.getValue();
      lines.put(fieldPath, value.line());
      FieldDescriptor f = d.findFieldByName(e.getKey());
      if (f == null) {
        problems.add(source + ":" + value.line() + ": unknown field '" + fieldPath + "' (" + d.getName() + " has: "
            + fieldNames(d) + ")");
        continue;
      }
      if (value.value() == null) {
        if (f.getName().equals("value") && d.getName().equals("StepExpect")) {
          builder.setField(f, "null"); // expect: {value: null}: the call returned NULL
        }
        continue; // "key:" with nothing: the default
      }
      if (f.getContainingOneof() != null && builder.hasOneof(f.getContainingOneof())) {
        problems.add(source + ":" + value.line() + ": '" + fieldPath + "': a step does one thing; it already has '"
            + builder.getOneofFieldDescriptor(f.getContainingOneof()).getName() + "'");
        continue;
      }
      if (f.isMapField()) {
        if (!(value.value() instanceof Map)) {
          problems.add(source + ":" + value.line() + ": '" + fieldPath + "' must be a mapping of names to values, not " + kind(value.value()));
          continue;
        }
        Descriptor entry = f.getMessageType();
        for (Map.Entry<String, Node> item : ((Map<String, Node>) value.value()).entrySet()) {
          Message.Builder b = builder.newBuilderForField(f);
          b.setField(entry.findFieldByName("key"), item.getKey());
          Object converted = convert(b, entry.findFieldByName("value"), item.getValue(), fieldPath + "." + item.getKey(), source, problems, lines);
          if (converted != null) {
            b.setField(entry.findFieldByName("value"), converted);
            builder.addRepeatedField(f, b.build());
          }
        }
        continue;
      }
      if (f.isRepeated()) {
        if (!(value.value() instanceof List)) {
          problems.add(source + ":" + value.line() + ": '" + fieldPath + "' must be a list, not " + kind(value.value()));
          continue;
        }
        List<Node> items = (List<Node>) value.value();
        for (int i = 0; i < items.size(); i++) {
          String itemPath = fieldPath + "[" + i + "]";
          lines.put(itemPath, items.get(i).line());
          Object converted = convert(builder, f, items.get(i), itemPath, source, problems, lines);
          if (converted != null) {
            builder.addRepeatedField(f, converted);
          }
        }
      } else {
        Object converted = convert(builder, f, value, fieldPath, source, problems, lines);
        if (converted != null) {
          builder.setField(f, converted);
        }
      }
    }
  }

  private static Object convert(Message.Builder parent, FieldDescriptor f, Node node, String path, String source,
      List<String> problems, Map<String, Integer> lines) {
    Object v = node.value();
    String bad = source + ":" + node.line() + ": '" + path + "' must be ";
    switch (f.getJavaType()) {
      case MESSAGE: {
        Message.Builder child = parent.newBuilderForField(f);
        List<FieldDescriptor> fields = child.getDescriptorForType().getFields();
        if (v instanceof List && fields.size() == 1 && fields.get(0).isRepeated()) {
          // a message that is only a list (a partition's side: [n1, n2]) may be written as the list
          node = new Node(Map.of(fields.get(0).getName(), node), node.line());
        }
        fill(child, node, path, source, problems, lines);
        return child.build();
      }
      case STRING:
        if (v instanceof String s) {
          return s;
        }
        if (v instanceof java.math.BigInteger || v instanceof Boolean || v instanceof Number) {
          return v.toString(); // "fd: -1", "value: 3", "value: true": a scalar written where text belongs is its text
        }
        problems.add(bad + "text, not " + kind(v));
        return null;
      case BOOLEAN:
        if (v instanceof Boolean b) {
          return b;
        }
        problems.add(bad + "true or false, not " + kind(v));
        return null;
      case INT:
      case LONG: {
        if (!(v instanceof java.math.BigInteger n)) {
          problems.add(bad + "a whole number, not " + kind(v));
          return null;
        }
        boolean unsigned = f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.UINT64;
        if (unsigned && n.signum() < 0) {
          problems.add(bad + "zero or more, not " + n);
          return null;
        }
        if (n.bitLength() > (f.getJavaType() == FieldDescriptor.JavaType.INT ? 31 : 63)) {
          problems.add(bad + "a smaller number, not " + n);
          return null;
        }
        return f.getJavaType() == FieldDescriptor.JavaType.INT ? (Object) n.intValue() : (Object) n.longValue();
      }
      case DOUBLE:
        if (v instanceof Number n) {
          return n.doubleValue();
        }
        problems.add(bad + "a number, not " + kind(v));
        return null;
      default:
        problems.add(bad + "of a type scenarios do not use (" + f.getJavaType() + ")");
        return null;
    }
  }

  private static String kind(Object v) {
    if (v == null) return "nothing";
    if (v instanceof Map) return "a mapping";
    if (v instanceof List) return "a list";
    if (v instanceof String s) return "text \"" + s + "\"";
    if (v instanceof Boolean b) return b.toString();
    return "the number " + v;
  }

  private static String fieldNames(Descriptor d) {
    return d.getFields().stream().map(FieldDescriptor::getName).collect(Collectors.joining(", "));
  }
}
