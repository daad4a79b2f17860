package io.capmesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1NetworkPolicy;
import io.kubernetes.client.openapi.models.V1NetworkPolicyPeer;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every overlay under k8s/overlays renders, binds strictly to the Kubernetes API models and keeps the rules. */
class OverlaysTest {

    static final Path K8S = Path.of(System.getProperty("capmesh.k8s.dir", "../../k8s"));
    static final List<String> TIERS = List.of("broker", "core-runtime", "data-runtime", "ml-runtime",
            "crypto-runtime");
    private static final Map<String, Integer> GRPC_PORTS = Map.of("broker", 9090, "core-runtime", 9091,
            "data-runtime", 9092, "ml-runtime", 9093, "crypto-runtime", 9094);

    static Stream<String> overlays() throws IOException {
        try (Stream<Path> dirs = Files.list(K8S.resolve("overlays"))) {
            return dirs.filter(Files::isDirectory).map(dir -> dir.getFileName().toString()).sorted().toList().stream();
        }
    }

    @Test
    void thereIsADevAndAProdOverlay() throws IOException {
        assertThat(overlays()).contains("dev", "prod");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void rendersBindsStrictlyAndKeepsTheProjectRules(String overlay) throws Exception {
        List<Manifests.RenderedObject> rendered = Manifests.render(K8S.resolve("overlays").resolve(overlay));
        List<String> schemaErrors = new ArrayList<>();
        List<Object> bound = new ArrayList<>();
        for (Manifests.RenderedObject object : rendered) {
            try {
                bound.add(SchemaCheck.bind(object));
            } catch (IllegalArgumentException e) {
                schemaErrors.add(e.getMessage());
            }
        }

        assertThat(schemaErrors).as("objects that do not bind to the Kubernetes API").isEmpty();
        assertThat(ProjectRules.check(bound)).as("project rules broken").isEmpty();
        assertThat(ProjectRules.workloads(bound)).extracting(ProjectRules.Workload::name)
                .containsAll(TIERS).contains("otel-collector");
        assertThat(rendered).allSatisfy(o -> assertThat(o.namespace() != null || o.kind().equals("Namespace"))
                .as(o + " has a namespace").isTrue());
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyTierIsProbedOnItsGrpcHealthServiceAndExportsToTheCollector(String overlay) throws Exception {
        List<Object> bound = bind(overlay);
        for (String tier : TIERS) {
            V1Container container = container(bound, tier);
            if (servesTls(bound, tier)) {
                // Kubernetes' gRPC probe cannot speak TLS: readiness of the context, on the management port
                for (V1Probe probe : List.of(container.getStartupProbe(), container.getReadinessProbe())) {
                    assertThat(probe.getGrpc()).as(tier).isNull();
                    assertThat(probe.getHttpGet().getPath()).as(tier).isEqualTo("/actuator/health/readiness");
                    assertThat(probe.getHttpGet().getPort().toString()).as(tier).isEqualTo("management");
                }
            } else {
                int port = GRPC_PORTS.get(tier);
                assertThat(container.getStartupProbe().getGrpc().getPort()).as(tier).isEqualTo(port);
                assertThat(container.getReadinessProbe().getGrpc().getPort()).as(tier).isEqualTo(port);
            }
            assertThat(container.getLivenessProbe().getHttpGet().getPath()).as(tier)
                    .isEqualTo("/actuator/health/liveness");
            assertThat(container.getLifecycle().getPreStop()).as(tier + " drains before SIGTERM").isNotNull();
            assertThat(template(bound, tier).getSpec().getTerminationGracePeriodSeconds()).as(tier)
                    .isGreaterThanOrEqualTo(35L);
            assertThat(settings(bound, tier)).as(tier).containsEntry("OTEL_SERVICE_NAME", tier)
                    .containsEntry("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4318");
            if (!tier.equals("broker") && servesTls(bound, tier)) {
                // the name its certificate carries (*.<tier>.<namespace>.svc), which peers check it against
                assertThat(env(container, "CAPMESH_RUNTIME_BROKER_ADVERTISEHOST").getValue())
                        .as(tier + " registers its pod's name in its headless Service")
                        .isEqualTo("$(CAPMESH_RUNTIME_BROKER_RUNTIMEID)." + tier + "." + namespace(bound) + ".svc");
                assertThat(container.getEnv()).extracting(V1EnvVar::getName).as(tier + ": $(...) sees only earlier"
                        + " variables").containsSubsequence("CAPMESH_RUNTIME_BROKER_RUNTIMEID",
                        "CAPMESH_RUNTIME_BROKER_ADVERTISEHOST");
            } else if (!tier.equals("broker")) {
                assertThat(env(container, "CAPMESH_RUNTIME_BROKER_ADVERTISEHOST").getValueFrom().getFieldRef()
                        .getFieldPath()).as(tier + " registers its pod address").isEqualTo("status.podIP");
            }
        }
    }

    @Test
    void devRunsOneReplicaOfEachTierOnEmbeddedStores() throws Exception {
        List<Object> bound = bind("dev");
        assertThat(bound).noneMatch(V2HorizontalPodAutoscaler.class::isInstance);
        assertThat(replicas(bound)).containsOnlyKeys(concat(TIERS, "otel-collector")).allSatisfy(
                (name, count) -> assertThat(count).as(name).isEqualTo(1));
        assertThat(settings(bound, "broker").get("CAPMESH_BROKER_STORE_URL")).startsWith("jdbc:sqlite:");
        assertThat(settings(bound, "crypto-runtime")).containsEntry("CAPMESH_CRYPTO_GENERATEMASTERKEY", "true");
    }

    @Test
    void prodRunsReplicasScaledOnCpuSpreadOverNodesWithLeasesInPostgres() throws Exception {
        List<Object> bound = bind("prod");
        assertThat(replicas(bound)).allSatisfy((name, count) -> assertThat(count).as(name).isGreaterThanOrEqualTo(2));
        assertThat(bound.stream().filter(V2HorizontalPodAutoscaler.class::isInstance)
                .map(V2HorizontalPodAutoscaler.class::cast).map(h -> h.getSpec().getScaleTargetRef().getName()))
                .containsExactlyInAnyOrderElementsOf(TIERS);
        for (String tier : TIERS) {
            assertThat(template(bound, tier).getSpec().getTopologySpreadConstraints()).as(tier)
                    .anySatisfy(c -> assertThat(c.getTopologyKey()).isEqualTo("kubernetes.io/hostname"));
            var resources = container(bound, tier).getResources();
            assertThat(resources.getRequests().get("memory")).as(tier + ": requests are what the heap is sized from")
                    .isEqualTo(resources.getLimits().get("memory"));
        }
        assertThat(settings(bound, "broker").get("CAPMESH_BROKER_STORE_URL")).startsWith("jdbc:postgresql:");
        assertThat(env(container(bound, "broker"), "CAPMESH_BROKER_STORE_PASSWORD").getValueFrom().getSecretKeyRef()
                .getOptional()).isFalse();
        assertThat(settings(bound, "crypto-runtime")).containsEntry("CAPMESH_CRYPTO_GENERATEMASTERKEY", "false");
        assertThat(env(container(bound, "crypto-runtime"), "CAPMESH_CRYPTO_MASTER_KEY").getValueFrom()
                .getSecretKeyRef().getName()).isEqualTo("crypto-master-key");
    }

    @Test
    void prodRuntimesLoadOnlyExtensionsSignedByTheMountedTrustedKeys() throws Exception {
        List<Object> bound = bind("prod");
        for (String tier : TIERS.subList(1, TIERS.size())) {
            assertThat(settings(bound, tier)).as(tier).containsEntry("CAPMESH_RUNTIME_SIGNATURES_POLICY", "required")
                    .containsEntry("CAPMESH_RUNTIME_SIGNATURES_TRUSTEDKEYS", "/etc/capmesh/trusted-keys");
            assertThat(container(bound, tier).getVolumeMounts()).as(tier).anySatisfy(mount -> {
                assertThat(mount.getMountPath()).isEqualTo("/etc/capmesh/trusted-keys");
                assertThat(mount.getReadOnly()).isTrue();
            });
            assertThat(template(bound, tier).getSpec().getVolumes()).as(tier).filteredOn(v -> v.getConfigMap() != null)
                    .extracting(v -> v.getConfigMap().getName()).contains("capmesh-trusted-keys");
        }
    }

    @Test
    void prodServesMutualTlsEverywhereWithEachServicesOwnSecretReadAgainWhenRenewed() throws Exception {
        List<Object> bound = bind("prod");
        for (String tier : TIERS) {
            Map<String, String> settings = settings(bound, tier);
            assertThat(settings).as(tier).containsEntry("SPRING_GRPC_SERVER_SSL_BUNDLE", "capmesh-tls")
                    .containsEntry("SPRING_GRPC_SERVER_SSL_CLIENTAUTH", "require")
                    .containsEntry("CAPMESH_TLS_CERTIFICATE", "/etc/capmesh/tls/tls.crt")
                    .containsEntry("CAPMESH_TLS_PRIVATEKEY", "/etc/capmesh/tls/tls.key")
                    .containsEntry("CAPMESH_TLS_CA", "/etc/capmesh/tls/ca.crt")
                    .doesNotContainKey("CAPMESH_TLS_BUNDLE"); // its own channels use the bundle it serves with
            assertThat(java.time.Duration.parse("PT" + settings.get("CAPMESH_TLS_REFRESHPERIOD").toUpperCase()))
                    .as(tier + " reads renewed certificates").isPositive();
            assertThat(container(bound, tier).getVolumeMounts()).as(tier).anySatisfy(mount -> {
                assertThat(mount.getMountPath()).isEqualTo("/etc/capmesh/tls");
                assertThat(mount.getReadOnly()).isTrue();
                assertThat(template(bound, tier).getSpec().getVolumes()).filteredOn(v -> v.getName()
                        .equals(mount.getName())).singleElement().satisfies(volume -> {
                            assertThat(volume.getSecret().getSecretName()).isEqualTo(tier + "-tls");
                            assertThat(volume.getSecret().getOptional()).isNotEqualTo(Boolean.TRUE);
                        });
            });
        }
        assertThat(servesTls(bound, "otel-collector")).as("the collector stays as it is").isFalse();
        assertThat(bound).filteredOn(io.kubernetes.client.openapi.models.V1Service.class::isInstance)
                .map(io.kubernetes.client.openapi.models.V1Service.class::cast)
                .filteredOn(svc -> TIERS.subList(1, TIERS.size()).contains(svc.getMetadata().getName()))
                .hasSize(TIERS.size() - 1).allSatisfy(svc -> assertThat(svc.getSpec().getPublishNotReadyAddresses())
                        .as(svc.getMetadata().getName() + ": a registered runtime's name resolves at once").isTrue());
    }

    @Test
    void prodRequiresAccessControlOnEveryServiceWithGrantsAndKeysFromMountedConfigMapsAndSecrets() throws Exception {
        List<Object> bound = bind("prod");
        for (String tier : TIERS) {
            V1Container container = container(bound, tier);
            Map<String, String> settings = ProjectRules.settings(container, configMaps(bound));
            assertThat(settings).as(tier).containsEntry("CAPMESH_ACCESS_MODE", "required")
                    .containsEntry("SPRING_CONFIG_ADDITIONALLOCATION", "file:/etc/capmesh/access/")
                    .containsEntry("CAPMESH_ACCESS_TOKENISSUERS", "/etc/capmesh/token-issuers");
            V1Volume policy = mountedVolume(bound, tier, "/etc/capmesh/access");
            assertThat(policy.getConfigMap().getName()).as(tier).matches("capmesh-access-policy-[a-z0-9]{10}");
            assertThat(policy.getConfigMap().getOptional()).as(tier + ": no grants, no start").isFalse();
            // tokens are for operators and CI; services and stubs are named by their certificates
            V1Volume tokenIssuers = mountedVolume(bound, tier, "/etc/capmesh/token-issuers");
            assertThat(tokenIssuers.getConfigMap().getName()).as(tier).isEqualTo("capmesh-token-issuers");
            assertThat(tokenIssuers.getConfigMap().getOptional()).as(tier).isTrue();
            if (tier.equals("broker")) {
                String key = env(container, "CAPMESH_BROKER_LEASESIGNINGKEY").getValue();
                V1Volume secret = mountedVolume(bound, tier, key.substring(0, key.lastIndexOf('/')));
                assertThat(secret.getSecret().getSecretName()).isEqualTo("broker-lease-key");
                assertThat(secret.getSecret().getOptional()).isNotEqualTo(Boolean.TRUE);
            } else {
                assertThat(settings).as(tier).containsEntry("CAPMESH_ACCESS_LEASEISSUERS", "/etc/capmesh/lease-issuers")
                        .doesNotContainKey("CAPMESH_BROKER_LEASESIGNINGKEY");
                V1Volume leaseIssuers = mountedVolume(bound, tier, "/etc/capmesh/lease-issuers");
                assertThat(leaseIssuers.getConfigMap().getName()).as(tier).isEqualTo("capmesh-lease-issuers");
                assertThat(leaseIssuers.getConfigMap().getOptional()).as(tier).isFalse();
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void prodPolicyGivesTheBrokersCertificateDeployAndEachRuntimesCertificateRuntime() throws Exception {
        String policy = accessPolicy(bind("prod"));
        Map<String, Object> yaml = new org.yaml.snakeyaml.Yaml().load(policy);
        Map<String, Object> principals = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                yaml.get("capmesh")).get("access")).get("principals");
        // bracketed: Spring Boot keeps the space of the certificate's CN only in a bracketed map key
        assertThat((Map<String, Object>) principals.get("[capmesh broker]")).as("the broker's CN")
                .extracting(p -> p.get("roles")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
                .containsExactly("deploy");
        for (String tier : TIERS.subList(1, TIERS.size())) {
            assertThat((Map<String, Object>) principals.get("[capmesh " + tier + "]")).as(tier + "'s CN")
                    .extracting(p -> p.get("roles")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
                    .containsExactly("runtime");
        }
    }

    @Test
    void devLeavesAccessControlOff() throws Exception {
        List<Object> bound = bind("dev");
        for (String tier : TIERS) {
            assertThat(ProjectRules.settings(container(bound, tier), configMaps(bound)).getOrDefault(
                    "CAPMESH_ACCESS_MODE", "off")).as(tier).isEqualTo("off");
        }
    }

    @Test
    void devServesPlaintextAsBefore() throws Exception {
        List<Object> bound = bind("dev");
        for (String tier : TIERS) {
            assertThat(servesTls(bound, tier)).as(tier).isFalse();
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void onlyTheBrokerAndThinStubsReachTheRuntimesAndOnlyCryptoClientsTheCryptoTier(String overlay) throws Exception {
        List<Object> bound = bind(overlay);
        for (String tier : TIERS.subList(1, TIERS.size())) {
            V1NetworkPolicy policy = bound.stream().filter(V1NetworkPolicy.class::isInstance)
                    .map(V1NetworkPolicy.class::cast).filter(p -> p.getMetadata().getName().equals(tier))
                    .findFirst().orElseThrow();
            List<Map<String, String>> grpcPeers = policy.getSpec().getIngress().stream()
                    .filter(rule -> rule.getPorts().stream().anyMatch(p -> "grpc".equals(p.getPort().toString())))
                    .flatMap(rule -> rule.getFrom().stream()).map(V1NetworkPolicyPeer::getPodSelector)
                    .map(s -> s.getMatchLabels()).toList();
            Map<String, String> stubs = tier.equals("crypto-runtime") ? Map.of("capmesh.io/crypto-client", "true")
                    : Map.of("capmesh.io/client", "true");
            assertThat(grpcPeers).as(tier).containsExactlyInAnyOrder(Map.of("app.kubernetes.io/name", "broker"), stubs);
        }
        assertThat(bound).filteredOn(V1NetworkPolicy.class::isInstance).map(V1NetworkPolicy.class::cast)
                .anySatisfy(p -> {
                    assertThat(p.getSpec().getPodSelector().getMatchLabels()).isNullOrEmpty();
                    assertThat(p.getSpec().getIngress()).isNullOrEmpty();
                });
    }

    static List<Object> bind(String overlay) throws Exception {
        return Manifests.render(K8S.resolve("overlays").resolve(overlay)).stream().map(SchemaCheck::bind)
                .map(Object.class::cast).toList();
    }

    /** Whether the workload's container, with what it is given (ConfigMaps and its own variables), serves TLS. */
    private static boolean servesTls(List<Object> bound, String name) {
        return !ProjectRules.settings(container(bound, name), configMaps(bound))
                .getOrDefault(ProjectRules.SERVER_BUNDLE, "").isBlank();
    }

    /** The policy file every prod service reads, as rendered into its ConfigMap. */
    static String accessPolicy(List<Object> bound) {
        return bound.stream().filter(V1ConfigMap.class::isInstance).map(V1ConfigMap.class::cast)
                .filter(m -> m.getMetadata().getName().startsWith("capmesh-access-policy-")).findFirst()
                .orElseThrow(() -> new AssertionError("no ConfigMap capmesh-access-policy")).getData()
                .get("application.yaml");
    }

    static Map<String, Map<String, String>> configMaps(List<Object> bound) {
        Map<String, Map<String, String>> configMaps = new java.util.HashMap<>();
        bound.stream().filter(V1ConfigMap.class::isInstance).map(V1ConfigMap.class::cast)
                .forEach(m -> configMaps.put(m.getMetadata().getName(), m.getData() == null ? Map.of() : m.getData()));
        return configMaps;
    }

    /** The volume a tier's container mounts read-only at {@code path}. */
    private static V1Volume mountedVolume(List<Object> bound, String tier, String path) {
        var mount = container(bound, tier).getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path))
                .findFirst().orElseThrow(() -> new AssertionError(tier + " mounts nothing at " + path));
        assertThat(mount.getReadOnly()).as(tier + " mounts " + path + " read-only").isTrue();
        return template(bound, tier).getSpec().getVolumes().stream().filter(v -> v.getName().equals(mount.getName()))
                .findFirst().orElseThrow();
    }

    private static String namespace(List<Object> bound) {
        return bound.stream().filter(io.kubernetes.client.openapi.models.V1Namespace.class::isInstance)
                .map(n -> ((io.kubernetes.client.openapi.models.V1Namespace) n).getMetadata().getName())
                .findFirst().orElseThrow();
    }

    private static V1PodTemplateSpec template(List<Object> bound, String name) {
        return ProjectRules.workloads(bound).stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow()
                .template();
    }

    static V1Container container(List<Object> bound, String name) {
        return template(bound, name).getSpec().getContainers().stream().filter(c -> c.getName().equals(name))
                .findFirst().orElseThrow();
    }

    private static V1EnvVar env(V1Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError(container.getName() + " has no environment variable " + name));
    }

    /** What a tier's own ConfigMap (generated, so with a hash suffix) and the common one set. */
    private static Map<String, String> settings(List<Object> bound, String tier) {
        Map<String, String> settings = new java.util.HashMap<>();
        bound.stream().filter(V1ConfigMap.class::isInstance).map(V1ConfigMap.class::cast)
                .filter(m -> m.getMetadata().getName().matches("(common|" + tier + ")-[a-z0-9]{10}"))
                .forEach(m -> settings.putAll(m.getData()));
        return settings;
    }

    private static Map<String, Integer> replicas(List<Object> bound) {
        Map<String, Integer> replicas = new java.util.TreeMap<>();
        bound.forEach(o -> {
            if (o instanceof io.kubernetes.client.openapi.models.V1Deployment d) {
                replicas.put(d.getMetadata().getName(), d.getSpec().getReplicas());
            } else if (o instanceof io.kubernetes.client.openapi.models.V1StatefulSet s) {
                replicas.put(s.getMetadata().getName(), s.getSpec().getReplicas());
            }
        });
        return replicas;
    }

    private static List<String> concat(List<String> list, String more) {
        return Stream.concat(list.stream(), Stream.of(more)).toList();
    }
}
