package dev.fencelab.node.fence;

import dev.fencelab.node.NodeWireMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The owner of the container fences created on one member — arrays (§1.6), chain points (§1.7) and merge
 * results (§1.8) — and the place to ask for them after they stopped: completions, members, chain steps.
 *
 * <p>Replies: {@link FenceRef} to {@link CreateArray}, {@link CreateChain} and {@link Merge};
 * {@link ChainFindSeqno.SeqnoFound} to {@link FindSeqno}; {@link FenceProtocol.Members} to {@link QueryMembers};
 * {@link FenceChain.ChainStepReply} to {@link QueryChainStep}; {@link ContextOwner.Completion} to queries.
 */
public final class Containers extends AbstractBehavior<ContextOwner.Command> {

  /**
   * {@code dma_fence_array_create}. {@code context} null allocates a new context
   * ({@code dma_fence_context_alloc(1)}).
   */
  public record CreateArray(List<FenceRef> members, boolean signalOnAny, FenceContext context, long seqno, ActorRef<FenceRef> replyTo)
      implements ContextOwner.Command, NodeWireMessage {
    public CreateArray {
      members = List.copyOf(members);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_fence_chain_init(chain, prev, fence, seqno)}; {@code prev} may be null. */
  public record CreateChain(FenceRef prev, FenceRef fence, long seqno, ActorRef<FenceRef> replyTo)
      implements ContextOwner.Command, NodeWireMessage {
    public CreateChain {
      Objects.requireNonNull(fence, "fence");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_fence_unwrap_merge(fences...)}. */
  public record Merge(List<FenceRef> fences, ActorRef<FenceRef> replyTo) implements ContextOwner.Command, NodeWireMessage {
    public Merge {
      fences = List.copyOf(fences);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** {@code dma_fence_chain_find_seqno(&head, seqno)}. */
  public record FindSeqno(FenceRef head, long seqno, ActorRef<ChainFindSeqno.SeqnoFound> replyTo)
      implements ContextOwner.Command, NodeWireMessage {
    public FindSeqno {
      Objects.requireNonNull(head, "head");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The members of a container of this owner that has stopped. */
  public record QueryMembers(FenceId id, ActorRef<FenceProtocol.Members> replyTo) implements ContextOwner.Command, NodeWireMessage {}

  /** A chain step for a chain point of this owner that has stopped (it signalled: so did all before it). */
  public record QueryChainStep(FenceId id, ActorRef<FenceChain.ChainStepReply> replyTo) implements ContextOwner.Command, NodeWireMessage {}

  private record Record(FenceProtocol.Members members, long prevSeqno, FenceStatus status) {}

  private final FenceServices services;
  private final int capacity;
  private final Map<FenceId, Record> records;
  private long merges;

  public static Behavior<ContextOwner.Command> create(FenceServices services) {
    return Behaviors.setup(context -> new Containers(context, services));
  }

  private Containers(ActorContext<ContextOwner.Command> context, FenceServices services) {
    super(context);
    this.services = services;
    this.capacity = Math.max(16, services.completionRecord());
    this.records = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<FenceId, Record> eldest) {
        return size() > capacity && eldest.getValue().status().isSignalled();
      }
    };
  }

  @Override
  public Receive<ContextOwner.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(CreateArray.class, this::onCreateArray)
        .onMessage(CreateChain.class, this::onCreateChain)
        .onMessage(Merge.class, m -> {
          getContext().spawn(UnwrapMerge.create(m.fences(), getContext().getSelf(), m.replyTo(), services), "merge-" + (++merges));
          return this;
        })
        .onMessage(FindSeqno.class, f -> {
          getContext().spawnAnonymous(ChainFindSeqno.create(f.head(), f.seqno(), f.replyTo(), services));
          return this;
        })
        .onMessage(ContextOwner.FenceCompleted.class, this::onCompleted)
        .onMessage(ContextOwner.DeadlineHint.class, h -> this)
        .onMessage(ContextOwner.QueryCompletion.class, this::onQueryCompletion)
        .onMessage(QueryMembers.class, this::onQueryMembers)
        .onMessage(QueryChainStep.class, this::onQueryChainStep)
        .build();
  }

  private Behavior<ContextOwner.Command> onCreateArray(CreateArray create) {
    FenceContext context = create.context() != null ? create.context() : services.contexts().allocate();
    FenceId id = new FenceId(context, create.seqno());
    ActorRef<FenceProtocol.Command> actor = getContext().spawnAnonymous(
        FenceArray.create(id, create.members(), create.signalOnAny(), getContext().getSelf(), services));
    FenceRef ref = new FenceRef(id, FenceRef.Kind.ARRAY, false, actor, getContext().getSelf(), 0);
    records.put(id, new Record(new FenceProtocol.Members(id, FenceRef.Kind.ARRAY, create.members(), null), 0, FenceStatus.PENDING));
    create.replyTo().tell(ref);
    return this;
  }

  /** §1.7 {@code dma_fence_chain_init}: reuse prev's context only for a later seqno; else a new context. */
  private Behavior<ContextOwner.Command> onCreateChain(CreateChain create) {
    FenceRef prev = create.prev();
    boolean prevIsChain = prev != null && prev.kind() == FenceRef.Kind.CHAIN;
    FenceContext context;
    long seqno = create.seqno();
    long prevSeqno = 0;
    if (prevIsChain && Seqnos.isLater(seqno, prev.id().seqno(), true)) {
      context = prev.id().context();
      prevSeqno = prev.id().seqno();
    } else {
      context = services.contexts().allocate();
      if (prevIsChain && Long.compareUnsigned(prev.id().seqno(), seqno) > 0) {
        seqno = prev.id().seqno(); // a non-increasing point breaks the timeline: new context, seqno = max
      }
    }
    FenceId id = new FenceId(context, seqno);
    ActorRef<FenceProtocol.Command> actor = getContext().spawnAnonymous(
        FenceChain.create(id, create.fence(), prev, prevSeqno, getContext().getSelf(), services));
    FenceRef ref = new FenceRef(id, FenceRef.Kind.CHAIN, true, actor, getContext().getSelf(), 0);
    records.put(id, new Record(new FenceProtocol.Members(id, FenceRef.Kind.CHAIN, List.of(create.fence()), prev), prevSeqno, FenceStatus.PENDING));
    create.replyTo().tell(ref);
    return this;
  }

  private Behavior<ContextOwner.Command> onCompleted(ContextOwner.FenceCompleted completed) {
    Record r = records.get(completed.id());
    if (r != null) {
      records.put(completed.id(), new Record(r.members(), r.prevSeqno(), completed.status()));
    }
    return this;
  }

  private Behavior<ContextOwner.Command> onQueryCompletion(ContextOwner.QueryCompletion query) {
    Record r = records.get(query.id());
    boolean known = r != null && r.status().isSignalled();
    query.replyTo().tell(new ContextOwner.Completion(query.id(), known, known ? r.status() : FenceStatus.PENDING));
    return this;
  }

  private Behavior<ContextOwner.Command> onQueryMembers(QueryMembers query) {
    Record r = records.get(query.id());
    // A stopped container whose record was evicted: it signalled long ago; nothing unsignalled to unwrap.
    query.replyTo().tell(r != null ? r.members() : new FenceProtocol.Members(query.id(), FenceRef.Kind.ARRAY, List.of(), null));
    return this;
  }

  private Behavior<ContextOwner.Command> onQueryChainStep(QueryChainStep query) {
    Record r = records.get(query.id());
    // Evicted: it signalled long ago; with prev_seqno unknown (0) the walk ends at this signalled point.
    query.replyTo().tell(new FenceChain.ChainStepReply(query.id(), true, r != null ? r.prevSeqno() : 0, null));
    return this;
  }
}
