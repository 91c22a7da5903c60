package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * The wait-for chain of a fence that is (or was) not signalled, from a run's trace: down to the dead node, the hung
 * engine, the queued job, the sw_sync timeline nobody advanced, or the cycle — one line per link, indented by depth.
 */
final class WaitChains {
  private final RunIndex x;

  WaitChains(RunIndex x) {
    this.x = x;
  }

  /** Why {@code fence} is (or was) not signalled, link by link. */
  List<String> explain(String fence) {
    List<String> out = new ArrayList<>();
    explain(fence, out, new ArrayList<>(), 0);
    return out;
  }

  private void explain(String fence, List<String> out, List<String> path, int depth) {
    String indent = "  ".repeat(depth);
    if (path.contains(fence)) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(fence), path.size()));
      cycle.add(fence);
      out.add(indent + "cycle: " + String.join(" -> ", cycle));
      return;
    }
    if (depth > 12) {
      out.add(indent + "...");
      return;
    }
    path.add(fence);
    TraceEvent c = x.created.get(fence);
    Integer st = x.finalStatus(fence);
    String owner = x.ownerNode(fence);
    if (st != null && st != 0) {
      out.add(indent + fence + " ended " + RunIndex.status(st));
    } else if (owner != null && x.nodeDead(owner)) {
      out.add(indent + fence + " belongs to node " + owner + ", killed at +" + Units.human(x.sinceStart(x.killedAt.getOrDefault(owner, 0L))));
    } else if (c == null) {
      out.add(indent + fence + ": no record of its creation (its member's trace was not collected)");
    } else {
      RunIndex.Job job = x.jobs.get(fence);
      if (job != null && job.start != null && job.end == null) {
        out.add(indent + fence + " is the out-fence of job " + job.start.getName() + " on " + c.getNode() + " " + c.getTrack()
            + (job.start.getDetail().equals("hung") ? ", which hung (the engine never finished it)" : ", still running"));
      } else if (job != null && job.deps != null && job.end == null) {
        out.add(indent + fence + " is the out-fence of job " + job.deps.getName() + " on " + c.getNode() + " " + c.getTrack()
            + ", waiting for " + job.deps.getDepsCount() + " in-fence(s):");
        for (String dep : job.deps.getDepsList()) {
          explain(dep, out, path, depth + 1);
        }
      } else if (job != null && job.end == null) {
        out.add(indent + fence + " is the out-fence of job " + (job.queued == null ? "?" : job.queued.getName())
            + " queued behind earlier jobs on " + c.getNode() + " " + c.getTrack());
      } else if (c.getName().equals("sw_sync")) {
        out.add(indent + fence + " is a point of sw_sync timeline " + c.getTrack() + " on " + c.getNode()
            + ", which nobody advanced to it (no inc, no close)");
      } else {
        out.add(indent + fence + " (" + c.getName() + " on " + c.getNode() + " " + c.getTrack() + ") pending, nobody signalled it");
      }
    }
    path.remove(path.size() - 1);
  }
}
