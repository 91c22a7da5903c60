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
 * @param nodeNames the node members' names, or {@code null} for n1..nN
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
    Path configFile,
    List<String> nodeNames) {

  public static final List<String> DEFAULT_JVM_OPTIONS =
      List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError", "-Xshare:auto");

  public UpOptions {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(jar, "jar");
    Objects.requireNonNull(java, "java");
    jvmOptions = List.copyOf(jvmOptions);
    nodeNames = nodeNames == null ? null : List.copyOf(nodeNames);
    if (nodeNames != null && nodeNames.size() != nodes) {
      throw new IllegalArgumentException(nodes + " nodes but " + nodeNames.size() + " names");
    }
  }

  public UpOptions(String name, int nodes, Integer basePort, Path dir, Duration timeout, Path jar, String java, List<String> jvmOptions,
      Path configFile) {
    this(name, nodes, basePort, dir, timeout, jar, java, jvmOptions, configFile, null);
  }

  /** The same options with members named {@code names} (n1..nN by default). */
  public UpOptions withNodeNames(List<String> names) {
    return new UpOptions(name, names.size(), basePort, dir, timeout, jar, java, jvmOptions, configFile, names);
  }

  /** The same options with more JVM options for every member. */
  public UpOptions withJvmOptions(List<String> more) {
    List<String> all = new java.util.ArrayList<>(jvmOptions);
    all.addAll(more);
    return new UpOptions(name, nodes, basePort, dir, timeout, jar, java, all, configFile, nodeNames);
  }

  /**
   * The same options with every member tied to process {@code pid} (the command that starts them): a member leaves
   * and exits when that process is gone, however it went.
   */
  public UpOptions ownedBy(long pid) {
    return withJvmOptions(List.of("-Dfencelab.member.owner-pid=" + pid));
  }

  public String nodeName(int i) {
    return nodeNames == null ? "n" + i : nodeNames.get(i - 1);
  }
}
