package dev.fencelab.node.driver;

import dev.fencelab.node.memory.Content;
import dev.fencelab.node.resv.Resv;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/** A buffer object of a driver (a GEM object): its own (with content and a reservation object) or an import. */
final class Bo {
  final int handle;
  final String name;
  final String owner;
  final long size;
  DriverProtocol.Placement placement;
  long address;
  Content content; // null for imports
  ActorRef<Resv.Command> resv;
  DmaBufRef exported;
  final Map<Integer, Attachment> attachments = new LinkedHashMap<>();
  DmaBufRef imported;
  int attachment;
  boolean dynamic;
  boolean staticExporter; // exported without pin/unpin ops: never moved while attached
  boolean revoked;
  boolean mapped;
  /** An import: whether the exporter left the attachment peer2peer, its PCI function, and whether its last map was host memory. */
  boolean peer2peer;
  String exporterEndpoint = "";
  boolean remoteSystem;
  /** A userptr buffer: its notifier subscriber, lock and translation (null for any other buffer). */
  ActorRef<Object> userptr;

  Bo(int handle, String name, String owner, long size) {
    this.handle = handle;
    this.name = name;
    this.owner = owner;
    this.size = size;
  }

  /** An importer's attachment to an exported buffer ({@code struct dma_buf_attachment}). */
  static final class Attachment {
    final int id;
    final ActorRef<DriverProtocol.Command> importer;
    final int importerHandle;
    final boolean dynamic;
    /** {@code attach->peer2peer}: the importer may use the BAR (it asked, and the p2pdma distance allowed it). */
    final boolean peer2peer;
    boolean pinned;
    boolean mapped;
    /** Its importer's move_notify for the revoke returned (or it detached): it no longer maps the buffer. */
    boolean revokeAnswered;

    Attachment(int id, ActorRef<DriverProtocol.Command> importer, int importerHandle, boolean dynamic, boolean peer2peer) {
      this.id = id;
      this.importer = importer;
      this.importerHandle = importerHandle;
      this.dynamic = dynamic;
      this.peer2peer = peer2peer;
    }
  }
}
