package dev.fencelab.deploy.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fencelab.deploy.UserError;
import dev.fencelab.protocol.control.ClusterStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** Reads a cluster's status from the coordinator's HTTP API. Used by the CLI, never inside a member. */
public final class StatusClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String base;
  private final String token;

  public StatusClient(String host, int port) {
    this(host, port, "");
  }

  /** {@code token}: the API's bearer token ("" if it needs none). */
  public StatusClient(String host, int port, String token) {
    this.base = "http://" + host + ":" + port;
    this.token = token;
  }

  public String base() {
    return base;
  }

  /** The status, or empty when the API does not answer (not started yet, gone, or the singleton is not ready). */
  public Optional<ClusterStatus> tryStatus(Duration pingTimeout) {
    try {
      return Optional.of(status(pingTimeout));
    } catch (UserError e) {
      return Optional.empty();
    }
  }

  public ClusterStatus status(Duration pingTimeout) {
    return JSON.convertValue(statusJson(pingTimeout), ClusterStatus.class);
  }

  /** The raw JSON tree, for {@code --json}. */
  public com.fasterxml.jackson.databind.JsonNode statusJson(Duration pingTimeout) {
    return statusJson(pingTimeout, false);
  }

  /** The raw JSON tree; with {@code waits}, it also holds the wait-for graph of the waits open now ({@code "waits"}). */
  public com.fasterxml.jackson.databind.JsonNode statusJson(Duration pingTimeout, boolean waits) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/status?pingTimeoutMs=" + pingTimeout.toMillis()
            + (waits ? "&waits=true" : "")))
        .timeout(pingTimeout.plusSeconds(5));
    if (!token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpRequest request = b.build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw UserError.runtime("the coordinator API at " + base + " does not answer (" + describe(e) + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw UserError.runtime("interrupted while asking " + base);
    }
    if (response.statusCode() != 200) {
      throw UserError.runtime("the coordinator API at " + base + " answered " + response.statusCode() + ": " + response.body().strip());
    }
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw UserError.runtime("the coordinator API at " + base + " sent malformed JSON: " + e.getMessage());
    }
  }

  private static String describe(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
