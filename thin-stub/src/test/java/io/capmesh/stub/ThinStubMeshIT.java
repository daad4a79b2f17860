package io.capmesh.stub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.testsupport.Await;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thin stub against a real mesh: a broker whose leases live 2 s and two core runtimes, each its own JVM on
 * loopback. The tests run in order on one mesh because the last two kill parts of it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThinStubMeshIT {

    private static final Path BROKER = Path.of(System.getProperty("capmesh.broker.jar"));
    private static final Path RUNTIME = Path.of(System.getProperty("capmesh.runtime.jar"));
    private static final byte[] JSON = "{\"b\":1,\"a\":2}".getBytes(UTF_8);
    private static final String CANONICAL = "{\"a\":2,\"b\":1}";

    @TempDir
    static Path dir;
    static ServiceProcess broker;
    static List<ServiceProcess> runtimes = new ArrayList<>();
    static CapabilityClient client;

    @BeforeAll
    static void startMesh() throws Exception {
        int brokerPort = ServiceProcess.freePort();
        List<ServiceProcess> mesh = ServiceProcess.startTogether(List.of(
                () -> ServiceProcess.start(BROKER, dir.resolve("broker.log"), brokerPort,
                        "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker/leases.db"),
                        "--capmesh.broker.lease-ttl=2s",
                        "--capmesh.broker.heartbeat-interval=300ms",
                        "--capmesh.broker.unhealthy-after=1s"),
                () -> startRuntime("a", brokerPort),
                () -> startRuntime("b", brokerPort)));
        broker = mesh.get(0);
        runtimes.addAll(mesh.subList(1, 3));
        var health = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
        Await.until("both runtimes serving", Duration.ofSeconds(20), () -> health.health(BrokerHealthRequest.getDefaultInstance())
                .getRuntimesList().stream().filter(r -> r.getState() == ServingState.SERVING).count() == 2);
        client = CapabilityClient.builder().broker("127.0.0.1:" + brokerPort).account("acme").build();
    }

    @AfterAll
    static void stopMesh() throws Exception {
        if (client != null) {
            client.close();
        }
        for (ServiceProcess runtime : runtimes) {
            runtime.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Order(1)
    void acquiresInvokesTheRuntimeDirectlyAndReleasesOnClose() {
        assertThat(client.list("core.")).extracting(CatalogEntry::name).contains("core.json", "core.echo");
        String leaseId;
        try (Capabilities caps = client.acquire(Acquire.require("core.json", "^1").optional("ml.onnx"))) {
            CapabilityHandle json = caps.get("core.json");
            assertThat(json.version()).startsWith("1.");
            assertThat(json.replicas()).hasSize(2);
            assertThat(new String(json.invoke("canonicalize", JSON), UTF_8)).isEqualTo(CANONICAL);
            assertThat(caps.missing()).extracting(Missing::name).containsExactly("ml.onnx");
            // typed services of the same runtime, over the shared channel
            assertThat(RuntimeServiceGrpc.newBlockingStub(json.channel())
                    .listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .extracting(e -> e.getManifest().getId()).isNotEmpty();
            leaseId = caps.lease().id();
        }
        assertThatThrownBy(() -> CapabilityBrokerGrpc.newBlockingStub(broker.channel()).release(
                ReleaseRequest.newBuilder().setLeaseId(leaseId).setAccount("acme").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    @Order(2)
    void renewalKeepsTheLeaseAlivePastItsTimeToLive() throws Exception {
        try (Capabilities caps = client.acquire(Acquire.require("core.json"))) {
            Lease first = caps.lease();
            Thread.sleep(5_000); // two and a half times the 2 s the broker grants

            Lease now = caps.lease();
            assertThat(now.id()).isEqualTo(first.id());
            assertThat(now.expiresAt()).isAfter(first.expiresAt().plusSeconds(2));
            assertThat(now.lastRenewalFailure()).isEmpty();
            assertThat(CapabilityBrokerGrpc.newBlockingStub(broker.channel()).renew(RenewRequest.newBuilder()
                    .setLeaseId(first.id()).setAccount("acme").build()).hasExpiresAt()).isTrue();
        }
    }

    @Test
    @Order(3)
    void killingTheRuntimeInUseUnderLoadFailsNoCall() throws Exception {
        try (Capabilities caps = client.acquire(Acquire.require("core.json"))) {
            CapabilityHandle json = caps.get("core.json");
            String primary = json.replicas().get(0);
            ServiceProcess victim = runtimes.stream().filter(r -> primary.endsWith(":" + r.port())).findFirst()
                    .orElseThrow();

            AtomicInteger ok = new AtomicInteger();
            AtomicInteger afterKill = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
            long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            ExecutorService load = Executors.newFixedThreadPool(4);
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                workers.add(load.submit(() -> {
                    while (System.nanoTime() < end) {
                        long started = System.nanoTime();
                        try {
                            assertThat(new String(json.invoke("canonicalize", JSON), UTF_8)).isEqualTo(CANONICAL);
                            ok.incrementAndGet();
                            if (started > killedAt.get()) {
                                afterKill.incrementAndGet();
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                }));
            }
            Thread.sleep(1_500);
            victim.kill();
            killedAt.set(System.nanoTime());
            for (Future<?> worker : workers) {
                worker.get();
            }
            load.shutdown();

            assertThat(failures).isEmpty();
            assertThat(ok.get()).isGreaterThan(100);
            assertThat(afterKill.get()).isGreaterThan(50);
            System.out.printf("failover under load: %d calls, %d after the kill, 0 failed%n", ok.get(),
                    afterKill.get());
        }
    }

    @Test
    @Order(4)
    void callsKeepWorkingWhileTheBrokerIsDown() throws Exception {
        Capabilities caps = client.acquire(Acquire.require("core.json"));
        CapabilityHandle json = caps.get("core.json");
        broker.kill();

        Instant until = Instant.now().plusSeconds(4); // twice the lease's time to live
        int calls = 0;
        while (Instant.now().isBefore(until)) {
            assertThat(new String(json.invoke("canonicalize", JSON), UTF_8)).isEqualTo(CANONICAL);
            calls++;
            Thread.sleep(20);
        }
        assertThat(calls).isGreaterThan(50);
        assertThat(caps.lease().lastRenewalFailure()).hasValueSatisfying(
                status -> assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        assertThatThrownBy(client::list).isInstanceOfSatisfying(CapabilityCallException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
        caps.close(); // the release fails quietly: the lease expires on its own
    }

    private static ServiceProcess startRuntime(String name, int brokerPort) throws Exception {
        return ServiceProcess.start(RUNTIME, dir.resolve("runtime-" + name + ".log"),
                "--capmesh.runtime.data-dir=" + dir.resolve("runtime-" + name),
                "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort,
                "--capmesh.runtime.available=classpath*:nothing/*.jar");
    }
}
