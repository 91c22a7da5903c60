package dev.fencelab.protocol.step;

/**
 * The keys under which a step request binds the run's objects that are not fences or fds, shared by the runner
 * (which resolves them) and the node handlers (which read them). A fence, a fd and a process are bound under their
 * own scenario name; these keys are prefixed so that a buffer, a device and a fence may share a name.
 */
public final class StepBindings {
  private StepBindings() {}

  /** The PCIe fabric (an actor) of the step's host, which every device's transfers there share. */
  public static final String FABRIC = "pcie:fabric";

  /** The PCIe fabric of {@code host} ({@code ""}: the default host). */
  public static String fabric(String host) {
    return "pcie:fabric@" + host;
  }

  /** A device's driver (an actor). */
  public static String device(String device) {
    return "device:" + device;
  }

  /** A process's label, {@code node/name}, as the drivers know the process (text). */
  public static String label(String process) {
    return "label:" + process;
  }

  /** The label of the process that owns {@code buffer} (text). */
  public static String owner(String buffer) {
    return "owner:" + buffer;
  }

  /** {@code buffer}'s handle on {@code device}: its own on its exporter, an imported one elsewhere. */
  public static String handle(String buffer, String device) {
    return "handle:" + buffer + "@" + device;
  }

  /** {@code buffer}'s handle on the device that exports it (with the exporter's driver bound under the buffer's name). */
  public static String ownHandle(String buffer) {
    return buffer + "#handle";
  }

  /** An RDMA NIC's verbs actor (its PDs, MRs, CQs and QPs are bound under their own names to it). */
  public static String rdma(String device) {
    return "rdma:" + device;
  }

  /** A process's address space, its {@code mm} (an actor). */
  public static String mm(String process) {
    return "mm:" + process;
  }

  /** {@code buffer}'s size in bytes (a number). */
  public static String size(String buffer) {
    return "size:" + buffer;
  }
}
