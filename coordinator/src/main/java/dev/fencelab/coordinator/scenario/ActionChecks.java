package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.Units;
import dev.fencelab.protocol.scenario.v1.Device;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.List;

/**
 * The checks of the actions older than the step protocol's generic name checks (export, pass, import, map, submit,
 * cpu_access, checksum, faults, pause, sw_sync, wait, merge, resv): each by its fields. Reports through its
 * {@link ScenarioValidator}.
 */
final class ActionChecks {
  private final ScenarioValidator v;

  ActionChecks(ScenarioValidator v) {
    this.v = v;
  }

  void check(int i, Step st, List<List<Integer>> deps) {
    String path = "steps[" + i + "]";
    String action = ScenarioSteps.action(st);
    String p = st.getProcess();
    switch (action) {
      case "export" -> {
        v.bufferRef(i, "export.buffer", st.getExport().getBuffer());
        String ops = st.getExport().getExporterOps();
        if (!ops.isEmpty() && !ops.matches("dynamic|static|pin_only|unpin_only")) {
          v.problem(path + ".export.exporter_ops", "exporter_ops must be dynamic, static, pin_only or unpin_only, not '" + ops + "'");
        }
        v.processRef(i, "process", p, false);
      }
      case "pass" -> {
        v.processRef(i, "process", p, true);
        v.processRef(i, "pass.to", st.getPass().getTo(), true);
        String name = st.getPass().getName();
        if (!v.buffers.containsKey(name)) {
          v.fenceUse(i, "pass.name", name, deps);
        }
      }
      case "import" -> {
        v.processRef(i, "process", p, true);
        v.bufferRef(i, "import.buffer", st.getImport().getBuffer());
        v.deviceRef(i, "import.device", st.getImport().getDevice());
      }
      case "map" -> {
        v.processRef(i, "process", p, true);
        v.bufferRef(i, "map.buffer", st.getMap().getBuffer());
        v.deviceRef(i, "map.device", st.getMap().getDevice());
      }
      case "submit" -> {
        var sub = st.getSubmit();
        v.processRef(i, "process", p, true);
        v.deviceRef(i, "submit.device", sub.getDevice());
        v.duration(path + ".submit.duration", sub.getDuration(), true);
        sub.getReadsList().forEach(b -> v.bufferRef(i, "submit.reads", b));
        sub.getWritesList().forEach(b -> v.bufferRef(i, "submit.writes", b));
        if (sub.hasCopy()) {
          v.bufferRef(i, "submit.copy.from", sub.getCopy().getFrom());
          v.bufferRef(i, "submit.copy.to", sub.getCopy().getTo());
          if (!sub.getCopy().getSize().isEmpty() && Units.bytes(sub.getCopy().getSize()) <= 0) {
            v.problem(path + ".submit.copy.size", "'" + sub.getCopy().getSize() + "' is not a size");
          }
        }
        Device d = v.devices.get(sub.getDevice());
        if (d != null && sub.getEngine() >= Math.max(1, d.getEngines())) {
          v.problem(path + ".submit.engine", "device '" + d.getName() + "' has " + Math.max(1, d.getEngines()) + " engine(s); no engine "
              + sub.getEngine());
        }
        sub.getInFencesList().forEach(f -> v.fenceUse(i, "submit.in_fences", f, deps));
      }
      case "wait" -> {
        v.processRef(i, "process", p, true);
        var w = st.getWait();
        if (w.getFence().isEmpty() == w.getBuffer().isEmpty()) {
          v.problem(path + ".wait", "a wait names either a fence or a buffer (poll on its dma-buf fd)");
        } else if (!w.getFence().isEmpty()) {
          v.fenceUse(i, "wait.fence", w.getFence(), deps);
        } else {
          v.bufferRef(i, "wait.buffer", w.getBuffer());
        }
        v.duration(path + ".wait.timeout", w.getTimeout(), true);
      }
      case "merge" -> {
        v.processRef(i, "process", p, true);
        if (st.getMerge().getFencesCount() < 2) {
          v.problem(path + ".merge.fences", "a merge needs at least two fences");
        }
        // literal fds and dma-buf fds (a buffer'v.s name) are the call'v.s error paths (-ENOENT for a fd that is no sync_file)
        st.getMerge().getFencesList().stream().filter(f -> !f.trim().matches("-?\\d+") && !v.buffers.containsKey(f))
            .forEach(f -> v.fenceUse(i, "merge.fences", f, deps));
      }
      case "timeline" -> {
        v.processRef(i, "process", p, true);
        if (st.getTimeline().getName().isEmpty()) v.problem(path + ".timeline.name", "the timeline needs a name");
      }
      case "point" -> {
        v.processRef(i, "process", p, true);
        v.timelineUse(i, "point.timeline", st.getPoint().getTimeline(), deps);
      }
      case "inc" -> v.timelineUse(i, "inc.timeline", st.getInc().getTimeline(), deps);
      case "close_timeline" -> v.timelineUse(i, "close_timeline.timeline", st.getCloseTimeline().getTimeline(), deps);
      case "cpu_access" -> {
        v.processRef(i, "process", p, true);
        v.bufferRef(i, "cpu_access.buffer", st.getCpuAccess().getBuffer());
        if (!st.getCpuAccess().getDevice().isEmpty()) v.deviceRef(i, "cpu_access.device", st.getCpuAccess().getDevice());
      }
      case "checksum" -> v.bufferRef(i, "checksum.buffer", st.getChecksum().getBuffer());
      case "unplug" -> v.deviceRef(i, "unplug.device", st.getUnplug().getDevice());
      case "kill_node" -> v.nodeRef(path + ".kill_node.node", st.getKillNode().getNode());
      case "pause_node" -> new ClusterFaultChecks(v).pauseNode(path + ".pause_node", st.getPauseNode());
      case "partition" -> new ClusterFaultChecks(v).partition(path + ".partition", st.getPartition());
      case "link_delay" -> new ClusterFaultChecks(v).linkDelay(path + ".link_delay", st.getLinkDelay());
      case "kill_coordinator" -> { } // nothing to name
      case "hang" -> v.deviceRef(i, "hang.device", st.getHang().getDevice());
      case "fail_reset" -> v.deviceRef(i, "fail_reset.device", st.getFailReset().getDevice());
      case "pause" -> v.duration(path + ".pause.duration", st.getPause().getDuration(), false);
      case "export_sync_file" -> {
        v.processRef(i, "process", p, true);
        v.bufferRef(i, "export_sync_file.buffer", st.getExportSyncFile().getBuffer());
      }
      case "resv" -> {
        v.processRef(i, "process", p, true);
        if (!st.getResv().getMode().isEmpty() && !st.getResv().getMode().matches("modern|2020")) {
          v.problem(path + ".resv.mode", "mode must be modern or 2020, not '" + st.getResv().getMode() + "'");
        }
      }
      case "resv_add" -> {
        v.processRef(i, "process", p, true);
        var ra = st.getResvAdd();
        if (!ra.getBuffer().isEmpty()) {
          v.bufferRef(i, "resv_add.buffer", ra.getBuffer());
          if (!ra.getResv().isEmpty()) {
            v.problem(path + ".resv_add", "give either resv or buffer");
          }
        } else {
          Integer r = v.resvProducers.get(ra.getResv());
          if (r == null || !v.before(r, i, deps)) {
            v.problem(path + ".resv_add.resv", "resv '" + ra.getResv() + "' is not created by a step this one comes after");
          }
        }
        v.fenceUse(i, "resv_add.fence", ra.getFence(), deps);
        ra.getOrderedAfterList().forEach(f -> v.fenceUse(i, "resv_add.ordered_after", f, deps));
        if (!ra.getUsage().matches("read|write|kernel|bookkeep")) {
          v.problem(path + ".resv_add.usage", "usage must be read, write, kernel or bookkeep, not '" + ra.getUsage() + "'");
        }
      }
      default -> v.problem(path, "unsupported action " + action);
    }
  }
}
