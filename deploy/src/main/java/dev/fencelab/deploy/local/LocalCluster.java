package dev.fencelab.deploy.local;

import dev.fencelab.deploy.UserError;
import dev.fencelab.protocol.control.ClusterStatus;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts and stops a cluster of member JVMs on 127.0.0.1: one coordinator member (the seed) and N node
 * members. See the package documentation for the contract.
 */
public final class LocalCluster {
  public static final String HOST = "127.0.0.1";
  public static final String COORDINATOR = "coordinator";
  static final Duration POLL = Duration.ofMillis(200);
  static final Duration KILL_WAIT = Duration.ofSeconds(5);
  /** As many node members as a scenario may name. */
  public static final int MAX_NODES = 64;

  private final PrintStream out;

  public LocalCluster(PrintStream out) {
    this.out = out;
  }

  /** The result of a successful {@link #up}. */
  public record Started(ClusterManifest manifest, ClusterStatus status, Duration formation) {}

  /** The result of {@link #down}. */
  public record Stopped(int members, List<String> killed, boolean wasRunning) {
    public Stopped {
      killed = List.copyOf(killed);
    }
  }

  public Started up(UpOptions o) {
    if (o.nodes() < 1 || o.nodes() > MAX_NODES) {
      throw UserError.badInput("--nodes must be between 1 and " + MAX_NODES + " (each is a JVM), was " + o.nodes());
    }
    Path dir = o.dir().toAbsolutePath().normalize();
    ClusterManifest.read(dir).ifPresent(existing -> {
      List<ClusterManifest.MemberEntry> live = existing.liveMembers();
      if (!live.isEmpty()) {
        throw UserError.runtime(String.format(
            "run directory %s already holds a running cluster '%s' (%d live members, pids %s); stop it first: fencelab cluster down --dir %s",
            dir, existing.name(), live.size(), live.stream().map(m -> Long.toString(m.pid())).toList(), o.dir()));
      }
    });
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw UserError.runtime("cannot create run directory " + dir + ": " + e.getMessage());
    }

    // Fixed ports (--base-port) are checked and used; otherwise every member binds port 0 and reports the port it got
    // (<name>.ports): no port is probed, closed and handed over, so clusters started side by side cannot race.
    boolean fixed = o.basePort() != null;
    int[] ports = fixed ? allocatePorts(o.basePort(), o.nodes() + 2) : new int[o.nodes() + 2];
    List<ClusterManifest.MemberEntry> entries = new ArrayList<>();
    entries.add(entry(dir, COORDINATOR, List.of("coordinator"), ports[0]));
    for (int i = 1; i <= o.nodes(); i++) {
      entries.add(entry(dir, o.nodeName(i), List.of("node"), ports[i]));
    }
    ClusterManifest manifest =
        new ClusterManifest(o.name(), HOST, ports[ports.length - 1], System.currentTimeMillis(), ClusterManifest.STARTING, entries);
    manifest.write(dir);

    long t0 = System.nanoTime();
    long deadline = t0 + o.timeout().toNanos();
    Map<String, Process> processes = new LinkedHashMap<>();
    try {
      List<ClusterManifest.MemberEntry> started = new ArrayList<>();
      ClusterManifest.MemberEntry seed = start(o, dir, entries.get(0), fixed ? ports[0] : 0, ports[ports.length - 1], processes);
      int httpPort = ports[ports.length - 1];
      if (!fixed) {
        int[] bound = awaitPorts(dir, seed, processes.get(seed.name()), deadline);
        seed = seed.withPort(bound[0]);
        httpPort = bound[1];
      }
      started.add(seed);
      for (ClusterManifest.MemberEntry e : entries.subList(1, entries.size())) {
        started.add(start(o, dir, e, seed.port(), httpPort, processes));
      }
      for (int i = 1; i < started.size() && !fixed; i++) {
        ClusterManifest.MemberEntry e = started.get(i);
        started.set(i, e.withPort(awaitPorts(dir, e, processes.get(e.name()), deadline)[0]));
      }
      for (ClusterManifest.MemberEntry e : started) {
        out.printf("  started %-12s pid %-7d %s:%d  roles %s%n", e.name(), e.pid(), e.host(), e.port(), e.roles());
      }
      manifest = new ClusterManifest(o.name(), HOST, httpPort, manifest.startedEpochMillis(), ClusterManifest.STARTING, started);
      manifest.write(dir);

      ClusterStatus status = awaitFormation(o, manifest, processes, t0);
      Duration formation = Duration.ofNanos(System.nanoTime() - t0);
      manifest = manifest.withState(ClusterManifest.RUNNING);
      manifest.write(dir);
      return new Started(manifest, status, formation);
    } catch (RuntimeException e) {
      out.println("  start-up failed; stopping every member that was started");
      stopAll(new ArrayList<>(processes.values().stream().map(Process::toHandle).toList()), Duration.ofSeconds(3));
      manifest.withState(ClusterManifest.STOPPED).write(dir);
      throw e;
    }
  }

  /** Launches member {@code e} (its old ports file removed first); returns its entry with the pid. */
  private static ClusterManifest.MemberEntry start(UpOptions o, Path dir, ClusterManifest.MemberEntry e, int seedPort, int httpPort,
      Map<String, Process> processes) {
    try {
      Files.deleteIfExists(dir.resolve(e.name() + ".ports"));
    } catch (IOException ex) {
      throw UserError.runtime("cannot clear " + dir.resolve(e.name() + ".ports") + ": " + ex.getMessage());
    }
    Process p = launch(o, dir, e, seedPort, httpPort);
    processes.put(e.name(), p);
    return e.withPid(p.pid());
  }

  /** The ports member {@code e} bound (cluster, HTTP), from the file it writes once bound; its death or the deadline ends the wait. */
  static int[] awaitPorts(Path dir, ClusterManifest.MemberEntry e, Process p, long deadline) {
    Path file = dir.resolve(e.name() + ".ports");
    while (true) {
      if (Files.isRegularFile(file)) {
        try {
          String text = Files.readString(file, StandardCharsets.UTF_8).trim();
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("cluster=(\\d+) http=(\\d+)").matcher(text);
          if (m.matches()) {
            return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
          }
        } catch (IOException ignored) {
          // written atomically: a failed read is retried
        }
      }
      if (!p.isAlive()) {
        String why = lastError(Path.of(e.out())).replaceFirst("^error: ", "");
        throw UserError.runtime(String.format("member %s exited with code %d during start-up: %s",
            e.name(), p.exitValue(), why.contains("log: ") ? why : why + "; log: " + e.log()));
      }
      if (System.nanoTime() > deadline) {
        throw UserError.runtime("member " + e.name() + " did not bind its ports in time; log: " + e.log());
      }
      try {
        p.waitFor(50, TimeUnit.MILLISECONDS); // paces the poll; returns at once if the member dies
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw UserError.runtime("interrupted while member " + e.name() + " was starting");
      }
    }
  }

  private ClusterStatus awaitFormation(
      UpOptions o, ClusterManifest manifest, Map<String, Process> processes, long t0) {
    StatusClient client = new StatusClient(HOST, manifest.httpPort());
    int expectedMembers = manifest.members().size();
    long deadline = t0 + o.timeout().toNanos();
    ClusterStatus last = null;
    Process coordinator = processes.get(COORDINATOR);
    java.util.Set<String> announced = new java.util.HashSet<>();
    while (true) {
      for (ClusterManifest.MemberEntry e : manifest.members()) {
        Process p = processes.get(e.name());
        if (!p.isAlive()) {
          String why = lastError(Path.of(e.out())).replaceFirst("^error: ", "");
          throw UserError.runtime(String.format("member %s exited with code %d during start-up: %s",
              e.name(), p.exitValue(), why.contains("log: ") ? why : why + "; log: " + e.log()));
        }
      }
      Optional<ClusterStatus> status = client.tryStatus(Duration.ofSeconds(1));
      if (status.isPresent()) {
        last = status.orElseThrow();
        for (ClusterStatus.Member m : last.members()) { // formation, member by member, as they come Up
          if (m.status().equals("Up") && announced.add(m.address())) {
            String name = m.nodeName().isEmpty() ? (m.roles().contains("coordinator") ? COORDINATOR : m.address()) : m.nodeName();
            out.printf("  Up       %-12s after %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
          }
        }
        if (StatusTable.formed(last, expectedMembers, expectedMembers - 1)) {
          return last;
        }
      }
      if (System.nanoTime() > deadline) {
        throw UserError.runtime(String.format("the cluster did not form within %d s: %s",
            o.timeout().toSeconds(), missing(manifest, last, client)));
      }
      try {
        // Paces the poll, and returns at once if the seed member dies meanwhile.
        coordinator.waitFor(POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw UserError.runtime("interrupted while waiting for the cluster to form");
      }
    }
  }

  /** Which members are not there yet, and why, with the log of each. */
  static String missing(ClusterManifest manifest, ClusterStatus last, StatusClient client) {
    if (last == null) {
      ClusterManifest.MemberEntry c = manifest.members().get(0);
      return "the coordinator API at " + client.base() + " never answered; log: " + c.log();
    }
    List<String> problems = new ArrayList<>();
    for (ClusterManifest.MemberEntry e : manifest.members()) {
      Optional<ClusterStatus.Member> m =
          last.members().stream().filter(x -> x.address().equals(e.address())).findFirst();
      String problem = null;
      if (m.isEmpty()) {
        problem = "did not join";
      } else if (!m.get().status().equals("Up")) {
        problem = "is " + m.get().status();
      } else if (!m.get().reachable()) {
        problem = "is unreachable";
      } else if (e.roles().contains("node")) {
        Optional<ClusterStatus.Node> n = last.nodes().stream().filter(x -> x.address().equals(e.address())).findFirst();
        if (n.isEmpty() || n.get().nodeName().equals("?")) {
          problem = "has no registered node agent";
        } else if (!n.get().responded()) {
          problem = "did not answer a ping";
        }
      }
      if (problem != null) {
        problems.add("member " + e.name() + " " + problem + " (log: " + e.log() + ")");
      }
    }
    return problems.isEmpty() ? "membership did not settle" : String.join("; ", problems);
  }

  /** Stops the cluster in {@code dir}; one stop at a time in this process (a run's end and its shutdown hook may race). */
  public Stopped down(Path dir, Duration grace) {
    synchronized (LocalCluster.class) {
      return stop(dir, grace);
    }
  }

  private Stopped stop(Path dir, Duration grace) {
    Path abs = dir.toAbsolutePath().normalize();
    Optional<ClusterManifest> read = ClusterManifest.read(abs);
    if (read.isEmpty()) {
      return new Stopped(0, List.of(), false);
    }
    ClusterManifest manifest = read.orElseThrow();
    List<ClusterManifest.MemberEntry> members = manifest.liveMembers();
    List<ProcessHandle> live = members.stream().map(m -> m.process().orElseThrow()).toList();
    List<ProcessHandle> killed = stopAll(live, grace);
    manifest.withState(ClusterManifest.STOPPED).write(abs);
    List<String> killedNames = members.stream()
        .filter(m -> killed.stream().anyMatch(k -> k.pid() == m.pid()))
        .map(ClusterManifest.MemberEntry::name)
        .toList();
    return new Stopped(live.size(), killedNames, !live.isEmpty());
  }

  /** SIGTERM every process, SIGKILL those still alive after {@code grace}; returns those it killed. */
  static List<ProcessHandle> stopAll(List<ProcessHandle> processes, Duration grace) {
    List<ProcessHandle> live = processes.stream().filter(ProcessHandle::isAlive).toList();
    live.forEach(ProcessHandle::destroy);
    awaitExit(live, grace);
    List<ProcessHandle> stubborn = live.stream().filter(ProcessHandle::isAlive).toList();
    stubborn.forEach(ProcessHandle::destroyForcibly);
    awaitExit(stubborn, KILL_WAIT);
    return stubborn;
  }

  private static void awaitExit(List<ProcessHandle> processes, Duration timeout) {
    if (processes.isEmpty()) {
      return;
    }
    CompletableFuture<?>[] exits = processes.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(exits).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // the caller looks at who is still alive
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for process exit failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ClusterManifest.MemberEntry entry(Path dir, String name, List<String> roles, int port) {
    return new ClusterManifest.MemberEntry(
        name, roles, HOST, port, 0, dir.resolve(name + ".log").toString(), dir.resolve(name + ".out").toString());
  }

  private static Process launch(UpOptions o, Path dir, ClusterManifest.MemberEntry e, int seedPort, int httpPort) {
    ProcessBuilder pb = new ProcessBuilder(command(o, dir, e, seedPort, httpPort))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(e.out())))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    try {
      return pb.start();
    } catch (IOException ex) {
      throw UserError.runtime("cannot start member " + e.name() + " (" + o.java() + "): " + ex.getMessage());
    }
  }

  /**
   * The command line of member {@code e}: its own session (a Ctrl-C in the terminal of {@code cluster up} does not
   * reach it), and a join bound that is the start-up's {@code --timeout} (a member must not give up joining before
   * its launcher gives up waiting).
   */
  static List<String> command(UpOptions o, Path dir, ClusterManifest.MemberEntry e, int seedPort, int httpPort) {
    List<String> command = new ArrayList<>();
    if (new File("/usr/bin/setsid").canExecute()) {
      // Own session: a Ctrl-C in the terminal that ran `cluster up` does not reach the members.
      command.add("/usr/bin/setsid");
    }
    command.add(o.java());
    command.addAll(o.jvmOptions());
    command.addAll(List.of("-jar", o.jar().toString(), "node",
        "--name", e.name(),
        "--roles", String.join(",", e.roles()),
        "--host", e.host(),
        "--port", Integer.toString(e.port()),
        "--profile", "local",
        "--run-dir", dir.toString(),
        "--join-timeout", o.timeout().toMillis() + "ms"));
    if (seedPort > 0) {
      command.addAll(List.of("--seed", HOST + ":" + seedPort)); // none: the first member forms the cluster by joining itself
    }
    if (e.roles().contains("coordinator")) {
      command.addAll(List.of("--http-host", HOST, "--http-port", Integer.toString(httpPort)));
    }
    if (o.configFile() != null) {
      command.addAll(List.of("--config", o.configFile().toAbsolutePath().toString()));
    }
    return command;
  }

  /** The most telling line of a member's console output: its last {@code error:} line, else its last line. */
  static String lastError(Path out) {
    try {
      List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
      String line = lines.stream().filter(l -> l.startsWith("error:")).reduce((a, b) -> b)
          .orElse(lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1));
      return line.length() > 400 ? line.substring(0, 400) + "…" : line;
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  /** Distinct free ports: from {@code base} upwards, checked; or ephemeral ones from the OS. */
  static int[] allocatePorts(Integer base, int count) {
    int[] ports = new int[count];
    if (base != null) {
      if (base < 1024 || (long) base + count - 1 > 65535) {
        throw UserError.badInput("--base-port must leave room for " + count + " ports between 1024 and 65535, was " + base);
      }
      for (int i = 0; i < count; i++) {
        ports[i] = base + i;
        if (!isFree(ports[i])) {
          throw UserError.runtime(String.format(
              "port %s:%d is already in use (needed for %s); choose another --base-port", HOST, ports[i],
              i == 0 ? "the coordinator" : i == count - 1 ? "the HTTP API" : "node n" + i));
        }
      }
      return ports;
    }
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST));
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } catch (IOException e) {
      throw UserError.runtime("cannot find free ports on " + HOST + ": " + e.getMessage());
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing a listening socket we own does not fail in a way we could act on
        }
      }
    }
    return ports;
  }

  static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
