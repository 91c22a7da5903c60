package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.RandomFaults;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The fault schedule of a run: the scenario's chosen faults plus its seeded-random ones, each with an exact time
 * ({@code at} in nanoseconds after the run's first step starts, or after {@code after_step} ends). The same
 * scenario and seed give the same schedule, byte for byte; the runner prints it and records it in the trace. Random
 * faults that end a target (kill_node, unplug) draw distinct targets: a node is killed once, a device unplugged once;
 * once every target of a kind is gone, further draws of that kind are dropped.
 */
public final class ChaosSchedule {
  private ChaosSchedule() {}

  public static List<Fault> plan(Scenario scenario, long seed) {
    List<Fault> out = new ArrayList<>();
    for (Fault f : scenario.getChaos().getFaultsList()) {
      long at = f.getAt().isEmpty() ? 0 : Units.nanos(f.getAt());
      out.add(f.toBuilder().setAt(at + "ns").build());
    }
    if (scenario.getChaos().hasRandom()) {
      RandomFaults r = scenario.getChaos().getRandom();
      SplittableRandom random = new SplittableRandom(seed);
      java.util.Set<String> nodes = new java.util.HashSet<>();
      scenario.getNodesList().forEach(n -> nodes.add(n.getName()));
      long from = Units.nanos(r.getFrom());
      long to = Units.nanos(r.getTo());
      java.util.Set<String> gone = new java.util.HashSet<>(); // killed nodes, unplugged devices: never hit twice
      for (int i = 0; i < r.getCount(); i++) {
        String kind = r.getKinds(random.nextInt(r.getKindsCount()));
        List<String> targets = r.getTargetsList().stream()
            .filter(t -> kind.equals("kill_node") == nodes.contains(t)).filter(t -> !gone.contains(t)).toList();
        long at = from + (to > from ? random.nextLong(to - from + 1) : 0);
        if (targets.isEmpty()) {
          continue; // no target fits this kind (e.g. only devices listed for kill_node)
        }
        String target = targets.get(random.nextInt(targets.size()));
        if (!kind.equals("hang")) {
          gone.add(target);
        }
        Fault.Builder b = Fault.newBuilder().setAt(at + "ns").setAfterStep(r.getAfterStep());
        switch (kind) {
          case "kill_node" -> b.setKillNode(target);
          case "unplug" -> b.setUnplug(target);
          default -> b.setHang(target);
        }
        out.add(b.build());
      }
    }
    out.sort(Comparator.comparing(Fault::getAfterStep).thenComparingLong(f -> Units.nanos(f.getAt())));
    return out;
  }

  /** One line per fault: {@code +12.30ms after step fill: kill_node n1}. */
  public static String describe(Fault f) {
    String when = "+" + Units.human(Units.nanos(f.getAt())) + (f.getAfterStep().isEmpty() ? " after start" : " after step " + f.getAfterStep());
    return when + ": " + kind(f) + " " + target(f);
  }

  public static String kind(Fault f) {
    if (!f.getKillNode().isEmpty()) return "kill_node";
    if (!f.getUnplug().isEmpty()) return "unplug";
    if (!f.getHang().isEmpty()) return "hang";
    return "fail_reset";
  }

  public static String target(Fault f) {
    if (!f.getKillNode().isEmpty()) return f.getKillNode();
    if (!f.getUnplug().isEmpty()) return f.getUnplug();
    if (!f.getHang().isEmpty()) return f.getHang();
    return f.getFailReset();
  }
}
