package dev.fencelab.protocol.step;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fencelab.protocol.step.v1.StepResult;
import dev.fencelab.protocol.step.v1.StepRequest;
import dev.fencelab.protocol.wire.RefResolvingSerializer;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;

/**
 * The step protocol on the wire ({@code fencelab/step/v1/step.proto}): {@link ExecuteStep} is a {@code StepRequest}
 * followed by its reply-to reference; {@link StepReply} is a {@code StepResult}. An unknown manifest or a payload that
 * does not parse raises {@link NotSerializableException}, which Artery logs and drops.
 */
public final class StepSerializer extends RefResolvingSerializer {
  public static final int IDENTIFIER = 740103;
  static final String EXECUTE = "ExecuteStep";
  static final String REPLY = "StepReply";

  public StepSerializer(ExtendedActorSystem system) {
    super(system);
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof ExecuteStep) return EXECUTE;
    if (o instanceof StepReply) return REPLY;
    throw new IllegalArgumentException("StepSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof ExecuteStep m) {
      return dev.fencelab.protocol.step.v1.ExecuteStep.newBuilder().setRequest(m.request()).setReplyTo(ref(m.replyTo())).build()
          .toByteArray();
    }
    if (o instanceof StepReply m) {
      return m.result().toByteArray();
    }
    throw new IllegalArgumentException("StepSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    try {
      switch (manifest) {
        case EXECUTE: {
          var p = dev.fencelab.protocol.step.v1.ExecuteStep.parseFrom(bytes);
          return new ExecuteStep(p.getRequest(), required(p.getReplyTo(), "ExecuteStep.reply_to"));
        }
        case REPLY:
          return new StepReply(StepResult.parseFrom(bytes));
        default:
          throw new NotSerializableException("unknown step manifest '" + manifest + "'");
      }
    } catch (InvalidProtocolBufferException e) {
      throw new NotSerializableException(manifest + ": " + e.getMessage());
    }
  }

}
