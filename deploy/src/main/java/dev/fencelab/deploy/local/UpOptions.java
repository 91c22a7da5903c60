package dev.fencelab.deploy.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to start a local cluster.
 *
 * @param basePort first port to use (coordinator, then n1..nN, then the HTTP API), or {@code null} for free
 *     ephemeral ports
 * @param jar the fencelab fat jar the members run
 * @param java the java executable
 * @param jvmOptions options for every member JVM (heap, {@code -D} overrides)
 * @param configFile passed to every member as {@code --config}, or {@code null}
 */
public record UpOptions(
    String name,
    int nodes,
    Integer basePort,
    Path dir,
    Duration timeout,
    Path jar,
    String java,
    List<String> jvmOptions,
    Path configFile) {

  public static final List<String> DEFAULT_JVM_OPTIONS =
      List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError", "-Xshare:auto");

  public UpOptions {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(jar, "jar");
    Objects.requireNonNull(java, "java");
    jvmOptions = List.copyOf(jvmOptions);
  }
}
