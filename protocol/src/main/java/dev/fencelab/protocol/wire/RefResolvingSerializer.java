package dev.fencelab.protocol.wire;

import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Base of fencelab's protobuf serializers: actor references travel as {@link ActorRefResolver} strings, the empty
 * string standing for "none". The resolver is created on first use, once the actor system is up.
 */
public abstract class RefResolvingSerializer extends SerializerWithStringManifest {
  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;

  protected RefResolvingSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  /** The wire form of {@code ref}; the empty string for null. */
  protected final String ref(ActorRef<?> ref) {
    return ref == null ? "" : resolver().toSerializationFormat(ref);
  }

  /** A reference that may be absent (empty string → null). */
  protected final <T> ActorRef<T> optional(String serialized) {
    return serialized.isEmpty() ? null : resolver().resolveActorRef(serialized);
  }

  /** A reference that must be present; its absence is a malformed message naming {@code field}. */
  protected final <T> ActorRef<T> required(String serialized, String field) throws NotSerializableException {
    if (serialized.isEmpty()) {
      throw new NotSerializableException(field + ": missing actor reference");
    }
    return resolver().resolveActorRef(serialized);
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }
}
