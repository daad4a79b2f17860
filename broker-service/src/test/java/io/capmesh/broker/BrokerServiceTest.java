package io.capmesh.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.Capability;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.Dependency;
import io.capmesh.proto.v1.DeregisterRequest;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.HeartbeatRequest;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.proto.v1.WatchEvent;
import io.capmesh.proto.v1.WatchRequest;
import io.capmesh.broker.lease.LeaseStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;
import org.springframework.test.annotation.DirtiesContext;

/**
 * The broker as Boot wires it, on a real port, with runtimes that register through the RPCs (their endpoints
 * are never called here: tier-1 acquires do not touch the runtimes).
 */
@SpringBootTest(properties = {
        "spring.grpc.server.address=127.0.0.1",
        "spring.grpc.server.port=0",
        "capmesh.broker.unhealthy-after=10m", // these runtimes are registered by hand and never heartbeat
        "capmesh.broker.drop-after=20m",
        "capmesh.broker.health-probe-interval=0", // and serve nothing that could answer a probe
        "capmesh.broker.store.url=jdbc:sqlite:${java.io.tmpdir}/capmesh-broker-service-test/${random.uuid}.db"})
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_EACH_TEST_METHOD)
class BrokerServiceTest {

    @TestConfiguration
    static class Port {
        volatile int value;

        @EventListener
        void started(GrpcServerStartedEvent event) {
            value = event.getPort();
        }
    }

    @Autowired
    Port port;

    @Autowired
    LeaseStore leases;

    private ManagedChannel channel;
    private CapabilityBrokerGrpc.CapabilityBrokerBlockingStub broker;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port.value).usePlaintext().build();
        broker = CapabilityBrokerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void badInputsGetAClearStatusAndMessage() {
        register("r1", 7001, offer("core.json", "1.2.0", Tier.TIER_LOADED));
        expect(() -> broker.acquire(acquire("acme", "core.nothing", "")), Status.Code.NOT_FOUND,
                "no runtime offers core.nothing");
        expect(() -> broker.acquire(acquire("acme", "core.json", "^1.x.y")), Status.Code.INVALID_ARGUMENT,
                "'^1.x.y' is not a semver range");
        expect(() -> broker.acquire(acquire("acme", "core.json", "^2")), Status.Code.FAILED_PRECONDITION,
                "no healthy runtime offers core.json '^2' (offered: 1.2.0)");
        expect(() -> broker.acquire(acquire("acme", "core.json", "").toBuilder().setTimeoutMillis(0).build()),
                Status.Code.INVALID_ARGUMENT, "timeout_millis must be positive");
        expect(() -> broker.acquire(acquire("acme", "core.json", "").toBuilder().setTimeoutMillis(-5).build()),
                Status.Code.INVALID_ARGUMENT, "timeout_millis must be positive");
        expect(() -> broker.acquire(acquire("", "core.json", "")), Status.Code.INVALID_ARGUMENT,
                "account is required");
        expect(() -> broker.acquire(acquire("acme", "Core.JSON", "")), Status.Code.INVALID_ARGUMENT,
                "'Core.JSON' is not a capability name");
        expect(() -> broker.acquire(AcquireRequest.newBuilder().setAccount("acme").setTimeoutMillis(100).build()),
                Status.Code.INVALID_ARGUMENT, "name at least one required capability");
        expect(() -> broker.renew(RenewRequest.newBuilder().setLeaseId("0123456789abcdef").setAccount("acme")
                .build()), Status.Code.NOT_FOUND, "unknown or has expired");
        expect(() -> broker.release(ReleaseRequest.newBuilder().setLeaseId("").setAccount("acme").build()),
                Status.Code.INVALID_ARGUMENT, "lease_id and account are both required");
        AcquireResponse lease = broker.acquire(acquire("acme", "core.json", "^1.2"));
        expect(() -> broker.release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId()).setAccount("mallory")
                .build()), Status.Code.PERMISSION_DENIED, "belongs to another account");
        AcquireRequest.Builder huge = AcquireRequest.newBuilder().setAccount("x".repeat(2 << 20)).setTimeoutMillis(1);
        expect(() -> broker.acquire(huge.build()), Status.Code.RESOURCE_EXHAUSTED, "exceeds maximum");
        expect(() -> broker.register(RegisterRequest.newBuilder().setRuntimeId("r9").build()),
                Status.Code.INVALID_ARGUMENT, "endpoint needs a host and a port");
    }

    @Test
    void listFiltersByPrefixTierAndHealthAndPreferLocalPicksAReplicaOnTheCallersHost() {
        register("r1", 7001, offer("core.json", "1.0.0", Tier.TIER_LOADED), offer("ml.onnx", "1.0.0", Tier.TIER_LOADABLE));
        broker.register(RegisterRequest.newBuilder().setRuntimeId("r2").setRuntimeTier("core")
                .setEndpoint(Endpoint.newBuilder().setHost("10.1.2.3").setPort(7002))
                .addOffers(offer("core.json", "1.1.0", Tier.TIER_LOADED)).build());
        broker.heartbeat(HeartbeatRequest.newBuilder().setRuntimeId("r2").setState(ServingState.NOT_SERVING)
                .addOffers(offer("core.json", "1.1.0", Tier.TIER_LOADED)).build());

        var all = broker.list(io.capmesh.proto.v1.ListCapabilitiesRequest.getDefaultInstance());
        assertThat(all.getCapabilitiesList()).extracting(e -> e.getName()).containsExactly("core.json", "ml.onnx");
        assertThat(all.getCapabilities(0).getVersionsList()).containsExactly("1.1.0", "1.0.0");
        var core = broker.list(io.capmesh.proto.v1.ListCapabilitiesRequest.newBuilder().setNamePrefix("core.").build());
        assertThat(core.getCapabilitiesList()).extracting(e -> e.getName()).containsExactly("core.json");
        var loadable = broker.list(io.capmesh.proto.v1.ListCapabilitiesRequest.newBuilder()
                .setTier(Tier.TIER_LOADABLE).build());
        assertThat(loadable.getCapabilitiesList()).extracting(e -> e.getName()).containsExactly("ml.onnx");
        var healthy = broker.list(io.capmesh.proto.v1.ListCapabilitiesRequest.newBuilder().setHealthyOnly(true)
                .setNamePrefix("core.").build());
        assertThat(healthy.getCapabilities(0).getVersionsList()).containsExactly("1.0.0");

        // r2 said NOT_SERVING: no lease points to it, even for a range only it could satisfy
        expect(() -> broker.acquire(acquire("acme", "core.json", "^1.1")), Status.Code.FAILED_PRECONDITION,
                "no healthy runtime offers core.json '^1.1' (offered: 1.0.0)");
        broker.heartbeat(HeartbeatRequest.newBuilder().setRuntimeId("r2").setState(ServingState.SERVING)
                .addOffers(offer("core.json", "1.0.0", Tier.TIER_LOADED)).build());
        for (int i = 0; i < 20; i++) {
            AcquireResponse local = broker.acquire(acquire("account-" + i, "core.json", "").toBuilder()
                    .setPreferLocal(true).setClientHost("10.1.2.3").build());
            assertThat(local.getAcquired(0).getEndpoint().getHost()).isEqualTo("10.1.2.3");
            assertThat(local.getAcquired(0).getFallbacks(0).getHost()).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void dependenciesAreAcquiredTooAndAMissingOptionalIsReportedNotFatal() {
        register("r1", 7001, offer("core.json", "1.0.0", Tier.TIER_LOADED),
                offer("data.sql", "2.1.0", Tier.TIER_LOADED).toBuilder().addDependencies(
                        Dependency.newBuilder().setCapability("core.json").setVersionRange("^1")).build());
        AcquireResponse response = broker.acquire(acquire("acme", "data.sql", "^2").toBuilder()
                .addOptional(CapabilityRequest.newBuilder().setName("ml.onnx")).build());
        assertThat(response.getAcquiredList()).extracting(a -> a.getName() + "@" + a.getVersion())
                .containsExactly("data.sql@2.1.0", "core.json@1.0.0");
        assertThat(response.getMissingList()).singleElement().satisfies(m -> {
            assertThat(m.getName()).isEqualTo("ml.onnx");
            assertThat(m.getRequired()).isFalse();
            assertThat(m.getReason()).contains("no runtime offers ml.onnx");
        });
        long before = leases.count();
        expect(() -> broker.acquire(acquire("acme", "data.sql", "").toBuilder()
                        .addRequired(CapabilityRequest.newBuilder().setName("ml.onnx"))
                        .addRequired(CapabilityRequest.newBuilder().setName("crypto.sign")).build()),
                Status.Code.NOT_FOUND, "no runtime offers ml.onnx", "no runtime offers crypto.sign");
        assertThat(leases.count()).as("no partial lease is left behind").isEqualTo(before);
    }

    @Test
    void accountsSpreadEvenlyStickToTheirReplicaAndMoveOnlyWhenTheirReplicaLeaves() {
        for (int i = 1; i <= 3; i++) {
            register("r" + i, 7000 + i, offer("core.echo", "1.0.0", Tier.TIER_LOADED));
        }
        Map<String, Integer> first = placements(1000);
        Map<Integer, Integer> perReplica = new HashMap<>();
        first.values().forEach(p -> perReplica.merge(p, 1, Integer::sum));
        assertThat(perReplica).hasSize(3);
        perReplica.values().forEach(n -> assertThat(n).isBetween(267, 400)); // 333 +- 20 %
        assertThat(placements(1000)).isEqualTo(first);

        broker.deregister(DeregisterRequest.newBuilder().setRuntimeId("r2").build());
        Map<String, Integer> after = placements(1000);
        first.forEach((account, before) -> {
            if (before != 7002) {
                assertThat(after.get(account)).as(account).isEqualTo(before);
            } else {
                assertThat(after.get(account)).as(account).isNotEqualTo(7002);
            }
        });
    }

    @Test
    void fiftyClientsAcquiringAndReleasingAtOnceLoseAndDoubleNothing() throws Exception {
        register("r1", 7001, offer("core.echo", "1.0.0", Tier.TIER_LOADED));
        register("r2", 7002, offer("core.echo", "1.0.0", Tier.TIER_LOADED));
        long before = leases.count();
        Set<String> held = ConcurrentHashMap.newKeySet();
        Set<String> released = ConcurrentHashMap.newKeySet();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicInteger acquired = new AtomicInteger();
        long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 50; c++) {
            String account = "client-" + c;
            Thread client = new Thread(() -> {
                int n = 0;
                while (System.nanoTime() < until) {
                    try {
                        String id = broker.acquire(acquire(account, "core.echo", "")).getLeaseId();
                        acquired.incrementAndGet();
                        if (!held.add(id)) {
                            failures.add(new AssertionError("lease id handed out twice: " + id));
                        }
                        if (n++ % 2 == 0) {
                            broker.release(ReleaseRequest.newBuilder().setLeaseId(id).setAccount(account).build());
                            released.add(id);
                        }
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            });
            client.start();
            clients.add(client);
        }
        for (Thread client : clients) {
            client.join();
        }
        assertThat(failures).isEmpty();
        assertThat(acquired.get()).isGreaterThan(50);
        assertThat(leases.count() - before).isEqualTo(acquired.get() - released.size());
        held.forEach(id -> assertThat(leases.find(id).isPresent()).as(id).isEqualTo(!released.contains(id)));
    }

    @Test
    void watchersHearOfTransitionsOnly() throws Exception {
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        CapabilityBrokerGrpc.newStub(channel).watch(WatchRequest.newBuilder().setNamePrefix("core.").build(),
                new StreamObserver<>() {
                    public void onNext(WatchEvent e) { events.add(e); }
                    public void onError(Throwable t) { }
                    public void onCompleted() { }
                });
        Thread.sleep(200); // let the stream open
        register("r1", 7001, offer("core.echo", "1.0.0", Tier.TIER_LOADED), offer("ml.onnx", "1.0.0", Tier.TIER_LOADED));
        List<WatchEvent> first = List.of(next(events), next(events));
        assertThat(first).anySatisfy(e -> assertThat(e.getRuntimeHealth().getState()).isEqualTo(ServingState.SERVING));
        assertThat(first).anySatisfy(e -> assertThat(e.getCapabilityAdded().getName()).isEqualTo("core.echo"));

        broker.heartbeat(HeartbeatRequest.newBuilder().setRuntimeId("r1").setState(ServingState.SERVING)
                .addOffers(offer("core.echo", "1.0.0", Tier.TIER_LOADED))
                .addOffers(offer("ml.onnx", "1.0.0", Tier.TIER_LOADED)).build());
        assertThat(events.poll(300, TimeUnit.MILLISECONDS)).as("a heartbeat that changes nothing").isNull();

        broker.deregister(DeregisterRequest.newBuilder().setRuntimeId("r1").build());
        List<WatchEvent> last = List.of(next(events), next(events));
        assertThat(last).anySatisfy(e -> assertThat(e.getCapabilityRemoved().getName()).isEqualTo("core.echo"));
        assertThat(last).anySatisfy(e -> assertThat(e.getRuntimeHealth().getState())
                .isEqualTo(ServingState.NOT_SERVING));
        assertThat(events.poll(300, TimeUnit.MILLISECONDS)).as("ml.onnx is outside the prefix").isNull();
    }

    private static WatchEvent next(LinkedBlockingQueue<WatchEvent> events) throws InterruptedException {
        WatchEvent event = events.poll(5, TimeUnit.SECONDS);
        assertThat(event).as("an event").isNotNull();
        return event;
    }

    private Map<String, Integer> placements(int accounts) {
        Map<String, Integer> placement = new HashMap<>();
        for (int i = 0; i < accounts; i++) {
            AcquireResponse response = broker.acquire(acquire("account-" + i, "core.echo", ""));
            placement.put("account-" + i, response.getAcquired(0).getEndpoint().getPort());
            broker.release(ReleaseRequest.newBuilder().setLeaseId(response.getLeaseId()).setAccount("account-" + i)
                    .build());
        }
        return placement;
    }

    private void register(String id, int port, CapabilityOffer... offers) {
        broker.register(RegisterRequest.newBuilder().setRuntimeId(id).setRuntimeTier("core")
                .setEndpoint(Endpoint.newBuilder().setHost("127.0.0.1").setPort(port))
                .addAllOffers(List.of(offers)).build());
    }

    private static CapabilityOffer offer(String name, String version, Tier tier) {
        return CapabilityOffer.newBuilder().setCapability(Capability.newBuilder().setName(name).setVersion(version)
                .addMethods("call")).setTier(tier).setExtensionId(name.replace('.', '-')).build();
    }

    private static AcquireRequest acquire(String account, String capability, String range) {
        return AcquireRequest.newBuilder().setAccount(account).setTimeoutMillis(5_000)
                .addRequired(CapabilityRequest.newBuilder().setName(capability).setVersionRange(range)).build();
    }

    private static void expect(ThrowingCallable call, Status.Code code, String... message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
