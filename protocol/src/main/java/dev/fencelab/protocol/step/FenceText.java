package dev.fencelab.protocol.step;

import dev.fencelab.protocol.fence.v1.FenceV1;

/** A fence as traces and verdicts write it, from its wire form: {@code ctx<id>.<origin low 16 bits, hex>#<seqno>}. */
public final class FenceText {
  private FenceText() {}

  public static String id(FenceV1.FenceId id) {
    FenceV1.FenceContext c = id.getContext();
    String context = c.getOrigin() == 0 && c.getId() == 0 ? "ctx0" : "ctx" + c.getId() + "." + Long.toHexString(c.getOrigin() & 0xffffL);
    return context + "#" + Long.toUnsignedString(id.getSeqno());
  }

  public static String id(FenceV1.FenceRef fence) {
    return id(fence.getId());
  }

  /** The address of the member that hosts the fence's actor ({@code pekko://fencelab@host:port}), "" for a stub. */
  public static String address(FenceV1.FenceRef fence) {
    String actor = fence.getActor();
    int scheme = actor.indexOf("://");
    if (scheme < 0) {
      return "";
    }
    int path = actor.indexOf('/', scheme + 3);
    return path < 0 ? actor : actor.substring(0, path);
  }
}
