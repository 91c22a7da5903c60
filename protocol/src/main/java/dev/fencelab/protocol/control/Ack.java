package dev.fencelab.protocol.control;

import java.util.Objects;

/** A node agent's answer to a fault command it carried out: which member, and what it did. */
public record Ack(String nodeName, String detail) implements ControlMessage {
  public Ack {
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(detail, "detail");
  }
}
