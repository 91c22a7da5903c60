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
 */
public final class CoordinatorApi {
  static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(2);
  static final Duration MAX_PING_TIMEOUT = Duration.ofSeconds(30);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final ActorRef<CoordinatorControl> coordinator;

  public CoordinatorApi(ActorSystem<?> system, ActorRef<CoordinatorControl> coordinator) {
    this.system = system;
    this.coordinator = coordinator;
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
        path(segment("api").slash("v1").slash("status"), () -> get(() ->
            parameterOptional("pingTimeoutMs", this::status))));
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
