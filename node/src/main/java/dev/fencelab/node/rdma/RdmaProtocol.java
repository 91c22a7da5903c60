package dev.fencelab.node.rdma;

import dev.fencelab.node.NodeWireMessage;
import dev.fencelab.node.memory.Chunk;
import dev.fencelab.node.mm.MmProtocol;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What an {@link RdmaNic} accepts: the verbs, called by the steps on the NIC's member (local), and the transport
 * between NICs (wire: {@code fencelab/rdma/v1/rdma.proto}). Objects are named as the scenario names them.
 */
public final class RdmaProtocol {
  private RdmaProtocol() {}

  /** A verb's answer: {@code ret} (0 or -errno, or a count), named outputs, a line for people. */
  public record Reply(long ret, Map<String, String> out, String detail) implements NoSerializationVerificationNeeded {
    public Reply {
      out = Map.copyOf(out);
      Objects.requireNonNull(detail, "detail");
    }

    static Reply of(long ret, String detail) {
      return new Reply(ret, Map.of(), detail);
    }
  }

  // --- verbs (local)

  /** At placement: the NIC's PCI function in its host's fabric, for the PCIe leg of its DMA to a GPU's memory. */
  public record UsePcie(String endpoint, dev.fencelab.node.p2p.PcieRoutes routes) implements NoSerializationVerificationNeeded {
    public UsePcie {
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(routes, "routes");
    }
  }

  public record AllocPd(String name, ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  /** ibv_reg_mr by process {@code owner} over {@code [start, start + length)} of {@code mm}. */
  public record RegMr(String name, String pd, String owner, ActorRef<MmProtocol.Command> mm, long start, long length, int access,
      ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  /**
   * ibv_reg_dmabuf_mr by process {@code owner} over {@code [offset, offset + length)} of the dma-buf its fd names, exported
   * by {@code exporter} as its buffer {@code handle} of {@code size} bytes: dynamic ({@code ib_umem_dmabuf_get}) or
   * {@code pinned} ({@code ib_umem_dmabuf_get_pinned}).
   */
  public record RegDmabufMr(String name, String pd, String owner, ActorRef<dev.fencelab.node.driver.DriverProtocol.Command> exporter,
      int handle, long size, long offset, long length, int access, boolean pinned, ActorRef<Reply> replyTo)
      implements NoSerializationVerificationNeeded {}

  public record DeregMr(String name, ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  public record CreateCq(String name, int cqe, ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  public record CreateQp(String name, String pd, String cq, ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  /** Connects {@code qp} with {@code peerQp} on NIC {@code peer} (possibly this one). */
  public record ConnectQp(String qp, ActorRef<Object> peer, String peerQp, ActorRef<Reply> replyTo)
      implements NoSerializationVerificationNeeded {}

  /** ibv_post_send of one work request named {@code wr}: the local SGE and, for WRITE and READ, the remote MR. */
  public record PostSend(String qp, String wr, Verbs.Opcode opcode, String mr, long offset, long length, String remoteMr,
      long remoteOffset, ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  public record PostRecv(String qp, String wr, String mr, long offset, long length, ActorRef<Reply> replyTo)
      implements NoSerializationVerificationNeeded {}

  /** ibv_poll_cq: up to {@code max} completions once at least {@code min} are there or {@code waitFor} has passed. */
  public record PollCq(String cq, int max, int min, Duration waitFor, ActorRef<Reply> replyTo) implements NoSerializationVerificationNeeded {}

  // --- the transport between NICs (wire)

  /** Connects the receiver's {@code qp} to {@code fromQp} on NIC {@code from}; answered with {@link Connected}. */
  public record Connect(String qp, String fromQp, ActorRef<Object> from, ActorRef<Connected> replyTo) implements NodeWireMessage {
    public Connect {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** 0, or -EINVAL (no such QP, or it is connected already). */
  public record Connected(int result, String detail) implements NodeWireMessage {}

  /**
   * A requester's work request, to the responder's {@code qp}: {@code psn} identifies it on the connection. WRITE and
   * READ name the responder's MR (its rkey) and an offset in it; SEND and WRITE are followed by {@link Data}, unless they
   * fit the first packet ({@code inline}: up to one MTU, an RC "WRITE Only" or "SEND Only" packet).
   */
  public record Request(String qp, long psn, Verbs.Opcode opcode, String mr, long offset, long length, long modelNanos, List<Chunk> inline)
      implements NodeWireMessage {
    public Request {
      inline = List.copyOf(inline);
    }

    /** A request whose data follows in {@link Data} messages (or a READ). */
    public Request(String qp, long psn, Verbs.Opcode opcode, String mr, long offset, long length, long modelNanos) {
      this(qp, psn, opcode, mr, offset, length, modelNanos, List.of());
    }
  }

  /** Content of a WRITE or SEND (to the responder) or of a READ response (to the requester), offsets from the WR's start. */
  public record Data(String qp, long psn, long offset, List<Chunk> chunks, long modelNanos) implements NodeWireMessage {
    public Data {
      chunks = List.copyOf(chunks);
    }

    public long bytes() {
      long n = 0;
      for (Chunk c : chunks) {
        n += c.length();
      }
      return n;
    }
  }

  /** The receiver of {@link Data} wrote {@code bytes} of it (a window credit); 0 bytes: a SEND found its receive, go. */
  public record DataAck(String qp, long psn, long bytes, long modelNanos) implements NodeWireMessage {}

  /** The responder's end of a WRITE or SEND (success or a NAK), or a READ's NAK: {@code status} is an ib_wc_status. */
  public record Complete(String qp, long psn, int status, long modelNanos) implements NodeWireMessage {}

  /**
   * Coalesced ACKs: the responder's successful ends of the work requests {@code psns}, in the order they ended, each
   * with the model time its own {@link Complete} would have carried ({@code modelNanos}, index for index). Handled as
   * those {@link Complete}s one after the other.
   */
  public record Acks(String qp, List<Long> psns, List<Long> modelNanos) implements NodeWireMessage {
    public Acks {
      psns = List.copyOf(psns);
      modelNanos = List.copyOf(modelNanos);
      if (psns.size() != modelNanos.size()) {
        throw new IllegalArgumentException("Acks: " + psns.size() + " psns, " + modelNanos.size() + " model times");
      }
    }
  }
}
