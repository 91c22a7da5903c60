package dev.fencelab.coordinator;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.onComplete;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.protocol.control.ClusterStatus;
import dev.fencelab.protocol.control.CoordinatorControl;
import dev.fencelab.protocol.control.GetStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The coordinator's HTTP API, served by every member with role {@code coordinator}; requests are forwarded
 * to the singleton (possibly on another member) through its proxy.
 *
 * <ul>
 *   <li>{@code GET /api/v1/health}: 200 {@code ok} while this member serves.
 *   <li>{@code GET /api/v1/status[?pingTimeoutMs=N][&waits=true]}: the {@link ClusterStatus} as JSON; 503 with a reason
 *       when the singleton did not answer in time (fail-over in progress, no coordinator member Up), 400 on
 *       a bad parameter. With {@code waits=true} it also holds {@code "waits"}: the wait-for graph below.
 *   <li>{@code GET /api/v1/waits[?max=N]}: the {@link OpenWaits.Graph} of the waits open now on every node, with its
 *       cycles (deadlocks while they last); at most {@code N} edges per node (default 1,000), each node's total always.
 * </ul>
 *
 * <p>Read-only: nothing here changes the cluster. With a token (the member's {@code fencelab.http.token-file}) the
 * status needs {@code Authorization: Bearer <token>} (401 otherwise); health stays open for probes and says nothing.
 */
public final class CoordinatorApi {
  static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(2);
  static final Duration MAX_PING_TIMEOUT = Duration.ofSeconds(30);
  static final int DEFAULT_WAITS_PER_NODE = 1_000;
  static final Duration WAITS_TIMEOUT = Duration.ofSeconds(5);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final ActorRef<CoordinatorControl> coordinator;
  /** The bearer token the status requires; empty: none. */
  private final String token;

  public CoordinatorApi(ActorSystem<?> system, ActorRef<CoordinatorControl> coordinator) {
    this(system, coordinator, "");
  }

  public CoordinatorApi(ActorSystem<?> system, ActorRef<CoordinatorControl> coordinator, String token) {
    this.system = system;
    this.coordinator = coordinator;
    this.token = token;
  }

  /** Binds the API; the stage fails (with the bind error) when the port is taken. */
  public CompletionStage<ServerBinding> bind(String host, int port) {
    return Http.get(system).newServerAt(host, port).bind(route());
  }

  /** Serialises a status the way the API does; the CLI reads it back with the same records. */
  public static String toJson(ClusterStatus status) {
    try {
      return JSON.writeValueAsString(status);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("ClusterStatus is not JSON-serialisable", e);
    }
  }

  Route route() {
    return concat(
        path(segment("api").slash("v1").slash("health"), () -> get(() -> complete("ok"))),
        path(segment("api").slash("v1").slash("status"), () -> get(() -> authorized(() ->
            parameterOptional("pingTimeoutMs", ping -> parameterOptional("waits", waits -> status(ping, waits)))))),
        path(segment("api").slash("v1").slash("waits"), () -> get(() -> authorized(() ->
            parameterOptional("max", max -> waits(max))))));
  }

  /** The wait-for graph of the waits open now (see {@link OpenWaits}); {@code max}: edges per node, 1..10,000 (default 1,000). */
  private Route waits(Optional<String> max) {
    int perNode;
    try {
      perNode = max.map(Integer::parseInt).orElse(DEFAULT_WAITS_PER_NODE);
    } catch (NumberFormatException e) {
      return complete(StatusCodes.BAD_REQUEST, "max must be a whole number of waits per node\n");
    }
    if (perNode < 1 || perNode > OpenWaits.MAX_PER_NODE) {
      return complete(StatusCodes.BAD_REQUEST, "max must be between 1 and " + OpenWaits.MAX_PER_NODE + "\n");
    }
    return onComplete(OpenWaits.snapshot(system, perNode, WAITS_TIMEOUT), result -> result.isSuccess()
        ? complete(StatusCodes.OK, HttpEntities.create(ContentTypes.APPLICATION_JSON, json(result.get())))
        : complete(StatusCodes.SERVICE_UNAVAILABLE, "the node agents could not be listed: " + result.failed().get().getMessage() + "\n"));
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(value.getClass().getSimpleName() + " is not JSON-serialisable", e);
    }
  }

  /** {@code inner} when no token is set or the request carries it; 401 otherwise (compared in constant time). */
  private Route authorized(java.util.function.Supplier<Route> inner) {
    if (token.isEmpty()) {
      return inner.get();
    }
    return org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName("Authorization", given -> {
      byte[] expected = ("Bearer " + token).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] got = given.orElse("").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      if (java.security.MessageDigest.isEqual(expected, got)) {
        return inner.get();
      }
      return org.apache.pekko.http.javadsl.server.Directives.respondWithHeader(
          org.apache.pekko.http.javadsl.model.HttpHeader.parse("WWW-Authenticate", "Bearer realm=\"fencelab\""),
          () -> complete(StatusCodes.UNAUTHORIZED, "a bearer token is required (cluster status --token-file FILE)\n"));
    });
  }

  private Route status(Optional<String> pingTimeoutMs, Optional<String> waits) {
    if (waits.isPresent() && !waits.get().equals("true") && !waits.get().equals("false")) {
      return complete(StatusCodes.BAD_REQUEST, "waits must be true or false\n");
    }
    if (waits.isEmpty() || waits.get().equals("false")) {
      return status(pingTimeoutMs);
    }
    return onComplete(OpenWaits.snapshot(system, DEFAULT_WAITS_PER_NODE, WAITS_TIMEOUT), graph -> graph.isSuccess()
        ? mapResponse(response -> withWaits(response, graph.get()), () -> status(pingTimeoutMs))
        : status(pingTimeoutMs));
  }

  /** A status response with the wait-for graph beside the status's fields ({@code "waits"}); an error response as it is. */
  private static org.apache.pekko.http.javadsl.model.HttpResponse withWaits(
      org.apache.pekko.http.javadsl.model.HttpResponse response, OpenWaits.Graph graph) {
    if (response.status() != StatusCodes.OK
        || !(response.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict)) {
      return response;
    }
    try {
      com.fasterxml.jackson.databind.node.ObjectNode status = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(
          strict.getData().utf8String());
      status.set("waits", JSON.valueToTree(graph));
      return response.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(status)));
    } catch (JsonProcessingException e) {
      return response;
    }
  }

  private Route status(Optional<String> pingTimeoutMs) {
    Duration pingTimeout;
    try {
      pingTimeout = pingTimeoutMs.map(s -> Duration.ofMillis(Long.parseLong(s))).orElse(DEFAULT_PING_TIMEOUT);
    } catch (NumberFormatException e) {
      return complete(StatusCodes.BAD_REQUEST, "pingTimeoutMs must be a whole number of milliseconds\n");
    }
    if (pingTimeout.isNegative() || pingTimeout.isZero() || pingTimeout.compareTo(MAX_PING_TIMEOUT) > 0) {
      return complete(StatusCodes.BAD_REQUEST, "pingTimeoutMs must be between 1 and " + MAX_PING_TIMEOUT.toMillis() + "\n");
    }
    Duration askTimeout = pingTimeout.plusSeconds(3);
    CompletionStage<ClusterStatus> answer = AskPattern.ask(
        coordinator, replyTo -> new GetStatus(pingTimeout, replyTo), askTimeout, system.scheduler());
    return onComplete(answer, result -> result.isSuccess()
        ? complete(StatusCodes.OK, HttpEntities.create(ContentTypes.APPLICATION_JSON, toJson(result.get())))
        : complete(StatusCodes.SERVICE_UNAVAILABLE,
            "coordinator singleton did not answer within " + askTimeout.toMillis() + " ms: " + result.failed().get().getMessage() + "\n"));
  }
}
