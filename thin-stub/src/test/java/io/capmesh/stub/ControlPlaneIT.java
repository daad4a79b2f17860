package io.capmesh.stub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.proto.client.BrokerChannels;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.Capability;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityBrokerGrpc.CapabilityBrokerBlockingStub;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.DeregisterRequest;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ListCapabilitiesResponse;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.proto.v1.WatchEvent;
import io.capmesh.proto.v1.WatchRequest;
import io.capmesh.testsupport.Await;
import io.capmesh.testsupport.BackgroundLoad;
import io.capmesh.testsupport.LocalContainers;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * Three broker processes sharing one PostgreSQL, and three core runtimes each registering through a different
 * broker (then failing over along their list): every broker answers as one, and a broker killed under load costs
 * its clients nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControlPlaneIT {

    private static final Path BROKER = Path.of(System.getProperty("capmesh.broker.jar"));
    private static final Path RUNTIME = Path.of(System.getProperty("capmesh.runtime.jar"));
    private static final Duration HEARTBEAT = Duration.ofMillis(1000);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // the services' logs stay when a test fails
    static Path dir;
    static PostgreSQLContainer postgres;
    static final List<ServiceProcess> brokers = new ArrayList<>();
    static final List<ServiceProcess> runtimes = new ArrayList<>();

    @BeforeAll
    static void startControlPlane() throws Exception {
        postgres = LocalContainers.postgres();
        postgres.start();
        int[] ports = {ServiceProcess.freePort(), ServiceProcess.freePort(), ServiceProcess.freePort()};
        brokers.addAll(ServiceProcess.startTogether(List.of(() -> startBroker(0, ports[0]),
                () -> startBroker(1, ports[1]), () -> startBroker(2, ports[2]))));
        // runtime i registers through broker i, and fails over to the next ones in its list
        for (int i = 0; i < 3; i++) {
            int first = i;
            String list = List.of(0, 1, 2).stream().map(k -> "127.0.0.1:" + ports[(first + k) % 3])
                    .collect(Collectors.joining(","));
            runtimes.add(ServiceProcess.start(RUNTIME, dir.resolve("runtime-" + i + ".log"),
                    "--capmesh.runtime.data-dir=" + dir.resolve("runtime-" + i),
                    "--capmesh.runtime.broker.address=" + list,
                    "--capmesh.runtime.available=classpath*:nothing/*.jar"));
        }
        for (ServiceProcess broker : brokers) {
            Await.until("three serving runtimes on every broker", Duration.ofSeconds(30),
                    () -> serving(stub(broker)) == 3);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (ServiceProcess service : runtimes) {
            service.close();
        }
        for (ServiceProcess service : brokers) {
            service.close();
        }
        if (postgres != null) {
            postgres.stop();
        }
    }

    @Test
    @Order(1)
    void everyBrokerListsAndRoutesAlike() {
        ListCapabilitiesResponse list = stub(brokers.get(0)).list(ListCapabilitiesRequest.getDefaultInstance());
        assertThat(list.getCapabilitiesList()).filteredOn(c -> c.getName().equals("core.json")).singleElement()
                .satisfies(json -> assertThat(json.getReplicasCount()).isEqualTo(3));
        for (ServiceProcess broker : brokers) {
            assertThat(stub(broker).list(ListCapabilitiesRequest.getDefaultInstance())).isEqualTo(list);
        }

        // routing alone (each lease released before the next broker is asked): the same runtime from every broker
        List<Integer> perRuntime = new ArrayList<>(List.of(0, 0, 0));
        for (int account = 0; account < 300; account++) {
            List<Endpoint> answers = new ArrayList<>();
            List<Long> revisions = new ArrayList<>();
            for (ServiceProcess broker : brokers) {
                AcquireResponse lease = stub(broker).acquire(acquire("account-" + account));
                answers.add(lease.getAcquired(0).getEndpoint());
                revisions.add(lease.getRegistryRevision());
                stub(broker).release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId())
                        .setAccount("account-" + account).build());
            }
            assertThat(answers).as("account-" + account).containsOnly(answers.get(0));
            assertThat(revisions).containsOnly(revisions.get(0));
            perRuntime.set(indexOf(answers.get(0)), perRuntime.get(indexOf(answers.get(0))) + 1);
        }
        assertThat(perRuntime).allSatisfy(count -> assertThat(count).isBetween(60, 140));
    }

    @Test
    @Order(2)
    void aRuntimeRegisteredThroughOneBrokerShowsInWatchOnAnotherWithinAHeartbeat() throws Exception {
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        CapabilityBrokerGrpc.newStub(brokers.get(1).channel()).watch(WatchRequest.newBuilder()
                .setNamePrefix("test.").build(), new StreamObserver<>() {
                    @Override
                    public void onNext(WatchEvent event) {
                        events.add(event);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        Thread.sleep(200); // the stream is open at the broker
        long registered = System.nanoTime();
        stub(brokers.get(0)).register(RegisterRequest.newBuilder().setRuntimeId("watched")
                .setRuntimeTier("test").setEndpoint(Endpoint.newBuilder().setHost("127.0.0.1").setPort(1))
                .addOffers(CapabilityOffer.newBuilder().setTier(Tier.TIER_LOADED).setCapability(
                        Capability.newBuilder().setName("test.watched").setVersion("1.0.0").addMethods("m")))
                .build());
        WatchEvent added = next(events, WatchEvent.ChangeCase.CAPABILITY_ADDED);
        assertThat(added).as("within one heartbeat").isNotNull();
        assertThat(added.getCapabilityAdded().getName()).isEqualTo("test.watched");
        System.out.printf("registered through broker 0, seen in broker 1's Watch after %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - registered));
        stub(brokers.get(2)).deregister(DeregisterRequest.newBuilder().setRuntimeId("watched").build());
        WatchEvent removed = next(events, WatchEvent.ChangeCase.CAPABILITY_REMOVED);
        assertThat(removed).as("within one heartbeat").isNotNull();
        assertThat(removed.getCapabilityRemoved().getName()).isEqualTo("test.watched");
    }

    /** The next event of one kind within a heartbeat interval (runtime health events come to every watcher). */
    private static WatchEvent next(LinkedBlockingQueue<WatchEvent> events, WatchEvent.ChangeCase kind)
            throws InterruptedException {
        long deadline = System.nanoTime() + HEARTBEAT.toNanos();
        while (true) {
            WatchEvent event = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (event == null || event.getChangeCase() == kind) {
                return event;
            }
        }
    }

    @Test
    @Order(3)
    void aBrokerKilledUnderAcquireRenewAndCallLoadCostsNoCall() throws Exception {
        String all = brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
        ManagedChannel renewals = BrokerChannels.builder(all, InsecureChannelCredentials.create(),
                BrokerChannels.Balancing.ROUND_ROBIN).build();
        List<CapabilityClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                clients.add(CapabilityClient.builder().broker(all).account("load-" + i).build());
            }
            AtomicInteger next = new AtomicInteger();
            BackgroundLoad load = BackgroundLoad.start(4, () -> {
                CapabilityClient client = clients.get(next.getAndIncrement() % clients.size());
                try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
                    assertThat(new String(caps.get("core.echo").invoke("echo", "hi".getBytes(UTF_8)), UTF_8))
                            .isEqualTo("hi");
                    CapabilityBrokerGrpc.newBlockingStub(renewals).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .renew(RenewRequest.newBuilder().setLeaseId(caps.lease().id())
                                    .setAccount(client.account()).build());
                }
            });
            Thread.sleep(1_500);
            int beforeKill = load.calls();
            brokers.get(1).kill();
            Thread.sleep(3_000);
            load.close();

            assertThat(load.failures()).as("failed rounds").isEmpty();
            assertThat(load.calls() - beforeKill).as("rounds after the kill").isGreaterThan(20);
        } finally {
            clients.forEach(CapabilityClient::close);
            renewals.shutdownNow();
        }
        // the runtime that registered through the killed broker moved on to the next in its list
        Await.until("every runtime heard by a surviving broker", Duration.ofSeconds(10),
                () -> serving(stub(brokers.get(0))) == 3 && serving(stub(brokers.get(2))) == 3);
    }

    @Test
    @Order(4)
    void aBrokerStartedLaterAnswersItsFirstAcquireCorrectly() throws Exception {
        try (ServiceProcess late = startBroker(3, ServiceProcess.freePort())) {
            for (int account = 0; account < 20; account++) {
                AcquireResponse fromLate = stub(late).acquire(acquire("late-" + account));
                stub(late).release(ReleaseRequest.newBuilder().setLeaseId(fromLate.getLeaseId())
                        .setAccount("late-" + account).build());
                AcquireResponse fromFirst = stub(brokers.get(0)).acquire(acquire("late-" + account));
                assertThat(fromLate.getAcquired(0).getEndpoint()).isEqualTo(fromFirst.getAcquired(0).getEndpoint());
                stub(brokers.get(0)).release(ReleaseRequest.newBuilder().setLeaseId(fromFirst.getLeaseId())
                        .setAccount("late-" + account).build());
            }
        }
    }

    @Test
    @Order(5)
    void aReplicaAtTheBoundTakesNoNewAccountAndOnlyTheAccountsThatMustMoveDo() {
        List<ServiceProcess> live = List.of(brokers.get(0), brokers.get(2)); // broker 1 was killed
        int accounts = 1000;
        // where rendezvous alone puts each account: acquired and released, so no load is held meanwhile
        int[] preferred = new int[accounts];
        for (int account = 0; account < accounts; account++) {
            CapabilityBrokerBlockingStub broker = stub(live.get(account % 2));
            AcquireResponse lease = broker.acquire(acquire("bounded-" + account, "core.compress"));
            preferred[account] = indexOf(lease.getAcquired(0).getEndpoint());
            broker.release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId())
                    .setAccount("bounded-" + account).build());
        }
        // one account that prefers runtime 0 holds 150 leases there (an account stays where it is placed): runtime
        // 0 starts far past the bound, and the accounts that prefer it must go elsewhere until the others catch up
        long[] held = new long[3];
        String heavy = "bounded-" + java.util.stream.IntStream.range(0, accounts).filter(a -> preferred[a] == 0)
                .findFirst().orElseThrow();
        for (int i = 0; i < 150; i++) {
            AcquireResponse lease = stub(live.get(i % 2)).acquire(acquire(heavy, "core.compress"));
            assertThat(indexOf(lease.getAcquired(0).getEndpoint())).isZero();
            held[0]++;
        }
        int moved = 0;
        for (int account = 0; account < accounts; account++) {
            if (heavy.equals("bounded-" + account)) {
                continue;
            }
            long total = held[0] + held[1] + held[2];
            long bound = (long) Math.ceil(1.25 * (total + 1) / 3);
            AcquireResponse lease = stub(live.get(account % 2))
                    .acquire(acquire("bounded-" + account, "core.compress"));
            int chosen = indexOf(lease.getAcquired(0).getEndpoint());
            assertThat(held[chosen]).as("bounded-%d placed on runtime %d at the bound %d", account, chosen, bound)
                    .isLessThan(bound);
            if (chosen != preferred[account]) {
                assertThat(held[preferred[account]]).as("bounded-%d moved off runtime %d below the bound %d",
                        account, preferred[account], bound).isGreaterThanOrEqualTo(bound);
                moved++;
            }
            held[chosen]++;
        }
        System.out.printf("bounded load: leases per runtime %s, %d of %d accounts moved off their first choice%n",
                java.util.Arrays.toString(held), moved, accounts - 1);
        assertThat(moved).isGreaterThan(0);
    }

    private static ServiceProcess startBroker(int index, int port) throws Exception {
        return ServiceProcess.start(BROKER, dir.resolve("broker-" + index + ".log"), port,
                "--capmesh.broker.store.url=" + postgres.getJdbcUrl(),
                "--capmesh.broker.store.username=" + postgres.getUsername(),
                "--capmesh.broker.store.password=" + postgres.getPassword(),
                "--capmesh.broker.heartbeat-interval=" + HEARTBEAT.toMillis() + "ms",
                "--capmesh.broker.unhealthy-after=3s",
                "--capmesh.broker.lease-ttl=10m"); // the bounded-load test's leases outlive its thousands of calls
    }

    private static CapabilityBrokerBlockingStub stub(ServiceProcess broker) {
        return CapabilityBrokerGrpc.newBlockingStub(broker.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static long serving(CapabilityBrokerBlockingStub broker) {
        return broker.health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                .filter(r -> r.getState() == ServingState.SERVING).count();
    }

    private static AcquireRequest acquire(String account) {
        return acquire(account, "core.json");
    }

    private static AcquireRequest acquire(String account, String capability) {
        return AcquireRequest.newBuilder().setAccount(account).setTimeoutMillis(10_000)
                .addRequired(CapabilityRequest.newBuilder().setName(capability)).build();
    }

    private static int indexOf(Endpoint endpoint) {
        for (int i = 0; i < runtimes.size(); i++) {
            if (runtimes.get(i).port() == endpoint.getPort()) {
                return i;
            }
        }
        throw new AssertionError("no runtime at " + endpoint);
    }
}
