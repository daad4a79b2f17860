package io.capmesh.images;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.capmesh.extensions.crypto.v1.ImportKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyInfo;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignResponse;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.Value;
import io.capmesh.extensions.mlonnx.v1.DataType;
import io.capmesh.extensions.mlonnx.v1.InferRequest;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
import io.capmesh.stub.Composition;
import io.capmesh.testsupport.BackgroundLoad;
import io.capmesh.testsupport.LocalContainers;
import io.capmesh.testsupport.LocalImagesOnly;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The mesh from its real images, as a cluster would run it: PostgreSQL, two broker replicas sharing it behind one L4
 * balancer (HAProxy, playing kube-proxy in front of a Service), and the four runtimes (two replicas of the ml tier)
 * on one Docker network, each service container with a read-only root file system, a memory limit and its start
 * cache required. The runtimes and the test JVM, which is the thin stub, reach the brokers only
 * through the balancer's one address; the stub calls the runtimes at the addresses they registered (their container
 * addresses). The tests run in order on one mesh because the last ones kill a runtime and a broker.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerizedMeshIT {

    private static final String TAG = System.getProperty("capmesh.images.tag", "latest");
    private static final long MEMORY_LIMIT = 768L * 1024 * 1024;
    private static final Path LOGS = Path.of("target", "mesh-logs");
    private static final HexFormat HEX = HexFormat.of();
    /** RFC 8032 section 7.1, test 1: the key the crypto tier signs with, and its public half. */
    private static final byte[] SEED = HEX.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static final byte[] SEED_PUBLIC = HEX.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

    static Network network;
    static PostgreSQLContainer postgres;
    /** The one address of the broker replicas, as a Service's is. */
    static GenericContainer<?> balancer;
    /** Every service container by name, with its gRPC and management ports inside the container. */
    static final Map<String, Service> services = new LinkedHashMap<>();
    static CapabilityClient client;

    record Service(GenericContainer<?> container, int grpcPort, int managementPort) {
        String address() {
            return container.getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next()
                    .getIpAddress();
        }
    }

    @BeforeAll
    static void startMesh() throws Exception {
        Files.createDirectories(LOGS);
        network = Network.newNetwork();
        postgres = LocalContainers.postgres().withNetwork(network).withNetworkAliases("postgres");
        String database = "jdbc:postgresql://postgres:5432/" + postgres.getDatabaseName();
        for (String replica : List.of("broker-a", "broker-b")) {
            service(replica, "broker", 9090, 8090)
                    .withNetworkAliases(replica)
                    .withEnv("CAPMESH_BROKER_STORE_URL", database)
                    .withEnv("CAPMESH_BROKER_STORE_USERNAME", postgres.getUsername())
                    .withEnv("CAPMESH_BROKER_STORE_PASSWORD", postgres.getPassword())
                    .withEnv("CAPMESH_BROKER_HEARTBEATINTERVAL", "500ms")
                    .withEnv("CAPMESH_BROKER_UNHEALTHYAFTER", "2s")
                    .dependsOn(postgres);
        }
        balancer = LocalContainers.container("haproxy")
                .withNetwork(network)
                .withNetworkAliases("broker")
                .withExposedPorts(9090)
                .withLogConsumer(frame -> appendLog("balancer", frame.getUtf8String()))
                .dependsOn(services.get("broker-a").container(), services.get("broker-b").container())
                .waitingFor(Wait.forListeningPort());
        runtime("core-runtime", 9091, 8091);
        runtime("data-runtime", 9092, 8092)
                .withEnv("CAPMESH_DATA_DATASOURCES_MAIN_URL", database)
                .withEnv("CAPMESH_DATA_DATASOURCES_MAIN_USERNAME", postgres.getUsername())
                .withEnv("CAPMESH_DATA_DATASOURCES_MAIN_PASSWORD", postgres.getPassword());
        runtime("ml-runtime-a", "ml-runtime", 9093, 8093);
        runtime("ml-runtime-b", "ml-runtime", 9093, 8093);
        runtime("crypto-runtime", 9094, 8094)
                .withEnv("CAPMESH_CRYPTO_MASTER_KEY", randomKey())
                .withEnv("CAPMESH_CRYPTO_GENERATEMASTERKEY", "false");
        Startables.deepStart(services.values().stream().map(Service::container)).join();

        // A killed container's address answers nothing, as a deleted pod's does: the connect timeout (well under
        // the attempt's deadline) is what turns a reconnect to it into a failover to the next replica.
        client = CapabilityClient.builder().broker(balancer.getHost() + ":" + balancer.getMappedPort(9090))
                .account("acme").attemptTimeout(Duration.ofSeconds(5)).connectTimeout(Duration.ofSeconds(1))
                .build();
        awaitCatalog(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stopMesh() {
        if (client != null) {
            client.close();
        }
        services.values().forEach(s -> s.container().stop());
        if (balancer != null) {
            balancer.stop();
        }
        if (postgres != null) {
            postgres.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    @Order(1)
    void everyServiceAnswersTheProbesKubernetesAsks() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (var entry : services.entrySet()) {
            Service service = entry.getValue();
            GenericContainer<?> container = service.container();
            ManagedChannel channel = NettyChannelBuilder.forAddress(container.getHost(),
                    container.getMappedPort(service.grpcPort())).usePlaintext().build();
            try {
                // what a grpc: probe asks: the server as a whole, no service name
                assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus())
                        .as(entry.getKey()).isEqualTo(ServingStatus.SERVING);
            } finally {
                channel.shutdownNow();
            }
            for (String probe : List.of("liveness", "readiness")) {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://"
                        + container.getHost() + ":" + container.getMappedPort(service.managementPort())
                        + "/actuator/health/" + probe)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as(entry.getKey() + " " + probe).isEqualTo(200);
                assertThat(answer.body()).as(entry.getKey() + " " + probe).contains("\"status\":\"UP\"");
            }
        }
    }

    @Test
    @Order(2)
    void servicesRunUnprivilegedOnAReadOnlyRootWithTheHeapSizedFromTheirMemoryAndRuntimesGuardExits() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (var entry : services.entrySet()) {
            GenericContainer<?> container = entry.getValue().container();
            assertThat(container.execInContainer("id", "-u").getStdout().strip()).as(entry.getKey())
                    .isEqualTo("10001");
            assertThat(container.execInContainer("touch", "/app/written").getStderr()).as(entry.getKey())
                    .contains("Read-only file system");

            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://" + container.getHost() + ":"
                    + container.getMappedPort(entry.getValue().managementPort()) + "/actuator/prometheus")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher oldGen = Pattern.compile("jvm_memory_max_bytes\\{[^}]*area=\"heap\"[^}]*id=\"G1 Old Gen\"[^}]*} "
                    + "([0-9.E+]+)").matcher(metrics);
            assertThat(oldGen.find()).as(entry.getKey() + " reports its heap").isTrue();
            // -XX:MaxRAMPercentage=75 of the container's limit, rounded to G1 regions
            assertThat(Double.parseDouble(oldGen.group(1)) / MEMORY_LIMIT).as(entry.getKey())
                    .isBetween(0.70, 0.76);
            if (!entry.getKey().startsWith("broker")) { // every runtime's JVM runs the exit guard
                assertThat(metrics).as(entry.getKey()).contains("capmesh_runtime_exit_containment 1.0");
            }
        }
    }

    @Test
    @Order(3)
    void aThinStubComposesDataMlAndCryptoAcrossTheContainers() throws Exception {
        try (Capabilities caps = client.acquire(Acquire.require("data.sql", "^1").andRequire("ml.onnx", "^1")
                .andRequire("crypto.sign", "^1").andRequire("crypto.keys", "^1"))) {
            // runtimes are reached at the addresses they registered: their own, on the mesh's network
            assertThat(caps.get("ml.onnx").replicas()).containsExactlyInAnyOrder(
                    services.get("ml-runtime-a").address() + ":9093", services.get("ml-runtime-b").address() + ":9093");
            assertThat(caps.get("data.sql").replicas()).containsExactly(services.get("data-runtime").address() + ":9092");

            String keyId = KeyInfo.parseFrom(caps.get("crypto.keys").invoke("import", ImportKeyRequest.newBuilder()
                    .setType(KeyType.ED25519).setLabel("scores").setPrivateKey(ByteString.copyFrom(SEED)).build()
                    .toByteArray())).getKeyId();
            CapabilityHandle sql = caps.get("data.sql");
            sql.invoke("execute", execute("CREATE TABLE IF NOT EXISTS flower (id BIGINT PRIMARY KEY,"
                    + " sepal_length REAL, sepal_width REAL, petal_length REAL, petal_width REAL)"));
            sql.invoke("execute", execute("INSERT INTO flower VALUES (1, 6.1, 2.8, 4.7, 1.2) ON CONFLICT DO NOTHING"));

            String statement = Composition.sequence(Duration.ofSeconds(10), () -> scoreAndSign(caps, keyId, 1));

            assertThat(statement).matches("flower 1 is class [0-2] \\(p=0\\.[0-9]{3}\\) signed [0-9a-f]{128}");
            String message = statement.substring(0, statement.indexOf(" signed "));
            byte[] signature = HEX.parseHex(statement.substring(statement.indexOf(" signed ") + 8));
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(ed25519PublicKey(SEED_PUBLIC));
            verifier.update(message.getBytes(UTF_8));
            assertThat(verifier.verify(signature)).as("the signature verifies with the RFC 8032 public key").isTrue();
        }
    }

    @Test
    @Order(4)
    void killingTheMlReplicaInUseFailsOverWithoutAFailedCall() throws Exception {
        try (Capabilities caps = client.acquire(Acquire.require("ml.onnx", "^1"))) {
            CapabilityHandle ml = caps.get("ml.onnx");
            String primary = ml.replicas().get(0);
            Service victim = services.values().stream().filter(s -> primary.equals(s.address() + ":9093"))
                    .findFirst().orElseThrow();

            BackgroundLoad load = BackgroundLoad.start(2, () -> classify(ml, 6.1f, 2.8f, 4.7f, 1.2f));
            Thread.sleep(1_500);
            int beforeKill = load.calls();
            victim.container().getDockerClient().killContainerCmd(victim.container().getContainerId()).exec();
            Thread.sleep(3_000);
            load.close();

            assertThat(load.failures()).isEmpty();
            assertThat(beforeKill).isGreaterThan(10);
            assertThat(load.calls() - beforeKill).as("calls served by the surviving replica").isGreaterThan(10);
            System.out.printf("failover in containers: %d calls, %d after the kill, 0 failed%n", load.calls(),
                    load.calls() - beforeKill);
        }
    }

    @Test
    @Order(5)
    void killingABrokerReplicaBehindTheBalancerFailsNoAcquireOrCall() throws Exception {
        BackgroundLoad load = BackgroundLoad.start(2, () -> {
            try (Capabilities caps = client.acquire(Acquire.require("core.json", "^1"))) {
                assertThat(new String(caps.get("core.json").invoke("canonicalize", "{\"b\":1,\"a\":2}"
                        .getBytes(UTF_8)), UTF_8)).isEqualTo("{\"a\":2,\"b\":1}");
            }
        });
        Thread.sleep(1_500);
        int beforeKill = load.calls();
        GenericContainer<?> victim = services.get("broker-a").container();
        victim.getDockerClient().killContainerCmd(victim.getContainerId()).exec();
        Thread.sleep(3_000);
        load.close();

        assertThat(load.failures()).isEmpty();
        assertThat(beforeKill).isGreaterThan(5);
        assertThat(load.calls() - beforeKill).as("acquire + call rounds after the kill").isGreaterThan(5);
        System.out.printf("broker failover behind the balancer: %d rounds, %d after the kill, 0 failed%n",
                load.calls(), load.calls() - beforeKill);
    }

    /** Reads a flower's features from the data tier, classifies them on the ml tier and signs the verdict. */
    private static String scoreAndSign(Capabilities caps, String keyId, long flowerId) throws Exception {
        QueryResult row = QueryResult.parseFrom(caps.get("data.sql").invoke("query", QueryRequest.newBuilder()
                .setSql("SELECT sepal_length, sepal_width, petal_length, petal_width FROM flower WHERE id = ?")
                .addParams(Value.newBuilder().setInt64Value(flowerId)).build().toByteArray()));
        List<Value> values = row.getRows(0).getValuesList();
        InferResponse scored = classify(caps.get("ml.onnx"), (float) values.get(0).getDoubleValue(),
                (float) values.get(1).getDoubleValue(), (float) values.get(2).getDoubleValue(),
                (float) values.get(3).getDoubleValue());
        int label = Math.toIntExact(scored.getOutputsOrThrow("label").getInt64Values(0));
        List<Float> probabilities = scored.getOutputsOrThrow("probabilities").getFloatValuesList();
        assertThat(probabilities.stream().mapToDouble(Float::doubleValue).sum()).isCloseTo(1.0,
                org.assertj.core.data.Offset.offset(1e-4));
        assertThat(probabilities.get(label)).isEqualTo(probabilities.stream().max(Float::compare).orElseThrow());
        String message = String.format(java.util.Locale.ROOT, "flower %d is class %d (p=%.3f)", flowerId, label,
                probabilities.get(label));
        SignResponse signed = SignResponse.parseFrom(caps.get("crypto.sign").invoke("sign", SignRequest.newBuilder()
                .setKeyId(keyId).setMessage(ByteString.copyFromUtf8(message)).build().toByteArray()));
        return message + " signed " + HEX.formatHex(signed.getSignature().toByteArray());
    }

    private static InferResponse classify(CapabilityHandle ml, float... features) {
        Tensor.Builder tensor = Tensor.newBuilder().setDtype(DataType.FLOAT).addShape(1).addShape(features.length);
        for (float feature : features) {
            tensor.addFloatValues(feature);
        }
        try {
            return InferResponse.parseFrom(ml.invoke("infer",
                    InferRequest.newBuilder().putInputs("features", tensor.build()).build().toByteArray()));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] execute(String sql) {
        return ExecuteRequest.newBuilder().setSql(sql).build().toByteArray();
    }

    private static PublicKey ed25519PublicKey(byte[] raw) throws Exception {
        byte[] spki = HEX.parseHex("302a300506032b6570032100" + HEX.formatHex(raw)); // SubjectPublicKeyInfo prefix
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    }

    private static GenericContainer<?> runtime(String name, int grpcPort, int managementPort) {
        return runtime(name, name, grpcPort, managementPort);
    }

    /** A runtime that registers with the broker, advertising its own address on the network (an empty host). */
    private static GenericContainer<?> runtime(String name, String image, int grpcPort, int managementPort) {
        return service(name, image, grpcPort, managementPort)
                .withEnv("CAPMESH_RUNTIME_BROKER_ADDRESS", "broker:9090")
                .withEnv("CAPMESH_RUNTIME_BROKER_ADVERTISEHOST", "")
                .dependsOn(balancer);
    }

    private static GenericContainer<?> service(String name, int grpcPort, int managementPort) {
        return service(name, name, grpcPort, managementPort);
    }

    /**
     * A service container as the Kubernetes manifests run it: read-only root, writable data directory and /tmp
     * (which must allow executing: SQLite and ONNX Runtime unpack their native libraries there), a memory limit,
     * probes enabled. CAPMESH_START_CACHE=required makes the start fail if the image's start cache cannot be used.
     */
    private static GenericContainer<?> service(String name, String image, int grpcPort, int managementPort) {
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse("capmesh/" + image + ":" + TAG))
                .withImagePullPolicy(new LocalImagesOnly())
                .withNetwork(network)
                .withExposedPorts(grpcPort, managementPort)
                .withTmpFs(Map.of("/tmp", "rw,exec", "/var/lib/capmesh", "rw,uid=10001,gid=10001"))
                .withCreateContainerCmdModifier(create -> create.getHostConfig().withReadonlyRootfs(true)
                        .withMemory(MEMORY_LIMIT))
                .withEnv("CAPMESH_START_CACHE", "required")
                // every interface of the container, with access control off: a test mesh says it means that
                .withEnv("CAPMESH_ACCESS_INSECURE", "true")
                .withEnv("MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED", "true")
                .withLogConsumer(frame -> appendLog(name, frame.getUtf8String()))
                .waitingFor(Wait.forHttp("/actuator/health/readiness").forPort(managementPort)
                        .withStartupTimeout(Duration.ofMinutes(3)));
        services.put(name, new Service(container, grpcPort, managementPort));
        return container;
    }

    private static void awaitCatalog(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> wanted = List.of("core.json", "data.sql", "ml.onnx", "crypto.sign", "crypto.keys");
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            try {
                seen = client.list().stream().map(e -> e.name()).toList();
                if (seen.containsAll(wanted)) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // the broker is up; runtimes may still be registering
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the broker did not list " + wanted + " within " + timeout + "; it lists " + seen
                + "; see the logs in " + LOGS.toAbsolutePath());
    }

    private static void appendLog(String name, String line) {
        try {
            Files.writeString(LOGS.resolve(name + ".log"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // a lost log line does not change the test's verdict
        }
    }

    private static String randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }
}
