package dev.fencelab.deploy.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/** The scenario library ({@code scenarios/*.yaml} at the repository root), bundled into the fencelab jar. */
final class BundledScenarios {
  record Entry(String name, String description) {}

  private BundledScenarios() {}

  /** The bundled scenario's text, by name with or without {@code .yaml}. */
  static Optional<String> read(String name) {
    String file = name.endsWith(".yaml") ? name : name + ".yaml";
    if (file.contains("..") || file.startsWith("/")) {
      return Optional.empty(); // a bundled name is relative to scenarios/ (conformance/st-dma-fence/test_error)
    }
    try (InputStream in = BundledScenarios.class.getResourceAsStream("/scenarios/" + file)) {
      return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** How many bundled scenarios lie under {@code prefix} (e.g. {@code conformance/}). */
  static long countUnder(String prefix) {
    try {
      Path source = Path.of(BundledScenarios.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isDirectory(source)) {
        Path dir = source.resolve("scenarios").resolve(prefix);
        if (!Files.isDirectory(dir)) {
          return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
          return files.filter(p -> p.toString().endsWith(".yaml")).count();
        }
      }
      try (ZipFile zip = new ZipFile(source.toFile())) {
        return zip.stream().filter(e -> e.getName().startsWith("scenarios/" + prefix) && e.getName().endsWith(".yaml")).count();
      }
    } catch (IOException | URISyntaxException e) {
      return 0;
    }
  }

  static List<Entry> list() {
    TreeSet<String> names = new TreeSet<>();
    try {
      Path source = Path.of(BundledScenarios.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isDirectory(source)) {
        Path dir = source.resolve("scenarios");
        if (Files.isDirectory(dir)) {
          try (Stream<Path> files = Files.walk(dir)) {
            files.map(p -> dir.relativize(p).toString().replace('\\', '/')).filter(n -> n.endsWith(".yaml")).forEach(names::add);
          }
        }
      } else {
        try (ZipFile zip = new ZipFile(source.toFile())) {
          zip.stream().map(e -> e.getName()).filter(n -> n.startsWith("scenarios/") && n.endsWith(".yaml"))
              .forEach(n -> names.add(n.substring("scenarios/".length())));
        }
      }
      names.removeIf(n -> n.startsWith("conformance/")); // listed as a count: the kernel's tests, one file per function
    } catch (IOException | URISyntaxException e) {
      return List.of();
    }
    List<Entry> out = new ArrayList<>();
    for (String n : names) {
      String name = n.substring(0, n.length() - ".yaml".length());
      out.add(new Entry(name, read(name).map(BundledScenarios::oneLine).orElse("")));
    }
    return out;
  }

  /** The scenario's {@code description:} (its first sentence), without parsing the whole file. */
  private static String oneLine(String text) {
    for (String line : text.split("\n")) {
      if (line.startsWith("description:")) {
        String d = line.substring("description:".length()).trim();
        if (d.startsWith("\"") || d.startsWith("'")) {
          d = d.substring(1, d.length() - 1);
        }
        if (d.equals(">") || d.equals("|") || d.equals(">-") || d.equals("|-")) {
          int i = text.indexOf(line) + line.length() + 1;
          d = text.substring(i).split("\n")[0].trim();
        }
        int dot = d.indexOf(". ");
        return dot > 0 ? d.substring(0, dot + 1) : d;
      }
    }
    return "";
  }
}
