package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Fault;
import dev.fencelab.protocol.scenario.v1.LinkDelay;
import dev.fencelab.protocol.scenario.v1.NodeGroup;
import dev.fencelab.protocol.scenario.v1.Partition;
import dev.fencelab.protocol.scenario.v1.PauseNode;
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
 * once every target of a kind is gone, further draws of that kind are dropped. kill_coordinator and partition (the
 * drawn node against every other node still there) happen at most once; pause_node, partition and link_delay last a
 * seeded-random time within [for_from, for_to]; link_delay joins the drawn node and another drawn one.
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
      long forFrom = r.getForFrom().isEmpty() ? 1_000_000_000L : Units.nanos(r.getForFrom());
      long forTo = r.getForTo().isEmpty() ? Math.max(forFrom, 3_000_000_000L) : Units.nanos(r.getForTo());
      String latency = r.getLatency().isEmpty() ? "1ms" : r.getLatency();
      for (int i = 0; i < r.getCount(); i++) {
        String kind = r.getKinds(random.nextInt(r.getKindsCount()));
        boolean onNode = NODE_KINDS.contains(kind);
        List<String> targets = r.getTargetsList().stream()
            .filter(t -> onNode == nodes.contains(t)).filter(t -> !gone.contains(t)).toList();
        long at = from + (to > from ? random.nextLong(to - from + 1) : 0);
        Fault.Builder b = Fault.newBuilder().setAt(at + "ns").setAfterStep(r.getAfterStep());
        if (kind.equals("kill_coordinator")) {
          if (gone.add("kill_coordinator")) {
            out.add(b.setKillCoordinator(true).build());
          }
          continue;
        }
        if (targets.isEmpty() || kind.equals("partition") && gone.contains("partition")) {
          continue; // no target fits this kind (e.g. only devices listed for kill_node), or its one time is taken
        }
        String target = targets.get(random.nextInt(targets.size()));
        List<String> others = nodes.stream().sorted().filter(n -> !n.equals(target) && !gone.contains(n)).toList();
        switch (kind) {
          case "kill_node" -> {
            gone.add(target);
            b.setKillNode(target);
          }
          case "unplug" -> {
            gone.add(target);
            b.setUnplug(target);
          }
          case "pause_node" -> b.setPauseNode(PauseNode.newBuilder().setNode(target).setFor(draw(random, forFrom, forTo) + "ns"));
          case "partition" -> {
            if (others.isEmpty()) {
              continue;
            }
            gone.add("partition");
            b.setPartition(Partition.newBuilder().setFor(draw(random, forFrom, forTo) + "ns").addBetween(NodeGroup.newBuilder().addNodes(target))
                .addBetween(NodeGroup.newBuilder().addAllNodes(others)));
          }
          case "link_delay" -> {
            if (others.isEmpty()) {
              continue;
            }
            String peer = others.get(random.nextInt(others.size()));
            b.setLinkDelay(LinkDelay.newBuilder().addBetween(target).addBetween(peer).setLatency(latency)
                .setFor(draw(random, forFrom, forTo) + "ns"));
          }
          default -> b.setHang(target);
        }
        out.add(b.build());
      }
    }
    out.sort(Comparator.comparing(Fault::getAfterStep).thenComparingLong(f -> Units.nanos(f.getAt())));
    return out;
  }

  /** A duration within [from, to], drawn after the target (so the kinds without one draw as they always did). */
  private static long draw(SplittableRandom random, long from, long to) {
    return from + (to > from ? random.nextLong(to - from + 1) : 0);
  }

  /** One line per fault: {@code +12.30ms after step fill: kill_node n1}. */
  public static String describe(Fault f) {
    String when = "+" + Units.human(Units.nanos(f.getAt())) + (f.getAfterStep().isEmpty() ? " after start" : " after step " + f.getAfterStep());
    String target = target(f);
    return when + ": " + kind(f) + (target.isEmpty() ? "" : " " + target);
  }

  public static String kind(Fault f) {
    if (!f.getKillNode().isEmpty()) return "kill_node";
    if (!f.getUnplug().isEmpty()) return "unplug";
    if (!f.getHang().isEmpty()) return "hang";
    if (f.hasPauseNode()) return "pause_node";
    if (f.hasPartition()) return "partition";
    if (f.getKillCoordinator()) return "kill_coordinator";
    if (f.hasLinkDelay()) return "link_delay";
    return "fail_reset";
  }

  public static String target(Fault f) {
    if (!f.getKillNode().isEmpty()) return f.getKillNode();
    if (!f.getUnplug().isEmpty()) return f.getUnplug();
    if (!f.getHang().isEmpty()) return f.getHang();
    if (f.hasPauseNode()) return f.getPauseNode().getNode() + " for " + Units.human(Units.nanos(f.getPauseNode().getFor()));
    if (f.hasPartition()) {
      return f.getPartition().getBetweenList().stream().map(g -> g.getNodesList().toString()).collect(java.util.stream.Collectors.joining(" | "))
          + " for " + Units.human(Units.nanos(f.getPartition().getFor()));
    }
    if (f.getKillCoordinator()) return "";
    if (f.hasLinkDelay()) {
      LinkDelay d = f.getLinkDelay();
      return String.join(" <-> ", d.getBetweenList()) + " +" + d.getLatency() + (d.getFor().isEmpty() ? "" : " for " + Units.human(Units.nanos(d.getFor())));
    }
    return f.getFailReset();
  }

  private static final java.util.Set<String> NODE_KINDS = java.util.Set.of("kill_node", "pause_node", "partition", "link_delay");
}
