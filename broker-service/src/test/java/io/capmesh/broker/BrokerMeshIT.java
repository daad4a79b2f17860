package io.capmesh.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broker and two core runtimes, each its own JVM on loopback, as an operator would run them. */
class BrokerMeshIT {

    private static final Path BROKER = Path.of(System.getProperty("capmesh.broker.jar"));
    private static final Path RUNTIME = Path.of(System.getProperty("capmesh.runtime.jar"));
    private static final String AVAILABLE = Path.of(System.getProperty("capmesh.available.dir")).toUri() + "*.jar";

    @TempDir
    Path dir;

    @Test
    void runtimesRegisterAndAcquireHandsOutStickyEndpointsLoadingTierTwoOnDemand() throws Exception {
        int brokerPort = ServiceProcess.freePort();
        try (ServiceProcess broker = startBroker(brokerPort);
             ServiceProcess a = startRuntime("a", brokerPort, AVAILABLE);
             ServiceProcess b = startRuntime("b", brokerPort, "")) {
            var stub = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
            await(Duration.ofSeconds(20), () -> serving(stub).size() == 2);

            Map<String, CatalogEntry> catalog = stub.list(ListCapabilitiesRequest.getDefaultInstance())
                    .getCapabilitiesList().stream().collect(Collectors.toMap(CatalogEntry::getName, e -> e));
            assertThat(catalog).containsKeys("core.echo", "core.json", "core.compress", "test.legacy-guava");
            assertThat(catalog.get("core.json").getReplicasList()).extracting(Endpoint::getPort)
                    .containsExactlyInAnyOrder(a.port(), b.port());
            assertThat(catalog.get("core.json").getTier()).isEqualTo(Tier.TIER_LOADED);
            assertThat(catalog.get("test.legacy-guava").getTier()).isEqualTo(Tier.TIER_LOADABLE);
            assertThat(catalog.get("test.legacy-guava").getReplicasList()).extracting(Endpoint::getPort)
                    .containsExactly(a.port());

            // the broker hands out an endpoint; the call goes straight to the runtime
            AcquireResponse json = stub.acquire(acquire("acme", "core.json", "^1"));
            Endpoint endpoint = json.getAcquired(0).getEndpoint();
            assertThat(endpoint.getPort()).isIn(a.port(), b.port());
            assertThat(json.getAcquired(0).getFallbacksCount()).isEqualTo(1);
            assertThat(invoke(endpoint, "core.json", "canonicalize", "{\"b\":1,\"a\":2}")).isEqualTo("{\"a\":2,\"b\":1}");
            // sticky: the same account gets the same replica again
            for (int i = 0; i < 5; i++) {
                assertThat(stub.acquire(acquire("acme", "core.json", "")).getAcquired(0).getEndpoint())
                        .isEqualTo(endpoint);
            }

            // tier 2: nothing has it loaded, so the broker has runtime a load it within the timeout
            AcquireResponse guava = stub.acquire(acquire("acme", "test.legacy-guava", "1.x"));
            assertThat(guava.getAcquired(0).getEndpoint().getPort()).isEqualTo(a.port());
            assertThat(RuntimeServiceGrpc.newBlockingStub(a.channel())
                    .listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .extracting(e -> e.getManifest().getId()).contains("legacy-guava");
            assertThat(invoke(guava.getAcquired(0).getEndpoint(), "test.legacy-guava", "whoami", ""))
                    .contains("\"hasToImmutableList\": false");

            // operators see the broker and the runtimes through Actuator: health, and metrics for Prometheus
            assertThat(http(broker.managementPort(), "/actuator/health")).contains("\"status\":\"UP\"");
            assertThat(http(a.managementPort(), "/actuator/prometheus"))
                    .contains("capmesh_extension_calls_total{extension=\"legacy-guava\",version=\"1.0.0\"} 1.0");

            stub.release(ReleaseRequest.newBuilder().setLeaseId(guava.getLeaseId()).setAccount("acme").build());
            expect(() -> stub.release(ReleaseRequest.newBuilder().setLeaseId(guava.getLeaseId()).setAccount("acme")
                    .build()), Status.Code.NOT_FOUND, "unknown or has expired");
            expect(() -> stub.renew(RenewRequest.newBuilder().setLeaseId(json.getLeaseId()).setAccount("mallory")
                    .build()), Status.Code.PERMISSION_DENIED, "belongs to another account");
        }
    }

    @Test
    void aKilledRuntimeGetsNoNewLeasesAndABrokerRestartLosesNoLease() throws Exception {
        int brokerPort = ServiceProcess.freePort();
        ServiceProcess broker = startBroker(brokerPort);
        try (ServiceProcess a = startRuntime("a", brokerPort, "");
             ServiceProcess b = startRuntime("b", brokerPort, "")) {
            var stub = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
            await(Duration.ofSeconds(20), () -> serving(stub).size() == 2);
            AcquireResponse kept = stub.acquire(acquire("keeper", "core.echo", ""));

            b.kill();
            long killed = System.nanoTime();
            await(Duration.ofSeconds(10), () -> serving(stub).size() == 1);
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(5));
            for (int account = 0; account < 50; account++) {
                assertThat(stub.acquire(acquire("account-" + account, "core.echo", "")).getAcquired(0)
                        .getEndpoint().getPort()).isEqualTo(a.port());
            }

            broker.kill();
            broker = startBroker(brokerPort);
            var restarted = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
            // the lease survived in the store; the registry is whole again after one heartbeat
            assertThat(restarted.renew(RenewRequest.newBuilder().setLeaseId(kept.getLeaseId()).setAccount("keeper")
                    .build()).hasExpiresAt()).isTrue();
            await(Duration.ofSeconds(5), () -> serving(restarted).size() == 1);
            assertThat(restarted.acquire(acquire("after", "core.echo", "")).getAcquired(0).getEndpoint().getPort())
                    .isEqualTo(a.port());
        } finally {
            broker.close();
        }
    }

    @Test
    void twoBrokersSharingOnePostgresSeeTheSameLeases() throws Exception {
        try (var postgres = io.capmesh.testsupport.LocalContainers.postgres()) {
            postgres.start();
            String[] store = {"--capmesh.broker.health-probe-interval=0", // its runtime is registered by hand
                    "--capmesh.broker.store.url=" + postgres.getJdbcUrl(),
                    "--capmesh.broker.store.username=" + postgres.getUsername(),
                    "--capmesh.broker.store.password=" + postgres.getPassword()};
            try (ServiceProcess one = ServiceProcess.start(BROKER, dir.resolve("broker-1.log"), store);
                 ServiceProcess two = ServiceProcess.start(BROKER, dir.resolve("broker-2.log"), store)) {
                var first = CapabilityBrokerGrpc.newBlockingStub(one.channel());
                var second = CapabilityBrokerGrpc.newBlockingStub(two.channel());
                // each broker keeps its own registry (soft state); a runtime registers with every replica
                for (var broker : List.of(first, second)) {
                    broker.register(io.capmesh.proto.v1.RegisterRequest.newBuilder().setRuntimeId("rt")
                            .setRuntimeTier("core").setEndpoint(Endpoint.newBuilder().setHost("127.0.0.1")
                                    .setPort(7001))
                            .addOffers(io.capmesh.proto.v1.CapabilityOffer.newBuilder()
                                    .setCapability(io.capmesh.proto.v1.Capability.newBuilder().setName("core.echo")
                                            .setVersion("1.0.0").addMethods("echo"))
                                    .setTier(Tier.TIER_LOADED)).build());
                }
                AcquireResponse lease = first.acquire(acquire("acme", "core.echo", ""));
                assertThat(second.renew(RenewRequest.newBuilder().setLeaseId(lease.getLeaseId()).setAccount("acme")
                        .build()).hasExpiresAt()).isTrue();
                expect(() -> second.renew(RenewRequest.newBuilder().setLeaseId(lease.getLeaseId())
                        .setAccount("mallory").build()), Status.Code.PERMISSION_DENIED, "another account");
                second.release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId()).setAccount("acme").build());
                expect(() -> first.release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId())
                        .setAccount("acme").build()), Status.Code.NOT_FOUND, "unknown or has expired");
            }
        }
    }

    private ServiceProcess startBroker(int port) throws Exception {
        return ServiceProcess.start(BROKER, dir.resolve("broker.log"), port,
                "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker/leases.db"),
                "--capmesh.broker.heartbeat-interval=300ms",
                "--capmesh.broker.unhealthy-after=1s");
    }

    private ServiceProcess startRuntime(String name, int brokerPort, String available) throws Exception {
        return ServiceProcess.start(RUNTIME, dir.resolve("runtime-" + name + ".log"),
                "--capmesh.runtime.data-dir=" + dir.resolve("runtime-" + name),
                "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort,
                "--capmesh.runtime.available=" + (available.isEmpty() ? "classpath*:nothing/*.jar" : available));
    }

    private static List<RuntimeHealth> serving(CapabilityBrokerGrpc.CapabilityBrokerBlockingStub stub) {
        return stub.health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                .filter(r -> r.getState() == ServingState.SERVING).toList();
    }

    private static AcquireRequest acquire(String account, String capability, String range) {
        return AcquireRequest.newBuilder().setAccount(account).setTimeoutMillis(20_000)
                .addRequired(CapabilityRequest.newBuilder().setName(capability).setVersionRange(range)).build();
    }

    private static String invoke(Endpoint endpoint, String capability, String method, String payload)
            throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress(endpoint.getHost(), endpoint.getPort())
                .usePlaintext().build();
        try {
            return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .invoke(InvokeRequest.newBuilder().setCapability(capability).setMethod(method)
                            .setPayload(ByteString.copyFromUtf8(payload)).build())
                    .getPayload().toStringUtf8();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static String http(int port, String path) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        return client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout);
            }
            Thread.sleep(50);
        }
    }

    private static void expect(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Status.Code code,
                               String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
