package dev.fencelab.node.fence;

import dev.fencelab.node.step.StepCall;
import dev.fencelab.node.step.StepFailure;
import dev.fencelab.protocol.Errno;
import dev.fencelab.protocol.step.v1.Binding;
import dev.fencelab.protocol.step.v1.FenceList;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.Value;
import java.io.NotSerializableException;
import java.util.List;
import java.util.Objects;

/**
 * Fence names of a step: the fences a step names come with its request (a fence name is a cluster-wide handle), and
 * the fences a call returns go back as values and, under the step's {@code as}, as new names. Used by every handler
 * whose calls take or give fences.
 */
public final class FenceNames {
  private final FenceCodec codec;

  public FenceNames(FenceCodec codec) {
    this.codec = Objects.requireNonNull(codec, "codec");
  }

  /** The fence bound to {@code name} (a fence-API result, a submit's out-fence, a sync_file's fence…). */
  public FenceRef fence(StepCall call, String name) {
    Binding b = call.binding(name);
    if (b == null || !b.hasFence()) {
      throw new StepFailure(Errno.ENOENT, "no fence named '" + name + "' is bound in this run");
    }
    try {
      return codec.fenceRef(b.getFence());
    } catch (NotSerializableException e) {
      throw new StepFailure(Errno.EINVAL, "fence '" + name + "': " + e.getMessage());
    }
  }

  public List<FenceRef> fences(StepCall call, List<String> names) {
    return names.stream().map(n -> fence(call, n)).toList();
  }

  /** A fence as a call's value; null is the kernel's NULL. */
  public Value value(FenceRef fence) {
    return fence == null ? Value.newBuilder().setNull(true).build() : Value.newBuilder().setFence(codec.fenceRef(fence)).build();
  }

  public Value values(List<FenceRef> fences) {
    FenceList.Builder b = FenceList.newBuilder();
    fences.forEach(f -> b.addFences(codec.fenceRef(f)));
    return Value.newBuilder().setFences(b).build();
  }

  /** Binds {@code as} (when set) to {@code fence} in the result, for later steps. */
  public StepResult.Builder bind(StepResult.Builder result, String as, FenceRef fence) {
    if (!as.isEmpty() && fence != null) {
      result.putBound(as, Binding.newBuilder().setFence(codec.fenceRef(fence)).build());
    }
    return result;
  }
}
