package io.capmesh.bench;

import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.Capability;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityBrokerGrpc.CapabilityBrokerBlockingStub;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.DeregisterRequest;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.Tier;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * Several brokers as one control plane: three broker replicas sharing a PostgreSQL (the machine's own server, a
 * throwaway cluster) and a core runtime registered through them, against the run's single embedded broker (SQLite).
 * Warm acquires through one replica and through the embedded broker are measured in turns; then how long a runtime
 * registered through one replica takes to be acquirable through every other.
 */
final class ControlPlane implements AutoCloseable {

    private static final Duration HEARTBEAT = Duration.ofSeconds(2); // the broker's default
    private static final String ACCOUNT = "bench";

    private final Mode mode;
    private final Path dir;
    private final Report report;
    private final Targets targets;
    private final List<AutoCloseable> started = new ArrayList<>();

    ControlPlane(Mode mode, Path dir, Report report, Targets targets) {
        this.mode = mode;
        this.dir = dir;
        this.report = report;
        this.targets = targets;
    }

    /** @param embedded a client of the run's single embedded broker, with core.echo registered there */
    String run(CapabilityClient embedded, Path brokerJar, Path coreJar) throws Exception {
        LocalPostgres postgres = LocalPostgres.start(dir.resolve("postgres"));
        started.add(postgres);
        List<ServiceProcess> brokers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            brokers.add(ServiceProcess.start(brokerJar, dir.resolve("broker-" + i + ".log"),
                    "--capmesh.broker.store.url=" + postgres.jdbcUrl(),
                    "--capmesh.broker.store.username=" + postgres.user(),
                    "--capmesh.broker.heartbeat-interval=" + HEARTBEAT.toMillis() + "ms"));
            started.add(brokers.get(i));
        }
        String all = brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
        started.add(ServiceProcess.start(coreJar, dir.resolve("core.log"),
                "--capmesh.runtime.data-dir=" + dir.resolve("core"), "--capmesh.runtime.broker.address=" + all));
        try (CapabilityClient replica = CapabilityClient.builder().broker("127.0.0.1:" + brokers.get(0).port())
                .account(ACCOUNT).build()) {
            Histogram single = Lifecycle.histogram();
            Histogram shared = Lifecycle.histogram();
            int perTurn = Math.max(1, mode.acquireRuns() / mode.turns());
            // the replicas have just started: as many acquires untimed as are timed, on every replica, so that
            // they compile their path (and the PostgreSQL driver's) as the embedded broker long has
            warmUp(embedded, mode.acquireRuns());
            for (ServiceProcess broker : brokers) {
                try (CapabilityClient warming = CapabilityClient.builder().broker("127.0.0.1:" + broker.port())
                        .account(ACCOUNT).build()) {
                    warmUp(warming, mode.acquireRuns());
                }
            }
            for (int turn = 0; turn < mode.turns(); turn++) {
                acquire(embedded, perTurn, single);
                acquire(replica, perTurn, shared);
            }
            Histogram visible = registrations(brokers);

            Table table = new Table("Control plane",
                    "Warm acquires of core.echo (CapabilityClient.acquire, the lease released after each, untimed), "
                            + "after as many untimed on each broker, in turns of " + perTurn + ": through the run's single embedded broker (SQLite), and "
                            + "through one of three broker replicas sharing a PostgreSQL on loopback. Then a "
                            + "runtime registered through one replica, until an Acquire of its capability answers "
                            + "on each of the other two (polled every millisecond; heartbeat interval "
                            + HEARTBEAT.toMillis() + " ms, registry poll interval the default).",
                    "what", "runs", "p50 ms", "p99 ms", "max ms", "p50 ratio");
            table.row("acquire, single embedded broker", single.getTotalCount(), ms(single, 50), ms(single, 99),
                    Table.millis(single.getMaxValue() / 1e6), "1.00x");
            table.row("acquire, 1 of 3 replicas on PostgreSQL", shared.getTotalCount(), ms(shared, 50),
                    ms(shared, 99), Table.millis(shared.getMaxValue() / 1e6),
                    Table.ratio(shared.getValueAtPercentile(50), single.getValueAtPercentile(50)));
            table.row("registered to acquirable on every replica", visible.getTotalCount(), ms(visible, 50),
                    ms(visible, 99), Table.millis(visible.getMaxValue() / 1e6), "-");
            report.add(table);

            double ratio = (double) shared.getValueAtPercentile(50) / single.getValueAtPercentile(50);
            targets.measured(Targets.Goal.ACQUIRE_REPLICAS, String.format("%.2fx (%s / %s ms p50)", ratio,
                    ms(shared, 50), ms(single, 50)), ratio <= 2.0);
            long bound = HEARTBEAT.plusMillis(100).toNanos();
            targets.measured(Targets.Goal.REGISTRATION, String.format("%s ms p50, %s ms max (bound %d ms)",
                    ms(visible, 50), Table.millis(visible.getMaxValue() / 1e6), bound / 1_000_000),
                    visible.getMaxValue() <= bound);
            return String.format("acquire p50 %.2fx the embedded broker; registered to acquirable everywhere "
                    + "%s ms p50", ratio, ms(visible, 50));
        }
    }

    private static void warmUp(CapabilityClient client, int count) {
        acquire(client, count, Lifecycle.histogram());
    }

    private static void acquire(CapabilityClient client, int count, Histogram into) {
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            var caps = client.acquire(Acquire.require("core.echo"));
            into.recordValue(System.nanoTime() - start);
            caps.close();
        }
    }

    /** Registers runtimes through the first replica and times each until the others both hand it out. */
    private Histogram registrations(List<ServiceProcess> brokers) throws InterruptedException {
        Histogram visible = Lifecycle.histogram();
        List<CapabilityBrokerBlockingStub> stubs = brokers.stream()
                .map(b -> CapabilityBrokerGrpc.newBlockingStub(b.channel())).toList();
        int runs = Math.max(3, mode.coldAcquires() * 2);
        for (int i = 0; i < runs; i++) {
            String capability = "bench.registered-" + i;
            String runtime = "bench-registered-" + i;
            long start = System.nanoTime();
            stubs.get(0).withDeadlineAfter(5, TimeUnit.SECONDS).register(RegisterRequest.newBuilder()
                    .setRuntimeId(runtime).setRuntimeTier("bench")
                    .setEndpoint(Endpoint.newBuilder().setHost("127.0.0.1").setPort(1))
                    .addOffers(CapabilityOffer.newBuilder().setTier(Tier.TIER_LOADED).setCapability(
                            Capability.newBuilder().setName(capability).setVersion("1.0.0").addMethods("m")))
                    .build());
            for (CapabilityBrokerBlockingStub other : stubs.subList(1, stubs.size())) {
                awaitAcquirable(other, capability);
            }
            visible.recordValue(System.nanoTime() - start);
            stubs.get(0).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .deregister(DeregisterRequest.newBuilder().setRuntimeId(runtime).build());
        }
        return visible;
    }

    private static void awaitAcquirable(CapabilityBrokerBlockingStub broker, String capability)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        AcquireRequest request = AcquireRequest.newBuilder().setAccount(ACCOUNT).setTimeoutMillis(1_000)
                .addRequired(CapabilityRequest.newBuilder().setName(capability)).build();
        while (System.nanoTime() < deadline) {
            try {
                AcquireResponse lease = broker.withDeadlineAfter(5, TimeUnit.SECONDS).acquire(request);
                broker.release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId()).setAccount(ACCOUNT)
                        .build());
                return;
            } catch (StatusRuntimeException notYet) {
                Thread.sleep(1);
            }
        }
        throw new IllegalStateException(capability + " never became acquirable through every replica");
    }

    private static String ms(Histogram histogram, double percentile) {
        return Table.millis(histogram.getValueAtPercentile(percentile) / 1e6);
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                failure = failure != null ? failure : e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
