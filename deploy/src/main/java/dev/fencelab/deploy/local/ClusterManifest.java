package dev.fencelab.deploy.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fencelab.deploy.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code cluster up} started, kept in {@code <run-dir>/cluster.json} so that {@code status} and
 * {@code down} (later, from another shell) can find the members.
 */
public record ClusterManifest(
    String name, String httpHost, int httpPort, long startedEpochMillis, String state, List<MemberEntry> members) {

  public static final String FILE = "cluster.json";
  public static final String RUNNING = "running";
  public static final String STARTING = "starting";
  public static final String STOPPED = "stopped";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public ClusterManifest {
    Objects.requireNonNull(name, "name");
    members = List.copyOf(members);
  }

  /** One member process. {@code pid} is 0 until the process started. */
  public record MemberEntry(String name, List<String> roles, String host, int port, long pid, String log, String out) {
    public MemberEntry {
      roles = List.copyOf(roles);
    }

    public String address() {
      return "pekko://fencelab@" + host + ":" + port;
    }

    public MemberEntry withPid(long newPid) {
      return new MemberEntry(name, roles, host, port, newPid, log, out);
    }

    public MemberEntry withPort(int newPort) {
      return new MemberEntry(name, roles, host, newPort, pid, log, out);
    }

    /** The live process of this member, if it still runs (and is still a fencelab JVM, not a reused pid). */
    public Optional<ProcessHandle> process() {
      if (pid <= 0) {
        return Optional.empty();
      }
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(p -> p.info().commandLine()
          .map(c -> c.contains("java") || c.contains("fencelab"))
          .orElse(true));
    }
  }

  public ClusterManifest withState(String newState) {
    return new ClusterManifest(name, httpHost, httpPort, startedEpochMillis, newState, members);
  }

  public ClusterManifest withMembers(List<MemberEntry> newMembers) {
    return new ClusterManifest(name, httpHost, httpPort, startedEpochMillis, state, newMembers);
  }

  public List<MemberEntry> liveMembers() {
    return members.stream().filter(m -> m.process().isPresent()).toList();
  }

  public Optional<String> nameOf(String address) {
    return members.stream().filter(m -> m.address().equals(address)).map(MemberEntry::name).findFirst();
  }

  public static Optional<ClusterManifest> read(Path dir) {
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(file.toFile(), ClusterManifest.class));
    } catch (IOException e) {
      throw UserError.runtime("cannot read " + file + ": " + e.getMessage());
    }
  }

  public void write(Path dir) {
    Path file = dir.resolve(FILE);
    // A file of its own per writer: two writers in one process (a run's end and its shutdown hook) never share one.
    Path tmp = dir.resolve(FILE + "." + ProcessHandle.current().pid() + "-" + Thread.currentThread().getId() + ".tmp");
    try {
      JSON.writeValue(tmp.toFile(), this);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw UserError.runtime("cannot write " + file + ": " + e.getMessage());
    }
  }
}
