package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.scenario.v1.FailReset;
import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.Hang;
import dev.fencelab.protocol.scenario.v1.Step;
import dev.fencelab.protocol.scenario.v1.Unplug;
import dev.fencelab.protocol.trace.v1.EventKind;
import java.util.HashSet;
import java.util.Set;

/**
 * Fault injection, from a step or from the chaos schedule: a device fault (unplug, hang, fail_reset) is a step the
 * device's node executes; killing a node is the {@link NodeKiller}'s (SIGKILL of a local member, a {@code Crash}
 * command otherwise). Every fault is a FAULT event in the runner's trace and a progress line.
 */
final class Faults {
  private final RunDirectory names;
  private final NodeKiller killer;
  private final RunLog log;
  private final Set<String> unplugged = new HashSet<>();

  Faults(RunDirectory names, NodeKiller killer, RunLog log) {
    this.names = names;
    this.killer = killer;
    this.log = log;
  }

  /** Kills {@code node}'s member (once); returns what happened. */
  String kill(String node, String source) {
    if (!names.kill(node)) {
      return "node " + node + " was already down";
    }
    String how = killer.kill(node, names.agent(node));
    log.add(RunLog.event(EventKind.FAULT, "chaos").setName("kill_node").setSubject(node).setDetail(source + ": " + how));
    log.add(RunLog.event(EventKind.NODE_DOWN, "chaos").setSubject(node).setDetail(how));
    log.say("FAULT kill_node " + node + " (" + how + ")");
    return "killed node " + node + " (" + how + ")";
  }

  /** Kills the coordinator member; returns what happened. */
  String killCoordinator(String source) {
    String how = killer.killCoordinator();
    log.add(RunLog.event(EventKind.FAULT, "chaos").setName("kill_coordinator").setSubject("coordinator").setDetail(source + ": " + how));
    log.say("FAULT kill_coordinator (" + how + ")");
    return "coordinator: " + how;
  }

  /** The cluster removed {@code node}'s member (downed while paused or partitioned away); false if it was already down. */
  boolean removed(String node, String why) {
    if (!names.kill(node)) {
      return false;
    }
    log.add(RunLog.event(EventKind.NODE_DOWN, "chaos").setSubject(node).setDetail(why));
    log.say("NODE_DOWN " + node + " (" + why + ")");
    return true;
  }

  /** Records a device fault about to be injected by {@code step} (a step, or a scheduled fault made a step). */
  void announce(Step step, String source) {
    String device = device(step);
    if (device == null) {
      return;
    }
    String name = step.hasUnplug() ? "unplug" : step.hasHang() ? "hang" : "fail_reset";
    if (step.hasUnplug()) {
      unplugged.add(device);
    }
    log.add(RunLog.event(EventKind.FAULT, "chaos").setName(name).setSubject(device)
        .setDetail(source + (step.hasHang() ? ", engine " + step.getHang().getEngine() : "")));
    log.say("FAULT " + name + " " + device + " (" + source + ")");
  }

  /** The device a fault step acts on, or null for any other step. */
  static String device(Step step) {
    return step.hasUnplug() ? step.getUnplug().getDevice() : step.hasHang() ? step.getHang().getDevice()
        : step.hasFailReset() ? step.getFailReset().getDevice() : null;
  }

  /** A scheduled device fault as the step that injects it. */
  static Step step(Fault f) {
    if (!f.getUnplug().isEmpty()) {
      return Step.newBuilder().setUnplug(Unplug.newBuilder().setDevice(f.getUnplug())).build();
    }
    if (!f.getHang().isEmpty()) {
      return Step.newBuilder().setHang(Hang.newBuilder().setDevice(f.getHang())).build();
    }
    return Step.newBuilder().setFailReset(FailReset.newBuilder().setDevice(f.getFailReset())).build();
  }

  /** True if {@code device} is gone: unplugged by this run, or on a node it killed. */
  boolean gone(String device) {
    return unplugged.contains(device) || names.dead(names.nodeOfDevice(device));
  }

  Set<String> unplugged() {
    return Set.copyOf(unplugged);
  }
}
