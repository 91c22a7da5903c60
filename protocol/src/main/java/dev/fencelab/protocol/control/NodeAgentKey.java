package dev.fencelab.protocol.control;

import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/** The Receptionist key under which every node member registers its agent. */
public final class NodeAgentKey {
  public static final ServiceKey<NodeControl> KEY = ServiceKey.create(NodeControl.class, "fencelab-node-agent");

  private NodeAgentKey() {}
}
