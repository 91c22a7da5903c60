package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Scenario;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The order of a scenario's steps ({@link ScenarioSteps#dependencies}): its first cycle, and whether one step comes
 * after another. Linear in the scenario's size for the usual shapes: a 100,000-step chain is checked without deep
 * recursion, and "comes after" is answered in constant time along a chain.
 */
final class StepGraph {
  /** A cycle: the ids along it (its first id repeated at the end), found from step {@code at}. */
  record Cycle(int at, List<String> ids) {}

  private final Scenario s;
  private final List<List<Integer>> deps;
  /** Per step: every step from this index up to the step before it is one it comes after (a chain's prefix). */
  private final int[] chainFrom;

  StepGraph(Scenario s, List<List<Integer>> deps) {
    this.s = s;
    this.deps = deps;
    this.chainFrom = new int[deps.size()];
    for (int i = 0; i < deps.size(); i++) {
      chainFrom[i] = i > 0 && deps.get(i).contains(i - 1) ? Math.min(chainFrom[i - 1], i - 1) : i;
    }
  }

  /** The first cycle of dependencies, or null. An iterative depth-first search. */
  Cycle cycle() {
    int n = deps.size();
    int[] state = new int[n]; // 0 unseen, 1 on the path, 2 done
    for (int root = 0; root < n; root++) {
      if (state[root] != 0) {
        continue;
      }
      List<Integer> path = new ArrayList<>();
      List<Integer> next = new ArrayList<>(); // per path entry: the index of its next dependency to visit
      path.add(root);
      next.add(0);
      state[root] = 1;
      while (!path.isEmpty()) {
        int top = path.size() - 1;
        int i = path.get(top);
        int k = next.get(top);
        if (k == deps.get(i).size()) {
          state[i] = 2;
          path.remove(top);
          next.remove(top);
          continue;
        }
        next.set(top, k + 1);
        int d = deps.get(i).get(k);
        if (state[d] == 1) {
          List<String> ids = new ArrayList<>();
          for (int j = path.indexOf(d); j < path.size(); j++) {
            ids.add(ScenarioSteps.id(s, path.get(j)));
          }
          ids.add(ScenarioSteps.id(s, d));
          Collections.reverse(ids);
          return new Cycle(i, ids);
        }
        if (state[d] == 0) {
          state[d] = 1;
          path.add(d);
          next.add(0);
        }
      }
    }
    return null;
  }

  /** True if step {@code consumer} comes after step {@code producer}, directly or through others. */
  boolean before(int producer, int consumer) {
    if (producer == consumer) {
      return false;
    }
    if (producer < consumer && producer >= chainFrom[consumer]) {
      return true;
    }
    ArrayDeque<Integer> todo = new ArrayDeque<>(deps.get(consumer));
    Set<Integer> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      int x = todo.pop();
      if (x == producer || (producer < x && producer >= chainFrom[x])) {
        return true;
      }
      if (seen.add(x)) {
        todo.addAll(deps.get(x));
      }
    }
    return false;
  }
}
