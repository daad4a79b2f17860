package io.capmesh.k8s;

import io.capmesh.access.Grants;
import io.capmesh.access.Principal;
import io.capmesh.access.Role;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The project's own rules for what it deploys, over the bound objects of one rendered overlay:
 * <ul>
 * <li>every container has start-up, readiness and liveness probes, CPU and memory requests and limits, named
 *     ports, and runs as non-root without privilege escalation on a read-only root file system;</li>
 * <li>every workload (each tier) has a PodDisruptionBudget that selects its pods;</li>
 * <li>a Service in front of runtimes is headless (thin stubs balance themselves);</li>
 * <li>an autoscaler targets a workload that exists;</li>
 * <li>no ConfigMap holds anything that looks secret;</li>
 * <li>a container that serves gRPC with TLS ({@code SPRING_GRPC_SERVER_SSL_BUNDLE} set) is not probed with
 *     Kubernetes' gRPC probe, which cannot speak TLS, and reads its certificate, key and CA
 *     ({@code CAPMESH_TLS_*}) from a Secret mounted read-only;</li>
 * <li>no object carries a private key: key material lives in Secrets the operator creates, which the manifests only
 *     refer to; the broker's lease signing key and a service's bearer token are read from a Secret mounted
 *     read-only;</li>
 * <li>a service that requires access control ({@code CAPMESH_ACCESS_MODE=required}) can work: a broker signs leases
 *     ({@code CAPMESH_BROKER_LEASESIGNINGKEY}), a runtime trusts a broker's leases
 *     ({@code CAPMESH_ACCESS_LEASEISSUERS}), its configuration files are in ConfigMaps it mounts, and its grants,
 *     bound as the service binds them, give the broker's certificate the deploy role on runtimes and each runtime's
 *     certificate the runtime role on the broker.</li>
 * </ul>
 */
final class ProjectRules {

    /** A setting named for a secret: the noun ends the name (CAPMESH_BROKER_STORE_PASSWORD, not ..._GENERATEMASTERKEY). */
    private static final Pattern SECRET = Pattern.compile("(?i)(.*[-_.])?(password|secret|token|credentials?"
            + "|master[-_.]key|private[-_.]key)");

    /** The settings naming the files a service's TLS bundle ({@code capmesh.tls.*}) is read from. */
    static final List<String> TLS_FILES = List.of("CAPMESH_TLS_CERTIFICATE", "CAPMESH_TLS_PRIVATEKEY", "CAPMESH_TLS_CA");

    /** The bundle a service's gRPC server serves TLS with; set, the gRPC port speaks only TLS. */
    static final String SERVER_BUNDLE = "SPRING_GRPC_SERVER_SSL_BUNDLE";

    /** The settings naming files with secrets in them, besides TLS: the broker's lease key pair, a bearer token. */
    static final List<String> ACCESS_SECRET_FILES = List.of(AccessSettings.LEASE_SIGNING_KEY,
            "CAPMESH_ACCESS_TOKENFILE");

    /** A PEM private key block ({@code BEGIN PRIVATE KEY}, {@code BEGIN EC PRIVATE KEY}, ...). */
    private static final Pattern PRIVATE_KEY = Pattern.compile("PRIVATE KEY-----");

    /** A workload and its pod template. */
    record Workload(String kind, String name, V1PodTemplateSpec template) {
        Map<String, String> podLabels() {
            return template.getMetadata() == null || template.getMetadata().getLabels() == null ? Map.of()
                    : template.getMetadata().getLabels();
        }
    }

    private ProjectRules() {
    }

    /** Every rule broken, one line each naming the object; empty when all hold. */
    static List<String> check(List<Object> objects) {
        List<String> problems = new ArrayList<>();
        List<Workload> workloads = workloads(objects);
        Map<String, Map<String, String>> configMaps = of(objects, V1ConfigMap.class).collect(
                java.util.stream.Collectors.toMap(m -> m.getMetadata().getName(),
                        m -> m.getData() == null ? Map.of() : m.getData(), (a, b) -> a));
        for (Workload workload : workloads) {
            checkPod(workload, problems);
            checkTls(workload, configMaps, problems);
            checkAccess(workload, workloads, configMaps, problems);
        }
        for (Object object : objects) {
            checkNoPrivateKey(object, problems);
        }
        List<V1PodDisruptionBudget> budgets = of(objects, V1PodDisruptionBudget.class).toList();
        for (Workload workload : workloads) {
            boolean covered = budgets.stream().anyMatch(pdb -> pdb.getSpec().getSelector() != null
                    && pdb.getSpec().getSelector().getMatchLabels() != null
                    && workload.podLabels().entrySet().containsAll(pdb.getSpec().getSelector().getMatchLabels().entrySet()));
            if (!covered) {
                problems.add(workload.kind() + " " + workload.name() + ": no PodDisruptionBudget selects its pods");
            }
        }
        of(objects, V1Service.class).forEach(service -> {
            Map<String, String> selector = service.getSpec().getSelector();
            boolean fronting = selector != null && workloads.stream().anyMatch(w -> "runtime".equals(
                    w.podLabels().get("app.kubernetes.io/component"))
                    && w.podLabels().entrySet().containsAll(selector.entrySet()));
            if (fronting && !"None".equals(service.getSpec().getClusterIP())) {
                problems.add("Service " + service.getMetadata().getName() + ": fronts runtimes, so must be headless"
                        + " (clusterIP: None): thin stubs call the replica the broker chose");
            }
        });
        of(objects, V2HorizontalPodAutoscaler.class).forEach(hpa -> {
            var target = hpa.getSpec().getScaleTargetRef();
            if (workloads.stream().noneMatch(w -> w.kind().equals(target.getKind()) && w.name().equals(target.getName()))) {
                problems.add("HorizontalPodAutoscaler " + hpa.getMetadata().getName() + ": scales " + target.getKind()
                        + " " + target.getName() + ", which is not deployed");
            }
        });
        of(objects, V1ConfigMap.class).forEach(map -> {
            if (map.getData() != null) {
                map.getData().keySet().stream().filter(key -> SECRET.matcher(key).matches()).forEach(key ->
                        problems.add("ConfigMap " + map.getMetadata().getName() + ": " + key
                                + " looks secret; put it in a Secret"));
            }
        });
        return problems;
    }

    static List<Workload> workloads(List<Object> objects) {
        return Stream.concat(
                of(objects, V1Deployment.class).map(d -> new Workload("Deployment", d.getMetadata().getName(),
                        d.getSpec().getTemplate())),
                of(objects, V1StatefulSet.class).map(s -> new Workload("StatefulSet", s.getMetadata().getName(),
                        s.getSpec().getTemplate()))).toList();
    }

    private static void checkPod(Workload workload, List<String> problems) {
        V1PodSecurityContext pod = workload.template().getSpec().getSecurityContext();
        List<V1Container> containers = new ArrayList<>(workload.template().getSpec().getContainers());
        if (workload.template().getSpec().getInitContainers() != null) {
            containers.addAll(workload.template().getSpec().getInitContainers());
        }
        for (V1Container container : containers) {
            String where = workload.kind() + " " + workload.name() + " container " + container.getName() + ": ";
            if (container.getStartupProbe() == null || container.getReadinessProbe() == null
                    || container.getLivenessProbe() == null) {
                problems.add(where + "needs startup, readiness and liveness probes");
            }
            var resources = container.getResources();
            if (resources == null || resources.getLimits() == null
                    || !resources.getLimits().keySet().containsAll(List.of("cpu", "memory"))
                    || resources.getRequests() == null
                    || !resources.getRequests().keySet().containsAll(List.of("cpu", "memory"))) {
                problems.add(where + "needs CPU and memory requests and limits");
            }
            V1SecurityContext security = container.getSecurityContext();
            boolean nonRoot = security != null && security.getRunAsNonRoot() != null ? security.getRunAsNonRoot()
                    : pod != null && Boolean.TRUE.equals(pod.getRunAsNonRoot());
            if (!nonRoot) {
                problems.add(where + "must run as non-root (runAsNonRoot: true)");
            }
            if (security == null || !Boolean.FALSE.equals(security.getAllowPrivilegeEscalation())
                    || !Boolean.TRUE.equals(security.getReadOnlyRootFilesystem())) {
                problems.add(where + "needs allowPrivilegeEscalation: false and readOnlyRootFilesystem: true");
            }
            List<V1ContainerPort> ports = container.getPorts() == null ? List.of() : container.getPorts();
            if (ports.isEmpty() || ports.stream().map(V1ContainerPort::getName).anyMatch(Objects::isNull)) {
                problems.add(where + "every port needs a name");
            }
        }
    }

    /**
     * What a container is configured with: the ConfigMaps it takes whole ({@code envFrom}), then its own literal
     * variables on top.
     */
    static Map<String, String> settings(V1Container container, Map<String, Map<String, String>> configMaps) {
        Map<String, String> settings = new java.util.HashMap<>();
        if (container.getEnvFrom() != null) {
            container.getEnvFrom().stream().filter(from -> from.getConfigMapRef() != null)
                    .forEach(from -> settings.putAll(configMaps.getOrDefault(from.getConfigMapRef().getName(),
                            Map.of())));
        }
        if (container.getEnv() != null) {
            container.getEnv().stream().filter(env -> env.getValue() != null)
                    .forEach(env -> settings.put(env.getName(), env.getValue()));
        }
        return settings;
    }

    private static void checkTls(Workload workload, Map<String, Map<String, String>> configMaps,
                                 List<String> problems) {
        for (V1Container container : workload.template().getSpec().getContainers()) {
            String where = workload.kind() + " " + workload.name() + " container " + container.getName() + ": ";
            Map<String, String> settings = settings(container, configMaps);
            String bundle = settings.getOrDefault(SERVER_BUNDLE, "");
            if (bundle.isBlank()) {
                continue;
            }
            Map<String, V1Probe> probes = new java.util.LinkedHashMap<>();
            probes.put("startup", container.getStartupProbe());
            probes.put("readiness", container.getReadinessProbe());
            probes.put("liveness", container.getLivenessProbe());
            probes.forEach((kind, probe) -> {
                if (probe != null && probe.getGrpc() != null) {
                    problems.add(where + "serves gRPC with TLS, and Kubernetes' gRPC " + kind + " probe cannot speak"
                            + " TLS: probe the management port (httpGet /actuator/health/...)");
                }
            });
            for (String file : TLS_FILES) {
                String path = settings.get(file);
                if (path == null || path.isBlank()) {
                    continue;
                }
                if (!inReadOnlySecret(workload, container, path)) {
                    problems.add(where + file + " (" + path + ") is not in a Secret volume mounted read-only");
                }
            }
        }
    }

    private static boolean inReadOnlySecret(Workload workload, V1Container container, String path) {
        return container.getVolumeMounts() != null && container.getVolumeMounts().stream()
                .anyMatch(mount -> path.startsWith(mount.getMountPath().replaceAll("/*$", "/"))
                        && Boolean.TRUE.equals(mount.getReadOnly())
                        && workload.template().getSpec().getVolumes().stream().anyMatch(volume ->
                        volume.getName().equals(mount.getName()) && volume.getSecret() != null));
    }

    private static void checkAccess(Workload workload, List<Workload> workloads,
                                    Map<String, Map<String, String>> configMaps, List<String> problems) {
        for (V1Container container : workload.template().getSpec().getContainers()) {
            String where = workload.kind() + " " + workload.name() + " container " + container.getName() + ": ";
            Map<String, String> settings = settings(container, configMaps);
            for (String file : ACCESS_SECRET_FILES) {
                String path = settings.get(file);
                if (path != null && !path.isBlank() && !inReadOnlySecret(workload, container, path)) {
                    problems.add(where + file + " (" + path + ") is not in a Secret volume mounted read-only");
                }
            }
            if (!AccessSettings.required(settings)) {
                continue;
            }
            String component = component(workload);
            if (component.equals("broker") && blank(settings.get(AccessSettings.LEASE_SIGNING_KEY))) {
                problems.add(where + "requires access control, and runtimes that do accept only leases the broker"
                        + " signs: set " + AccessSettings.LEASE_SIGNING_KEY + " to its key pair, from a Secret");
            }
            if (component.equals("runtime") && blank(settings.get(AccessSettings.LEASE_ISSUERS))) {
                problems.add(where + "requires access control and trusts no broker's leases, so every call to its"
                        + " capabilities would be refused: set " + AccessSettings.LEASE_ISSUERS + " to the public key"
                        + " of the broker's lease key");
            }
            AccessSettings.Bound bound = AccessSettings.bind(workload, container, settings, configMaps);
            bound.problems().forEach(problem -> problems.add(where + problem));
            if (bound.properties().isEmpty()) {
                continue;
            }
            Grants grants = bound.properties().get().grants();
            // Who calls this service with its certificate, and the role each needs here.
            String callers = component.equals("runtime") ? "broker" : component.equals("broker") ? "runtime" : "";
            Role needed = component.equals("runtime") ? Role.DEPLOY : Role.RUNTIME;
            String why = component.equals("runtime") ? "it needs to load extensions on demand"
                    : "it needs to register with the broker";
            for (Workload caller : workloads) {
                if (callers.isEmpty() || !component(caller).equals(callers)) {
                    continue;
                }
                String name = AccessSettings.principalOf(caller.name());
                if (!grants.has(new Principal(name, "mtls"), needed)) {
                    problems.add(where + "requires access control, and grants '" + name + "' (the certificate of "
                            + caller.kind() + " " + caller.name() + ") no " + needed.name().toLowerCase()
                            + " role, which " + why + "; grant it with capmesh.access.principals.[" + name
                            + "].roles (keep the brackets)");
                }
            }
        }
    }

    private static String component(Workload workload) {
        return workload.podLabels().getOrDefault("app.kubernetes.io/component", "");
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    private static void checkNoPrivateKey(Object object, List<String> problems) {
        List<String> texts = new ArrayList<>(List.of(JSON.serialize(object)));
        if (object instanceof V1Secret secret) {
            if (secret.getData() != null) {
                secret.getData().values().forEach(value -> texts.add(new String(value, StandardCharsets.ISO_8859_1)));
            }
            if (secret.getStringData() != null) {
                texts.addAll(secret.getStringData().values());
            }
        }
        if (texts.stream().anyMatch(text -> PRIVATE_KEY.matcher(text).find())) {
            KubernetesObject named = (KubernetesObject) object;
            problems.add(named.getKind() + " " + named.getMetadata().getName() + ": holds a private key;"
                    + " refer to a Secret the operator creates instead");
        }
    }

    private static <T> Stream<T> of(List<Object> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast);
    }
}
