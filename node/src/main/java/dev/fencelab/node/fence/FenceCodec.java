package dev.fencelab.node.fence;

import dev.fencelab.protocol.fence.v1.FenceV1;
import java.io.NotSerializableException;

/** A fence reference to and from its wire form (implemented by the node serializer, which owns actor-ref resolution). */
public interface FenceCodec {
  FenceV1.FenceRef fenceRef(FenceRef fence);

  FenceRef fenceRef(FenceV1.FenceRef wire) throws NotSerializableException;
}
