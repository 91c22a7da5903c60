package dev.fencelab.deploy.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.typesafe.config.Config;
import dev.fencelab.deploy.member.MemberConfig;
import dev.fencelab.deploy.member.MemberOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The manifests under {@code deploy/kubernetes/}, parsed and checked against what the {@code kubernetes} profile selects:
 * no Kubernetes here, so the test is that every label, port, path and name the bootstrap and the probes depend on agrees
 * between the YAML and the configuration the members will run with.
 */
class KubernetesManifestsTest {
  private static final Path DIR = Path.of("kubernetes");
  /** Every document of every manifest, by "Kind/name". */
  private static final Map<String, JsonNode> RESOURCES = new HashMap<>();
  private static Config profile;

  @BeforeAll
  static void load() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml") && !p.endsWith("kustomization.yaml")).sorted().toList()) {
        try (var docs = yaml.readerFor(JsonNode.class).readValues(yaml.getFactory().createParser(f.toFile()))) {
          while (docs.hasNext()) {
            JsonNode doc = (JsonNode) docs.next();
            if (doc != null && !doc.isNull() && !doc.isEmpty()) {
              String key = doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
              assertTrue(RESOURCES.put(key, doc) == null, "one " + key + " in " + f);
            }
          }
        }
      }
    }
    profile = MemberConfig.build(new MemberOptions("n1", "10.0.0.1", 25520, List.of(), List.of("node"), "kubernetes", null, null, null,
        null, null));
  }

  private static JsonNode resource(String key) {
    JsonNode r = RESOURCES.get(key);
    assertNotNull(r, key + " is in deploy/kubernetes (found: " + RESOURCES.keySet() + ")");
    return r;
  }

  /** The pod templates of the cluster's members: the coordinator Deployment and the node StatefulSet. */
  private static List<JsonNode> memberPods() {
    return List.of(resource("Deployment/fencelab-coordinator").path("spec").path("template"),
        resource("StatefulSet/fencelab-node").path("spec").path("template"));
  }

  private static JsonNode container(JsonNode podTemplate) {
    JsonNode containers = podTemplate.path("spec").path("containers");
    assertEquals(1, containers.size());
    return containers.get(0);
  }

  private static int port(JsonNode container, String name) {
    for (JsonNode p : container.path("ports")) {
      if (p.path("name").asText().equals(name)) {
        return p.path("containerPort").asInt();
      }
    }
    throw new AssertionError("no container port named " + name + " in " + container);
  }

  /** The member's command line as one string: args, or a shell command. */
  private static String commandLine(JsonNode container) {
    List<String> words = new ArrayList<>();
    container.path("command").forEach(w -> words.add(w.asText()));
    container.path("args").forEach(w -> words.add(w.asText()));
    return String.join(" ", words);
  }

  @Test
  void everyDocumentIsAKubernetesResourceWithAKindAndAName() {
    assertTrue(RESOURCES.size() >= 8, RESOURCES.keySet().toString());
    RESOURCES.forEach((key, r) -> {
      assertFalse(r.path("apiVersion").asText().isEmpty(), key);
      assertFalse(key.startsWith("/") || key.endsWith("/"), key);
    });
  }

  @Test
  void theMemberPodsCarryTheLabelTheProfilesDiscoverySelects() {
    String selector = profile.getString("pekko.discovery.kubernetes-api.pod-label-selector")
        .formatted(profile.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"));
    String[] kv = selector.split("=");
    for (JsonNode pod : memberPods()) {
      assertEquals(kv[1], pod.path("metadata").path("labels").path(kv[0]).asText(), "selected by " + selector + ": " + pod);
    }
    JsonNode runner = resource("Job/fencelab-demo").path("spec").path("template");
    assertTrue(runner.path("metadata").path("labels").path(kv[0]).isMissingNode(), "the runner is no contact point");
  }

  @Test
  void theManagementPortIsNamedAsTheProfileLooksItUpAndNumberedAsItBinds() {
    String portName = profile.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name");
    for (JsonNode pod : memberPods()) {
      assertEquals(profile.getInt("pekko.management.http.port"), port(container(pod), portName));
    }
  }

  @Test
  void theProbesAreManagementsReadinessAndLivenessRoutes() {
    for (JsonNode pod : memberPods()) {
      JsonNode c = container(pod);
      assertEquals("/" + profile.getString("pekko.management.health-checks.readiness-path"), c.path("readinessProbe").path("httpGet").path("path").asText());
      assertEquals("/" + profile.getString("pekko.management.health-checks.liveness-path"), c.path("livenessProbe").path("httpGet").path("path").asText());
      assertEquals("management", c.path("readinessProbe").path("httpGet").path("port").asText());
      assertEquals("management", c.path("livenessProbe").path("httpGet").path("port").asText());
    }
  }

  @Test
  void everyMemberRunsTheKubernetesProfileOnItsPodIpWithoutSeeds() {
    for (JsonNode pod : memberPods()) {
      JsonNode c = container(pod);
      String line = commandLine(c);
      assertTrue(line.contains("--profile kubernetes"), line);
      assertTrue(line.matches(".*--host \"?\\$\\(?POD_IP\\)?\"?.*"), line);
      assertFalse(line.contains("--seed"), "bootstrap finds the seeds: " + line);
      assertTrue(line.contains("--port " + port(c, "remoting")), "Artery binds the remoting port: " + line);
      JsonNode env = c.path("env").get(0);
      assertEquals("POD_IP", env.path("name").asText());
      assertEquals("status.podIP", env.path("valueFrom").path("fieldRef").path("fieldPath").asText());
    }
  }

  @Test
  void theApiServiceReachesTheCoordinatorsHttpPortOnly() {
    JsonNode service = resource("Service/fencelab-api").path("spec");
    JsonNode coordinator = resource("Deployment/fencelab-coordinator").path("spec").path("template");
    service.path("selector").fields().forEachRemaining(e ->
        assertEquals(e.getValue().asText(), coordinator.path("metadata").path("labels").path(e.getKey()).asText(), e.getKey()));
    JsonNode nodes = resource("StatefulSet/fencelab-node").path("spec").path("template").path("metadata").path("labels");
    assertFalse(service.path("selector").equals(nodes), "the API Service selects no node pod");
    assertEquals("http", service.path("ports").get(0).path("targetPort").asText());
    int http = port(container(coordinator), "http");
    assertEquals(profile.getInt("fencelab.http.port"), http);
    assertTrue(commandLine(container(coordinator)).contains("--http-port " + http));
  }

  @Test
  void theMembersServiceAccountMayListPodsAndNothingElse() {
    for (JsonNode pod : memberPods()) {
      assertEquals("fencelab", pod.path("spec").path("serviceAccountName").asText());
    }
    JsonNode binding = resource("RoleBinding/fencelab-pod-reader");
    assertEquals("fencelab", binding.path("subjects").get(0).path("name").asText());
    JsonNode rules = resource("Role/" + binding.path("roleRef").path("name").asText()).path("rules");
    assertEquals(1, rules.size());
    assertEquals("[\"pods\"]", rules.get(0).path("resources").toString());
    assertEquals("[\"get\",\"watch\",\"list\"]", rules.get(0).path("verbs").toString());
  }

  @Test
  void theNodesAreNamedAfterTheirOrdinalAndHaveTheirHeadlessService() {
    JsonNode sts = resource("StatefulSet/fencelab-node").path("spec");
    JsonNode headless = resource("Service/" + sts.path("serviceName").asText()).path("spec");
    assertEquals("None", headless.path("clusterIP").asText());
    String line = commandLine(container(sts.path("template")));
    assertTrue(line.contains("--name n$(( ${HOSTNAME##*-} + 1 ))"), "fencelab-node-0 is n1, as the bundled scenarios name nodes: " + line);
    String job = commandLine(container(resource("Job/fencelab-demo").path("spec").path("template")));
    assertTrue(job.contains("fencelab-node-0." + sts.path("serviceName").asText()), "the runner seeds from the first node pod: " + job);
  }

  @Test
  void kustomizationListsEveryMemberManifest() throws IOException {
    JsonNode k = new ObjectMapper(new YAMLFactory()).readTree(DIR.resolve("kustomization.yaml").toFile());
    List<String> listed = new ArrayList<>();
    k.path("resources").forEach(r -> listed.add(r.asText()));
    assertEquals(List.of("rbac.yaml", "coordinator.yaml", "nodes.yaml"), listed);
    for (String f : listed) {
      assertTrue(Files.isRegularFile(DIR.resolve(f)), f);
    }
  }
}
