package dev.fencelab.coordinator.scenario;

import dev.fencelab.protocol.scenario.ScenarioSteps;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.List;
import java.util.Map;

/**
 * The checks of a step's {@code expect} and of the steps added with the step protocol (the fence API, sync_file, resv
 * queries, dma-buf calls): every name they use is known and made by a step they come after, by the kind of name its
 * field holds; timeouts, usages and errno names are valid. Reports through its {@link ScenarioValidator}.
 */
final class StepChecks {
  /** A gfp as a scenario writes it: {@code kernel}, or the kernel's spelling {@code GFP_KERNEL}. */
  static final String GFP = "(?i)(gfp_)?(kernel|nofs|noio|atomic|nowait)";

  private final ScenarioValidator v;
  /** Each kernel thread's node (kernel-semantics §1.18 steps): a thread lives on one machine. */
  private final Map<String, String> threadNodes = new java.util.HashMap<>();

  StepChecks(ScenarioValidator v) {
    this.v = v;
  }

  /** A step made by a kernel thread: named, on a node the step states, the same node as the thread's other steps. */
  void thread(int i, Step st) {
    String path = "steps[" + i + "]";
    String thread = ScenarioSteps.thread(st);
    boolean threadStep = st.hasBeginSignalling() || st.hasEndSignalling() || st.hasLock() || st.hasUnlock();
    if (thread.isEmpty()) {
      if (threadStep) {
        v.problem(path + "." + ScenarioSteps.action(st) + ".thread", "name the kernel thread that makes this call");
      }
      return;
    }
    if ((st.hasLock() && st.getLock().getLock().isEmpty()) || (st.hasUnlock() && st.getUnlock().getLock().isEmpty())) {
      v.problem(path + "." + ScenarioSteps.action(st) + ".lock", "name the lock");
    }
    if (st.hasLock() && st.getLock().getRead() && st.getLock().getTrylock()) {
      v.problem(path + ".lock", "read and trylock together: down_read_trylock is not modelled; pick one");
    }
    String node = !st.getNode().isEmpty() ? st.getNode() : v.processNodes.get(st.getProcess());
    if (node == null) {
      v.problem(path, "kernel thread '" + thread + "' runs on a node: give the step 'node' (or 'process')");
      return;
    }
    String was = threadNodes.putIfAbsent(thread, node);
    if (was != null && !was.equals(node)) {
      v.problem(path + ".node", "kernel thread '" + thread + "' lives on node " + was + ", not " + node);
    }
  }

  /** A step of the step protocol: its process, and every name it uses, known and produced by a step it comes after. */
  void protocolStep(int i, Step st, List<List<Integer>> deps) {
    String path = "steps[" + i + "]";
    v.processRef(i, "process", st.getProcess(), ScenarioSteps.isFdStep(st));
    for (ScenarioSteps.Ref ref : ScenarioSteps.uses(st)) {
      switch (ref.kind()) {
        case FENCE -> v.fenceUse(i, ref.field(), ref.name(), deps);
        case FD -> {
          if (!v.buffers.containsKey(ref.name())) { // a dma-buf fd is named after its buffer
            v.fenceUse(i, ref.field(), ref.name(), deps);
          }
        }
        case BUFFER -> v.bufferRef(i, ref.field(), ref.name());
        case DEVICE -> v.deviceRef(i, ref.field(), ref.name());
        case PROCESS -> v.processRef(i, ref.field(), ref.name(), true);
        case RESV -> {
          Integer r = v.resvProducers.get(ref.name());
          if (r == null || !v.before(r, i, deps)) {
            v.problem("steps[" + i + "]." + ref.field(), "resv '" + ref.name() + "' is not created by a step this one comes after");
          }
        }
        case TIMELINE -> v.timelineUse(i, ref.field(), ref.name(), deps);
        case CALLBACK -> localUse(i, ref, v.callbackProducers, "callback", "add_callback", deps);
        case CONTEXT -> localUse(i, ref, v.contextProducers, "fence context", "context_alloc", deps);
        case REGION -> localUse(i, ref, v.regionProducers, "region", "mmap", deps);
        case NOTIFIER -> localUse(i, ref, v.notifierProducers, "notifier", "notifier_insert", deps);
        case PD, MR, CQ, QP -> localUse(i, ref, v.rdmaProducers.getOrDefault(ref.kind(), Map.of()), rdmaWhat(ref.kind()),
            rdmaMaker(ref.kind()), deps);
      }
    }
    switch (st.getActionCase()) {
      case WAIT_TIMEOUT -> timeout(path + ".wait_timeout.timeout", st.getWaitTimeout().getTimeout());
      case WAIT_ANY -> timeout(path + ".wait_any.timeout", st.getWaitAny().getTimeout());
      case FENCE -> {
        String ops = st.getFence().getEnableSignaling();
        if (!ops.isEmpty() && !ops.matches("none|counting|refusing")) {
          v.problem(path + ".fence.enable_signaling", "enable_signaling must be none, counting or refusing, not '" + ops + "'");
        }
      }
      case SIGNAL -> errnoName(path + ".signal.error", st.getSignal().getError());
      case SET_ERROR -> errnoName(path + ".set_error.error", st.getSetError().getError());
      case CHAIN -> {
        if (st.getChain().getFence().isEmpty()) v.problem(path + ".chain.fence", "a chain point contains a fence");
      }
      case RESV_FENCES -> usage(path + ".resv_fences.usage", st.getResvFences().getUsage(), true);
      case RESV_TEST_SIGNALED -> usage(path + ".resv_test_signaled.usage", st.getResvTestSignaled().getUsage(), true);
      case RESV_SINGLETON -> usage(path + ".resv_singleton.usage", st.getResvSingleton().getUsage(), true);
      case MUNMAP, MPROTECT, MADVISE, CPU_WRITE, CPU_READ, NOTIFIER_INSERT, INVALIDATE, USERPTR, MIGRATE_VMA, HMM_RANGE_FAULT, MAKE_EXCLUSIVE -> {
        if ((st.hasMigrateVma() || st.hasHmmRangeFault() || st.hasMakeExclusive()) && st.getProcess().isEmpty()) {
          v.problem(path, "'" + ScenarioSteps.action(st) + "' works on a process's address space: give the step a process");
        }
        rangeFields(path, st);
        if (st.hasMprotect()) prot(path + ".mprotect.prot", st.getMprotect().getProt());
        if (st.hasMadvise() && !st.getMadvise().getAdvice().matches("dontneed")) {
          v.problem(path + ".madvise.advice", "advice must be dontneed, not '" + st.getMadvise().getAdvice() + "'");
        }
        if (st.hasNotifierInsert()) notifierInsert(path, st.getNotifierInsert());
        if (st.hasInvalidate() && !st.getInvalidate().getEvent().isEmpty() && !st.getInvalidate().getEvent().toUpperCase(java.util.Locale.ROOT)
            .matches("UNMAP|CLEAR|PROTECTION_VMA|PROTECTION_PAGE|SOFT_DIRTY|RELEASE|MIGRATE|EXCLUSIVE")) {
          v.problem(path + ".invalidate.event", "unknown mmu_notifier_event '" + st.getInvalidate().getEvent() + "'");
        }
        if (st.hasUserptr() && st.getUserptr().getAs().isEmpty()) v.problem(path, "'userptr' binds a buffer name: give it 'as'");
      }
      case FORK -> {
        String into = st.getFork().getInto();
        if (!into.isEmpty() && v.processNodes.containsKey(into) && !v.processNodes.get(into).equals(v.processNodes.get(st.getProcess()))) {
          v.problem(path + ".fork.into", "the child '" + into + "' is on " + v.processNodes.get(into) + ", its parent on "
              + v.processNodes.get(st.getProcess()) + ": fork makes the child on the parent's machine");
        }
        if (into.equals(st.getProcess())) {
          v.problem(path + ".fork.into", "a process cannot be its own child");
        }
      }
      case DMIRROR -> {
        if (st.getProcess().isEmpty()) {
          v.problem(path, "'dmirror' mirrors a process's address space: give the step a process");
        }
        if (!st.getDmirror().getOp().matches("read|write|migrate_to_dev|migrate_to_sys|snapshot|exclusive|check_exclusive")) {
          v.problem(path + ".dmirror.op", "op must be read, write, migrate_to_dev, migrate_to_sys, snapshot, exclusive or "
              + "check_exclusive, not '" + st.getDmirror().getOp() + "'");
        }
        rangeFields(path, st);
      }
      case MMAP -> {
        v.size(path + ".mmap.length", st.getMmap().getLength(), false);
        prot(path + ".mmap.prot", st.getMmap().getProt());
      }
      case OOM_REAP -> v.duration(path + ".oom_reap.delay", st.getOomReap().getDelay(), true);
      case ALLOC -> {
        v.size(path + ".alloc.size", st.getAlloc().getSize(), false);
        if (!st.getAlloc().getGfp().isEmpty() && !st.getAlloc().getGfp().matches(GFP)) {
          v.problem(path + ".alloc.gfp", "gfp must be kernel, nofs, noio, atomic or nowait, not '" + st.getAlloc().getGfp() + "'");
        }
      }
      case ALLOC_PD, REG_MR, DEREG_MR, CREATE_CQ, CREATE_QP, CONNECT_QP, POST_SEND, POST_RECV, POLL_CQ -> rdma(path, st);
      case P2P_DISTANCE, P2P_FIND -> {
        List<String> names = new java.util.ArrayList<>(st.hasP2PDistance() ? st.getP2PDistance().getClientsList() : st.getP2PFind().getClientsList());
        if (st.hasP2PDistance()) {
          names.add(0, st.getP2PDistance().getProvider());
        }
        for (String n : names) {
          if (!v.pciFunctions.contains(n)) {
            v.problem(path + "." + ScenarioSteps.action(st), "'" + n + "' is neither a device nor a PCI function of the pcie section");
          }
        }
      }
      case CONTEXT_ALLOC, ADD_CALLBACK -> {
        ScenarioSteps.Ref b = ScenarioSteps.binds(st);
        if (b == null) v.problem(path, "'" + ScenarioSteps.action(st) + "' binds a name: give it 'as'");
      }
      default -> {}
    }
  }

  static String rdmaWhat(ScenarioSteps.RefKind kind) {
    return switch (kind) {
      case PD -> "protection domain";
      case MR -> "memory region";
      case CQ -> "completion queue";
      default -> "queue pair";
    };
  }

  private static String rdmaMaker(ScenarioSteps.RefKind kind) {
    return switch (kind) {
      case PD -> "alloc_pd";
      case MR -> "reg_mr";
      case CQ -> "create_cq";
      default -> "create_qp";
    };
  }

  /** The RDMA verbs: names to bind, NICs that are rdma_nics, access flags, opcodes and the fields each opcode takes. */
  private void rdma(String path, Step st) {
    String action = ScenarioSteps.action(st);
    ScenarioSteps.Ref b = ScenarioSteps.binds(st);
    if (b == null && (st.hasAllocPd() || st.hasRegMr() || st.hasCreateCq() || st.hasCreateQp())) {
      v.problem(path, "'" + action + "' binds a name: give it 'as'");
    }
    String device = st.hasAllocPd() ? st.getAllocPd().getDevice() : st.hasCreateCq() ? st.getCreateCq().getDevice() : "";
    var d = v.devices.get(device);
    if (d != null && !d.getKind().equals("rdma_nic")) {
      v.problem(path + "." + action + ".device", "device '" + device + "' is a " + (d.getKind().isEmpty() ? "gpu" : d.getKind())
          + ", not an rdma_nic");
    }
    if (st.hasRegMr()) {
      var r = st.getRegMr();
      if (st.getProcess().isEmpty()) {
        v.problem(path, "'reg_mr' registers a process's memory: give the step a process");
      }
      for (String a : r.getAccessList()) {
        if (!a.matches("local_write|remote_write|remote_read|remote_atomic|on_demand")) {
          v.problem(path + ".reg_mr.access", "access must be local_write, remote_write, remote_read, remote_atomic or on_demand, not '" + a + "'");
        }
      }
      int sources = (r.getRegion().isEmpty() ? 0 : 1) + (r.getStart().isEmpty() ? 0 : 1) + (r.getBuffer().isEmpty() ? 0 : 1);
      if (sources != 1) {
        v.problem(path + ".reg_mr", "reg_mr takes a region (with offset and length), a start address with a length, or a dma-buf "
            + "buffer — one of them");
      }
      if (r.getPinned() && r.getBuffer().isEmpty()) {
        v.problem(path + ".reg_mr.pinned", "pinned is for a dma-buf MR (ib_umem_dmabuf_get_pinned): give it a buffer");
      }
      if (!r.getStart().isEmpty() && !r.getStart().matches("(0x[0-9a-fA-F]{1,16}|\\d{1,20})")) {
        v.problem(path + ".reg_mr.start", "start is an address (decimal or 0x hex), not '" + r.getStart() + "'");
      }
      optionalSize(path + ".reg_mr.offset", r.getOffset());
      optionalSize(path + ".reg_mr.length", r.getLength());
    }
    if (st.hasPostSend()) {
      var p = st.getPostSend();
      if (!p.getOpcode().matches("write|read|send")) {
        v.problem(path + ".post_send.opcode", "opcode must be write, read or send, not '" + p.getOpcode() + "'");
      } else if (p.getOpcode().equals("send") != p.getRemoteMr().isEmpty()) {
        v.problem(path + ".post_send.remote_mr", p.getOpcode().equals("send") ? "a send names no remote_mr (the receiver's post_recv "
            + "chooses the buffer)" : "an RDMA " + p.getOpcode() + " names the remote_mr (its rkey)");
      }
      optionalSize(path + ".post_send.offset", p.getOffset());
      optionalSize(path + ".post_send.length", p.getLength());
      optionalSize(path + ".post_send.remote_offset", p.getRemoteOffset());
    }
    if (st.hasPostRecv()) {
      optionalSize(path + ".post_recv.offset", st.getPostRecv().getOffset());
      optionalSize(path + ".post_recv.length", st.getPostRecv().getLength());
    }
    if (st.hasPollCq()) {
      v.duration(path + ".poll_cq.wait", st.getPollCq().getWait(), true);
    }
  }

  private void optionalSize(String path, String value) {
    if (!value.isEmpty()) {
      v.size(path, value, true);
    }
  }

  private void localUse(int i, ScenarioSteps.Ref ref, Map<String, Integer> producers, String what, String producer,
      List<List<Integer>> deps) {
    Integer p = producers.get(ref.name());
    if (p == null) {
      v.problem("steps[" + i + "]." + ref.field(), "unknown " + what + " '" + ref.name() + "' (made by " + producer + " steps: "
          + ScenarioValidator.some(producers.keySet()) + ")");
    } else if (!v.before(p, i, deps)) {
      v.problem("steps[" + i + "]." + ref.field(), "step '" + ScenarioSteps.id(v.s, i) + "' uses " + what + " '" + ref.name()
          + "' but does not come after step '" + ScenarioSteps.id(v.s, p) + "', which makes it");
    }
  }

  private void notifierInsert(String path, dev.fencelab.protocol.scenario.v1.NotifierInsert n) {
    if (!n.getOnInvalidate().isEmpty() && !n.getOnInvalidate().matches("ok|nonblock_refuses|refuse|wait|remove_self")) {
      v.problem(path + ".notifier_insert.on_invalidate", "on_invalidate must be ok, nonblock_refuses, refuse, wait or remove_self, not '"
          + n.getOnInvalidate() + "'");
    }
    if (n.getOnInvalidate().equals("wait") == n.getFence().isEmpty()) {
      v.problem(path + ".notifier_insert", "on_invalidate 'wait' names the fence it waits for, and only it does");
    }
    if (!n.getStart().isEmpty() && !n.getStart().matches("(0x[0-9a-fA-F]{1,16}|\\d{1,20})")) {
      v.problem(path + ".notifier_insert.start", "start is an address (decimal or 0x hex), not '" + n.getStart() + "'");
    }
    if (n.getRegion().isEmpty() && n.getLength().isEmpty()) {
      v.problem(path + ".notifier_insert", "give a region (or start and length)");
    }
  }

  /** The offset and length of a range step: sizes with units, when given. */
  private void rangeFields(String path, Step st) {
    com.google.protobuf.Message m = ScenarioSteps.actionMessage(st);
    for (String f : List.of("offset", "length")) {
      var field = m.getDescriptorForType().findFieldByName(f);
      if (field != null) {
        v.size(path + "." + ScenarioSteps.action(st) + "." + f, (String) m.getField(field), true);
      }
    }
  }

  private void prot(String path, String prot) {
    if (!prot.isEmpty() && !prot.matches("none|r|w|rw|rx|rwx|x|wx")) {
      v.problem(path, "prot must be none, r, rw, rwx (letters r, w, x), not '" + prot + "'");
    }
  }

  private void usage(String path, String usage, boolean optional) {
    if (usage.isEmpty() ? !optional : !usage.matches("kernel|write|read|bookkeep")) {
      v.problem(path, "usage must be kernel, write, read or bookkeep, not '" + usage + "'");
    }
  }

  /** A timeout: a duration, "forever", or a negative one (the -EINVAL path of the call). */
  private void timeout(String path, String value) {
    String t = value.trim();
    if (t.isEmpty() || t.equals("forever")) {
      return;
    }
    v.duration(path, t.startsWith("-") ? t.substring(1) : t, false);
  }

  private void errnoName(String path, String name) {
    if (!name.isEmpty() && dev.fencelab.protocol.Errno.byName(name.toUpperCase(java.util.Locale.ROOT)) == null && !name.matches("-?\\d+")) {
      v.problem(path, "unknown errno '" + name + "'");
    }
  }

  /** The step's expect: errno names this version knows, wait results it can produce. */
  void expect(int i, Step st) {
    if (!st.hasExpect()) {
      return;
    }
    String path = "steps[" + i + "].expect";
    var e = st.getExpect();
    if (!e.getErrno().isEmpty() && dev.fencelab.protocol.Errno.byName(e.getErrno()) == null) {
      v.problem(path + ".errno", "unknown errno '" + e.getErrno() + "'");
    }
    if (!e.getResult().isEmpty() && !e.getResult().matches("signaled|signalled|timeout")) {
      v.problem(path + ".result", "result must be signaled or timeout, not '" + e.getResult() + "'");
    }
    if (e.hasRet() && !e.getErrno().isEmpty()) {
      v.problem(path, "give either ret or errno (errno E means ret == -E)");
    }
  }

}
