package io.capmesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checks catch what they are there to catch: each fixture under broken/ is wrong in one known way. */
class BrokenManifestsTest {

    @Test
    void aMisspelledFieldFailsTheSchemaCheck() throws Exception {
        Manifests.RenderedObject deployment = Manifests.render(fixture("misspelled-field")).get(0);

        assertThatThrownBy(() -> SchemaCheck.bind(deployment)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Deployment careless: ")
                .hasMessageContaining("The field `imagePulPolicy` in the JSON string is not defined in the"
                        + " `V1Container` properties");
    }

    @Test
    void aValueOfTheWrongTypeFailsTheSchemaCheck() throws Exception {
        Manifests.RenderedObject deployment = Manifests.render(fixture("wrong-type")).get(0);

        assertThatThrownBy(() -> SchemaCheck.bind(deployment)).hasMessageStartingWith("Deployment careless: ")
                .hasMessageContaining("two");
    }

    @Test
    void aMissingRequiredFieldFailsTheSchemaCheck() {
        Manifests.RenderedObject nameless = Manifests.parse("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: nameless
                spec:
                  containers:
                    - image: capmesh/broker
                """).get(0);

        assertThatThrownBy(() -> SchemaCheck.bind(nameless)).hasMessageStartingWith("Pod nameless: ")
                .hasMessageContaining("The required field `name` is not found");
    }

    @Test
    void anUnknownKindIsAnErrorRatherThanUnchecked() {
        Manifests.RenderedObject unknown = Manifests.parse("""
                apiVersion: example.com/v1
                kind: Gadget
                metadata:
                  name: thing
                """).get(0);

        assertThatThrownBy(() -> SchemaCheck.bind(unknown)).hasMessageContaining("no Kubernetes API model");
    }

    @Test
    void aDeploymentAgainstTheProjectRulesIsReportedOnEveryCount() throws Exception {
        List<Object> objects = Manifests.render(fixture("rules")).stream().map(SchemaCheck::bind)
                .map(Object.class::cast).toList();

        assertThat(ProjectRules.check(objects)).containsExactlyInAnyOrder(
                "Deployment careless container careless: needs startup, readiness and liveness probes",
                "Deployment careless container careless: needs CPU and memory requests and limits",
                "Deployment careless container careless: must run as non-root (runAsNonRoot: true)",
                "Deployment careless container careless: needs allowPrivilegeEscalation: false and"
                        + " readOnlyRootFilesystem: true",
                "Deployment careless container careless: every port needs a name",
                "Deployment careless: no PodDisruptionBudget selects its pods");
    }

    @Test
    void aSecretInAConfigMapIsReported() {
        Object map = SchemaCheck.bind(Manifests.parse("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                data:
                  CAPMESH_BROKER_STORE_PASSWORD: hunter2
                """).get(0));

        assertThat(ProjectRules.check(List.of(map))).containsExactly(
                "ConfigMap settings: CAPMESH_BROKER_STORE_PASSWORD looks secret; put it in a Secret");
    }

    @Test
    void aTlsServiceProbedOverGrpcOrReadingItsKeyFromElsewhereThanASecretIsReported() {
        List<Object> objects = Manifests.parse("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: tls-settings
                data:
                  SPRING_GRPC_SERVER_SSL_BUNDLE: capmesh-tls
                  CAPMESH_TLS_CERTIFICATE: /etc/capmesh/tls/tls.crt
                  CAPMESH_TLS_PRIVATEKEY: /etc/capmesh/tls/tls.key
                  CAPMESH_TLS_CA: /etc/capmesh/tls/ca.crt
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: careless
                spec:
                  selector:
                    matchLabels:
                      app.kubernetes.io/name: careless
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: careless
                    spec:
                      containers:
                        - name: careless
                          image: capmesh/broker
                          envFrom:
                            - configMapRef:
                                name: tls-settings
                          startupProbe:
                            grpc:
                              port: 9090
                          readinessProbe:
                            grpc:
                              port: 9090
                          livenessProbe:
                            httpGet:
                              path: /actuator/health/liveness
                              port: 8090
                          volumeMounts:
                            - name: tls
                              mountPath: /etc/capmesh/tls
                      volumes:
                        - name: tls
                          emptyDir: {}
                """).stream().map(SchemaCheck::bind).map(Object.class::cast).toList();

        assertThat(ProjectRules.check(objects)).filteredOn(problem -> problem.contains("TLS")).containsExactlyInAnyOrder(
                "Deployment careless container careless: serves gRPC with TLS, and Kubernetes' gRPC startup probe"
                        + " cannot speak TLS: probe the management port (httpGet /actuator/health/...)",
                "Deployment careless container careless: serves gRPC with TLS, and Kubernetes' gRPC readiness probe"
                        + " cannot speak TLS: probe the management port (httpGet /actuator/health/...)",
                "Deployment careless container careless: CAPMESH_TLS_CERTIFICATE (/etc/capmesh/tls/tls.crt) is not"
                        + " in a Secret volume mounted read-only",
                "Deployment careless container careless: CAPMESH_TLS_PRIVATEKEY (/etc/capmesh/tls/tls.key) is not"
                        + " in a Secret volume mounted read-only",
                "Deployment careless container careless: CAPMESH_TLS_CA (/etc/capmesh/tls/ca.crt) is not in a"
                        + " Secret volume mounted read-only");
    }

    @Test
    void aPrivateKeyInAnyObjectIsReportedWhetherPlainOrBase64() {
        String key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
        List<Object> objects = Manifests.parse("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: pasted
                data:
                  service.key: |
                %s
                ---
                apiVersion: v1
                kind: Secret
                metadata:
                  name: committed-tls
                type: kubernetes.io/tls
                data:
                  tls.crt: ""
                  tls.key: %s
                """.formatted(key.indent(4).stripTrailing(),
                java.util.Base64.getEncoder().encodeToString(key.getBytes(java.nio.charset.StandardCharsets.US_ASCII))))
                .stream().map(SchemaCheck::bind).map(Object.class::cast).toList();

        assertThat(ProjectRules.check(objects)).containsExactlyInAnyOrder(
                "ConfigMap pasted: holds a private key; refer to a Secret the operator creates instead",
                "Secret committed-tls: holds a private key; refer to a Secret the operator creates instead");
    }

    @Test
    void aPolicyThatLosesTheBrokersNameIsReported() throws Exception {
        List<Object> objects = Manifests.render(fixture("access-policy")).stream().map(SchemaCheck::bind)
                .map(Object.class::cast).toList();

        assertThat(ProjectRules.check(objects)).containsExactly(
                "StatefulSet core-runtime container core-runtime: requires access control, and grants 'capmesh broker'"
                        + " (the certificate of Deployment broker) no deploy role, which it needs to load extensions"
                        + " on demand; grant it with capmesh.access.principals.[capmesh broker].roles (keep the"
                        + " brackets)");
    }

    @Test
    void aServiceRequiringAccessWithoutLeaseKeysOrGrantsOrWithItsLeaseKeyOutsideASecretIsReported() {
        List<Object> objects = Manifests.parse("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: access-settings
                data:
                  CAPMESH_ACCESS_MODE: required
                  SPRING_CONFIG_ADDITIONALLOCATION: file:/etc/capmesh/access/
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: broker
                spec:
                  selector:
                    matchLabels:
                      app.kubernetes.io/name: broker
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: broker
                        app.kubernetes.io/component: broker
                    spec:
                      containers:
                        - name: broker
                          image: capmesh/broker
                          envFrom:
                            - configMapRef:
                                name: access-settings
                          env:
                            - name: CAPMESH_BROKER_LEASESIGNINGKEY
                              value: /var/lib/capmesh/lease-key.pem
                ---
                apiVersion: apps/v1
                kind: StatefulSet
                metadata:
                  name: core-runtime
                spec:
                  serviceName: core-runtime
                  selector:
                    matchLabels:
                      app.kubernetes.io/name: core-runtime
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: core-runtime
                        app.kubernetes.io/component: runtime
                    spec:
                      containers:
                        - name: core-runtime
                          image: capmesh/core-runtime
                          envFrom:
                            - configMapRef:
                                name: access-settings
                """).stream().map(SchemaCheck::bind).map(Object.class::cast).toList();

        assertThat(ProjectRules.check(objects)).filteredOn(problem -> problem.contains("CAPMESH_")
                || problem.contains("SPRING_CONFIG_") || problem.contains("access control")).containsExactlyInAnyOrder(
                "Deployment broker container broker: CAPMESH_BROKER_LEASESIGNINGKEY (/var/lib/capmesh/lease-key.pem)"
                        + " is not in a Secret volume mounted read-only",
                "Deployment broker container broker: SPRING_CONFIG_ADDITIONALLOCATION (file:/etc/capmesh/access/)"
                        + " names no configuration file in a ConfigMap volume mounted read-only",
                "Deployment broker container broker: requires access control, and grants 'capmesh core-runtime' (the"
                        + " certificate of StatefulSet core-runtime) no runtime role, which it needs to register with"
                        + " the broker; grant it with capmesh.access.principals.[capmesh core-runtime].roles (keep the"
                        + " brackets)",
                "StatefulSet core-runtime container core-runtime: requires access control and trusts no broker's"
                        + " leases, so every call to its capabilities would be refused: set CAPMESH_ACCESS_LEASEISSUERS"
                        + " to the public key of the broker's lease key",
                "StatefulSet core-runtime container core-runtime: SPRING_CONFIG_ADDITIONALLOCATION"
                        + " (file:/etc/capmesh/access/) names no configuration file in a ConfigMap volume mounted"
                        + " read-only",
                "StatefulSet core-runtime container core-runtime: requires access control, and grants 'capmesh"
                        + " broker' (the certificate of Deployment broker) no deploy role, which it needs to load"
                        + " extensions on demand; grant it with capmesh.access.principals.[capmesh broker].roles (keep"
                        + " the brackets)");
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(BrokenManifestsTest.class.getResource("/broken/" + name).toURI());
    }
}
