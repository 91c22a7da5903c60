package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Scenario;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The waits only the runner sees (kernel-semantics §3.7, D6): a sw_sync point is signalled by whichever step advances
 * its timeline ({@code inc}, {@code close_timeline}) — userspace, in the kernel — and that step runs only after the
 * steps it comes after. So a pending point waits for its signalling step, which waits for each unfinished step it
 * comes after; if one of those is blocked in the kernel (an allocation in reclaim, a fault on mmap_lock) on the point,
 * the cycle is closed by these edges. Vertices are the members' ({@code step:<run>/<id>} for a step's thread).
 */
final class StepEdges {
  private final Scenario s;
  private final String run;
  private final List<List<Integer>> deps;
  private final Set<Integer> done = new HashSet<>();
  private final List<WaitForGraph.Edge> live = new ArrayList<>();
  private long ids;

  StepEdges(Scenario s, String run) {
    this.s = s;
    this.run = run;
    this.deps = ScenarioSteps.dependencies(s);
  }

  private String vertex(int i) {
    return "step:" + run + "/" + ScenarioSteps.id(s, i);
  }

  private WaitForGraph.Edge edge(String from, String to, String reason) {
    WaitForGraph.Edge e = new WaitForGraph.Edge("runner", ++ids, from, to, reason);
    live.add(e);
    return e;
  }

  /** A point of {@code timeline} was made: its fence waits for the unfinished steps that advance the timeline. */
  List<WaitForGraph.Edge> point(String timeline, String fence) {
    List<WaitForGraph.Edge> added = new ArrayList<>();
    for (int i = 0; i < s.getStepsCount(); i++) {
      Step st = s.getSteps(i);
      boolean advances = st.hasInc() && st.getInc().getTimeline().equals(timeline)
          || st.hasCloseTimeline() && st.getCloseTimeline().getTimeline().equals(timeline);
      if (!advances || done.contains(i)) {
        continue;
      }
      added.add(edge(fence, vertex(i), "sw_sync point: signalled by step " + ScenarioSteps.id(s, i) + " (userspace)"));
      for (int d : deps.get(i)) {
        if (!done.contains(d)) {
          added.add(edge(vertex(i), vertex(d), "step " + ScenarioSteps.id(s, i) + " comes after step " + ScenarioSteps.id(s, d)));
        }
      }
    }
    return added;
  }

  /** Step {@code i} ended: the edges from or to it are gone (their keys). */
  List<String> done(int i) {
    done.add(i);
    String v = vertex(i);
    List<String> removed = new ArrayList<>();
    live.removeIf(e -> {
      if (e.from().equals(v) || e.to().equals(v)) {
        removed.add(e.key());
        return true;
      }
      return false;
    });
    return removed;
  }
}
