package dev.fencelab.protocol.scenario;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.fencelab.protocol.scenario.v1.Scenario;
import com.google.protobuf.Message;
import dev.fencelab.protocol.scenario.v1.Step;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** How a scenario's steps are named and ordered — shared by the validator and the runner. */
public final class ScenarioSteps {
  private ScenarioSteps() {}

  /** The id of step {@code i}: its own, or {@code step-<i+1>}. */
  public static String id(Scenario s, int i) {
    String id = s.getSteps(i).getId();
    return id.isEmpty() ? "step-" + (i + 1) : id;
  }

  /** The name of the step's action, as written in a scenario ({@code submit}, {@code find_seqno}), or "none". */
  public static String action(Step step) {
    FieldDescriptor f = actionField(step);
    return f == null ? "none" : f.getName();
  }

  /** The field of the step's action (the set member of its {@code oneof action}), or null. */
  public static FieldDescriptor actionField(Step step) {
    return step.getActionCase() == Step.ActionCase.ACTION_NOT_SET ? null
        : Step.getDescriptor().findFieldByNumber(step.getActionCase().getNumber());
  }

  /** The action's message (its fields: the call's arguments). */
  public static Message actionMessage(Step step) {
    FieldDescriptor f = actionField(step);
    return f == null ? null : (Message) step.getField(f);
  }

  /** What a name in a step stands for. */
  public enum RefKind { FENCE, FD, CALLBACK, CONTEXT, TIMELINE, RESV, BUFFER, DEVICE, PROCESS, REGION, NOTIFIER, PD, MR, CQ, QP;

    /** An RDMA verbs object: bound to its NIC, on the NIC's member. */
    public boolean rdma() {
      return this == PD || this == MR || this == CQ || this == QP;
    }
  }

  /** The RDMA verbs: each runs on its NIC's member (not its process's). */
  public static boolean isRdmaStep(Step step) {
    return switch (step.getActionCase()) {
      case ALLOC_PD, REG_MR, DEREG_MR, CREATE_CQ, CREATE_QP, CONNECT_QP, POST_SEND, POST_RECV, POLL_CQ -> true;
      default -> false;
    };
  }

  /** A name a step uses or binds, with the field it is written in ({@code signal.fence}, {@code wait_any.fences[1]}). */
  public record Ref(RefKind kind, String name, String field) {}

  /** The kernel thread that makes the step's call ({@code thread} of the lockdep steps, alloc, waits, signal), or "". */
  public static String thread(Step step) {
    return switch (step.getActionCase()) {
      case BEGIN_SIGNALLING -> step.getBeginSignalling().getThread();
      case END_SIGNALLING -> step.getEndSignalling().getThread();
      case LOCK -> step.getLock().getThread();
      case UNLOCK -> step.getUnlock().getThread();
      case ALLOC -> step.getAlloc().getThread();
      case WAIT -> step.getWait().getThread();
      case WAIT_TIMEOUT -> step.getWaitTimeout().getThread();
      case SIGNAL -> step.getSignal().getThread();
      default -> "";
    };
  }

  /** The actions the runner itself carries out (no node makes a call for them). */
  private static final java.util.Set<Step.ActionCase> RUNNER_ACTIONS = java.util.EnumSet.of(Step.ActionCase.KILL_NODE,
      Step.ActionCase.PAUSE, Step.ActionCase.PAUSE_NODE, Step.ActionCase.PARTITION, Step.ActionCase.KILL_COORDINATOR,
      Step.ActionCase.LINK_DELAY, Step.ActionCase.ACTION_NOT_SET);

  /** Process calls whose fence and buffer names are the process's fds (a sync_file, a dma-buf). */
  private static final java.util.Set<Step.ActionCase> FD_CALLS = java.util.EnumSet.of(Step.ActionCase.IMPORT_SYNC_FILE,
      Step.ActionCase.WAIT, Step.ActionCase.MERGE, Step.ActionCase.EXPORT_SYNC_FILE, Step.ActionCase.IMPORT);

  /** Fields whose name alone does not say what they hold (by their path in the step). */
  private static final Map<String, RefKind> FIELD_KINDS = Map.ofEntries(Map.entry("notifier_insert.called", RefKind.FENCE),
      Map.entry("pass.name", RefKind.FD), Map.entry("pass.to", RefKind.PROCESS), Map.entry("fork.into", RefKind.PROCESS),
      Map.entry("submit.in_fences", RefKind.FD), Map.entry("submit.reads", RefKind.BUFFER), Map.entry("submit.writes", RefKind.BUFFER),
      Map.entry("submit.copy.from", RefKind.BUFFER), Map.entry("submit.copy.to", RefKind.BUFFER));

  /**
   * The actions executed through the step protocol (one ExecuteStep, one StepResult) by a handler on a node: all but
   * {@code pause} and the cluster faults ({@code kill_node}, {@code pause_node}, {@code partition},
   * {@code kill_coordinator}, {@code link_delay}), which the runner carries out itself.
   */
  public static boolean isProtocolStep(Step step) {
    return !RUNNER_ACTIONS.contains(step.getActionCase());
  }

  /**
   * The actions added with the step protocol (field 40 on: the fence API, sync_file, resv queries, dma-buf calls, and
   * every action added since): the validator checks them generically, by the kinds of name their fields hold.
   */
  public static boolean isV2Action(Step step) {
    int n = step.getActionCase().getNumber();
    return n >= 40 && !RUNNER_ACTIONS.contains(step.getActionCase());
  }

  /** True for the actions made by a process on its fds (sync_file and dma-buf ioctls). */
  public static boolean isFdStep(Step step) {
    int n = step.getActionCase().getNumber();
    return n >= 70 && n < 80 || FD_CALLS.contains(step.getActionCase());
  }

  /**
   * The names a protocol step uses, by its fields' names: {@code fence}, {@code fences}, {@code prev}, {@code a},
   * {@code b} are fences; {@code fd} and {@code sync_file} a fd of the step's process (a literal number is not a name);
   * {@code buffer} a scenario buffer (its dma-buf fd in the process, its exporter); {@code device} a device;
   * {@code callback}, {@code context}, {@code timeline} and {@code resv} what they say. The few fields whose name
   * does not say it are listed by path ({@code pass.to} is a process, {@code submit.reads} buffers…).
   */
  public static List<Ref> uses(Step step) {
    List<Ref> out = new ArrayList<>();
    Message m = actionMessage(step);
    if (m == null || !isProtocolStep(step)) {
      return out;
    }
    uses(step, m, action(step), out);
    return out;
  }

  private static void uses(Step step, Message m, String path, List<Ref> out) {
    boolean fds = FD_CALLS.contains(step.getActionCase()); // their fence names are the process's sync_file fds
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      String field = path + "." + e.getKey().getName();
      if (e.getKey().getJavaType() == FieldDescriptor.JavaType.MESSAGE && !e.getKey().isRepeated()) {
        uses(step, (Message) e.getValue(), field, out); // submit.copy
        continue;
      }
      RefKind kind = FIELD_KINDS.containsKey(field) ? FIELD_KINDS.get(field) : switch (e.getKey().getName()) {
        case "fence", "fences" -> fds ? RefKind.FD : RefKind.FENCE;
        case "prev", "a", "b", "ordered_after" -> RefKind.FENCE;
        case "fd", "sync_file" -> RefKind.FD;
        case "resv" -> RefKind.RESV;
        case "buffer" -> RefKind.BUFFER;
        case "callback" -> RefKind.CALLBACK;
        case "context" -> RefKind.CONTEXT;
        case "timeline" -> RefKind.TIMELINE;
        case "device" -> RefKind.DEVICE;
        case "region" -> RefKind.REGION;
        case "notifier" -> RefKind.NOTIFIER;
        case "pd" -> RefKind.PD;
        case "mr", "remote_mr" -> RefKind.MR;
        case "cq" -> RefKind.CQ;
        case "qp", "peer" -> RefKind.QP;
        default -> null;
      };
      if (kind == null || e.getKey().getJavaType() != FieldDescriptor.JavaType.STRING) {
        continue;
      }
      if (e.getKey().isRepeated()) {
        List<?> names = (List<?>) e.getValue();
        for (int i = 0; i < names.size(); i++) {
          String name = (String) names.get(i);
          if (!((kind == RefKind.FD || kind == RefKind.TIMELINE) && isNumber(name))) { // a literal fd is not a name
            out.add(new Ref(kind, name, field + "[" + i + "]"));
          }
        }
      } else if (!((kind == RefKind.FD || kind == RefKind.TIMELINE) && isNumber((String) e.getValue()))) { // a literal fd
        out.add(new Ref(kind, (String) e.getValue(), field));
      }
    }
  }

  /** The name a protocol step binds with its {@code as} field, and what it binds: a callback, a context or a fence. */
  public static Ref binds(Step step) {
    Message m = actionMessage(step);
    if (m == null || !isProtocolStep(step)) {
      return null;
    }
    if (step.hasTimeline()) {
      return new Ref(RefKind.TIMELINE, step.getTimeline().getName(), "timeline.name");
    }
    if (step.hasResv()) {
      return new Ref(RefKind.RESV, step.getResv().getName(), "resv.name");
    }
    FieldDescriptor as = m.getDescriptorForType().findFieldByName("as");
    if (as == null || ((String) m.getField(as)).isEmpty()) {
      if (step.getActionCase() == Step.ActionCase.SYNC_FILE && !step.getSyncFile().getFence().isEmpty()) {
        return new Ref(RefKind.FD, step.getSyncFile().getFence(), "sync_file.fence");
      }
      return null;
    }
    RefKind kind = switch (step.getActionCase()) {
      case ADD_CALLBACK -> RefKind.CALLBACK;
      case CONTEXT_ALLOC -> RefKind.CONTEXT;
      case SYNC_FILE, POINT, MERGE, EXPORT_SYNC_FILE -> RefKind.FD;
      case MMAP -> RefKind.REGION;
      case NOTIFIER_INSERT -> RefKind.NOTIFIER;
      case USERPTR -> RefKind.BUFFER;
      case ALLOC_PD -> RefKind.PD;
      case REG_MR -> RefKind.MR;
      case CREATE_CQ -> RefKind.CQ;
      case CREATE_QP -> RefKind.QP;
      default -> RefKind.FENCE;
    };
    return new Ref(kind, (String) m.getField(as), action(step) + ".as");
  }

  /**
   * The buffers the scenario's {@code userptr} steps make (a GPU buffer object over a process's memory), as buffers:
   * named by the step's {@code as}, on its device, owned by its process; submissions read and write them by name.
   */
  public static List<dev.fencelab.protocol.scenario.v1.Buffer> userptrBuffers(Scenario s) {
    List<dev.fencelab.protocol.scenario.v1.Buffer> out = new ArrayList<>();
    for (Step st : s.getStepsList()) {
      if (st.hasUserptr() && !st.getUserptr().getAs().isEmpty()) {
        out.add(dev.fencelab.protocol.scenario.v1.Buffer.newBuilder().setName(st.getUserptr().getAs()).setDevice(st.getUserptr().getDevice())
            .setProcess(st.getProcess()).setPlacement("userptr").build());
      }
    }
    return out;
  }

  private static boolean isNumber(String s) {
    try {
      Integer.parseInt(s.trim());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** The steps each step starts after: its {@code after} list, else the previous step, none for {@code start_at_once}. */
  public static List<List<Integer>> dependencies(Scenario s) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < s.getStepsCount(); i++) {
      index.put(id(s, i), i);
    }
    List<List<Integer>> deps = new ArrayList<>();
    for (int i = 0; i < s.getStepsCount(); i++) {
      Step st = s.getSteps(i);
      List<Integer> d = new ArrayList<>();
      if (st.getAfterCount() > 0) {
        st.getAfterList().forEach(a -> {
          if (index.containsKey(a)) {
            d.add(index.get(a));
          }
        });
      } else if (!st.getStartAtOnce() && i > 0) {
        d.add(i - 1);
      }
      deps.add(d);
    }
    return deps;
  }
}
