package dev.fencelab.coordinator;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
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
 *   <li>{@code GET /api/v1/status[?pingTimeoutMs=N]}: the {@link ClusterStatus} as JSON; 503 with a reason
 *       when the singleton did not answer in time (fail-over in progress, no coordinator member Up), 400 on
 *       a bad parameter.
 * </ul>
 *
 * <p>Read-only: nothing here changes the cluster. With a token (the member's {@code fencelab.http.token-file}) the
 * status needs {@code Authorization: Bearer <token>} (401 otherwise); health stays open for probes and says nothing.
 */
public final class CoordinatorApi {
  static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(2);
  static final Duration MAX_PING_TIMEOUT = Duration.ofSeconds(30);

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
            parameterOptional("pingTimeoutMs", this::status)))));
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
