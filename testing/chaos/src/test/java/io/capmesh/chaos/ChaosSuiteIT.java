package io.capmesh.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.ChildProcess;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployRequest;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
import io.capmesh.testsupport.Await;
import io.capmesh.testsupport.BackgroundLoad;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos suite in its short, bounded mode: one mesh of real processes on loopback (a broker whose leases live in
 * SQLite and two core runtimes), and one scenario per test, in order, each under a few seconds of load from a
 * thin stub. A call counts as acknowledged when it answered OK; acknowledged work is lost when such an answer is
 * not the one asked for, or when a lease the broker granted is gone after the broker comes back. None may be.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChaosSuiteIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.mesh.jars"));
    private static final Path BROKER_JAR = JARS.resolve("capmesh-broker-service.jar");
    private static final Path RUNTIME_JAR = JARS.resolve("capmesh-core-runtime-service.jar");
    private static final Path HUNG_JAR = JARS.resolve("capmesh-ext-misbehaving-never-returns.jar");
    private static final Path HOG_JAR = JARS.resolve("capmesh-ext-misbehaving-isolated-memory-hog.jar");
    private static final Duration LOAD = Duration.ofSeconds(3);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // the services' logs stay when a scenario fails
    static Path dir;
    static int brokerPort;
    static ServiceProcess broker;
    static final ServiceProcess[] runtimes = new ServiceProcess[2];
    static CapabilityClient client;
    static final List<Row> summary = new ArrayList<>();

    record Row(String scenario, int calls, int failed, int acknowledgedLost, Duration recovery, String verdict) {
    }

    @BeforeAll
    static void startMesh() throws Exception {
        brokerPort = ServiceProcess.freePort();
        List<ServiceProcess> mesh = ServiceProcess.startTogether(List.of(ChaosSuiteIT::startBroker,
                () -> startRuntime(0, ServiceProcess.freePort()), () -> startRuntime(1, ServiceProcess.freePort())));
        broker = mesh.get(0);
        runtimes[0] = mesh.get(1);
        runtimes[1] = mesh.get(2);
        awaitServingRuntimes(Duration.ofSeconds(30));
        client = CapabilityClient.builder().broker("127.0.0.1:" + brokerPort).account("acme").build();
    }

    @AfterAll
    static void stopMesh() throws Exception {
        printSummary();
        if (client != null) {
            client.close();
        }
        for (ServiceProcess runtime : runtimes) {
            if (runtime != null) {
                runtime.kill(); // one of them holds a hung thread that a graceful stop would wait on
            }
        }
        if (broker != null) {
            broker.close();
        }
        assertThat(summary).allSatisfy(row -> assertThat(row.acknowledgedLost()).as(row.scenario()).isZero());
    }

    @Test
    @Order(1)
    void sigkillTheRuntimeInUseUnderLoad() throws Exception {
        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            CapabilityHandle echo = caps.get("core.echo");
            assertThat(echo.replicas()).hasSize(2);
            int victim = indexOf(echo.replicas().get(0));

            Load load = Load.start(4, echo);
            Thread.sleep(1_000);
            long killedAt = System.nanoTime();
            runtimes[victim].kill();
            Thread.sleep(LOAD.toMillis() - 1_000);
            load.stop();
            awaitRuntimeCount(1, Duration.ofSeconds(15)); // the broker sees it gone before it comes back
            runtimes[victim] = startRuntime(victim, runtimes[victim].port());
            awaitServingRuntimes(Duration.ofSeconds(30));
            Duration recovery = Duration.ofNanos(System.nanoTime() - killedAt);
            // the restarted runtime answers at its old address, and a new lease lists both replicas again
            assertThat(text(direct(runtimes[victim], "core.echo", "echo", "back"))).isEqualTo("back");
            try (Capabilities again = client.acquire(Acquire.require("core.echo"))) {
                assertThat(again.get("core.echo").replicas()).hasSize(2);
            }

            assertThat(load.failures).as(load.failureSummary()).isEmpty();
            assertThat(load.okAfterEvent(killedAt)).isGreaterThan(20);
            record("1 SIGKILL runtime in use", load, recovery,
                    "failover, 0 failed; re-registered on port " + runtimes[victim].port());
        }
    }

    @Test
    @Order(2)
    void sigkillTheBrokerUnderLoad() throws Exception {
        Capabilities caps = client.acquire(Acquire.require("core.echo"));
        CapabilityHandle echo = caps.get("core.echo");
        String leaseId = caps.lease().id();

        Load load = Load.start(4, echo);
        Thread.sleep(1_000);
        long killedAt = System.nanoTime();
        broker.kill();
        Thread.sleep(1_500); // calls on the held lease while no broker runs
        int okWhileDown = load.ok.get();
        broker = startBroker();
        Duration brokerUp = Duration.ofNanos(System.nanoTime() - killedAt);
        // the same lease, from the same store: renewed, not re-granted
        var brokerStub = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
        var renewed = brokerStub.withDeadlineAfter(5, TimeUnit.SECONDS).renew(RenewRequest.newBuilder()
                .setLeaseId(leaseId).setAccount("acme").build());
        assertThat(renewed.hasExpiresAt()).isTrue();
        Duration leaseRenewed = Duration.ofNanos(System.nanoTime() - killedAt);
        awaitServingRuntimes(Duration.ofSeconds(45)); // serving again once their heartbeats reach the new broker
        Duration reRegistered = Duration.ofNanos(System.nanoTime() - killedAt);
        try (Capabilities fresh = client.acquire(Acquire.require("core.echo"))) {
            assertThat(text(fresh.get("core.echo").invoke("echo", "new lease".getBytes(UTF_8))))
                    .isEqualTo("new lease");
        }
        Duration recovery = Duration.ofNanos(System.nanoTime() - killedAt);
        load.stop();
        int lostLeases = caps.lease().id().equals(leaseId) ? 0 : 1;

        assertThat(load.failures).as(load.failureSummary()).isEmpty();
        assertThat(okWhileDown).isGreaterThan(10);
        assertThat(lostLeases).as("the held lease survived the broker's restart").isZero();
        caps.close();
        record("2 SIGKILL broker", load, lostLeases, recovery,
                "held lease served throughout; broker up at " + brokerUp.toMillis() + " ms, same lease renewed at "
                        + leaseRenewed.toMillis() + " ms, runtimes serving there again at " + reRegistered.toMillis()
                        + " ms, then new acquire ok");
    }

    @Test
    @Order(3)
    void aSlowExtensionCallPastItsCallersDeadline() throws Exception {
        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            CapabilityHandle echo = caps.get("core.echo");
            ServiceProcess runtime = runtimes[indexOf(echo.replicas().get(0))];
            Load load = Load.start(2, echo);
            AtomicInteger deadlines = new AtomicInteger();
            AtomicInteger slowCalls = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            long end = System.nanoTime() + LOAD.toNanos();
            ExecutorService slow = Executors.newFixedThreadPool(2);
            List<Future<?>> callers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                callers.add(slow.submit(() -> {
                    while (System.nanoTime() < end) {
                        slowCalls.incrementAndGet();
                        try {
                            // core.echo's hold sleeps for the milliseconds it is given: far past the deadline
                            RuntimeServiceGrpc.newBlockingStub(runtime.channel())
                                    .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                                    .invoke(request("core.echo", "hold", "5000"));
                            unexpected.add(new AssertionError("hold 5000 answered within 300 ms"));
                        } catch (StatusRuntimeException e) {
                            if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
                                deadlines.incrementAndGet();
                            } else {
                                unexpected.add(e);
                            }
                        }
                    }
                }));
            }
            for (Future<?> caller : callers) {
                caller.get();
            }
            slow.shutdown();
            long slowEnded = System.nanoTime();
            Duration recovery = untilHealthyAndServing(runtime, slowEnded);
            load.stop();

            assertThat(unexpected).isEmpty();
            assertThat(deadlines.get()).isEqualTo(slowCalls.get()).isGreaterThan(2);
            assertThat(load.failures).as(load.failureSummary()).isEmpty();
            assertThat(load.ok.get()).isGreaterThan(20);
            summary.add(new Row("3 slow extension", load.calls() + slowCalls.get(), load.failures.size(),
                    load.lost.get(), recovery, deadlines.get() + " DEADLINE_EXCEEDED as expected; "
                    + load.ok.get() + " other calls served meanwhile"));
        }
    }

    @Test
    @Order(4)
    void aHungExtensionThatIgnoresInterrupts() throws Exception {
        ServiceProcess runtime = runtimes[1];
        var stub = RuntimeServiceGrpc.newBlockingStub(runtime.channel());
        DeployResponse deployed = deploy(runtime, HUNG_JAR);
        assertThat(deployed.getExtension().getManifest().getId()).isEqualTo("never-returns");
        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            Load load = Load.start(2, caps.get("core.echo"));
            int hung = 0;
            for (int i = 0; i < 2; i++) {
                hung++;
                StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
                        StatusRuntimeException.class, () -> stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                                .invoke(request("test.never-returns", "hang", "hang")));
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            }
            assertThat(text(stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                    .invoke(request("test.never-returns", "ok", "ok")))).isEqualTo("ok");

            long unloadAt = System.nanoTime();
            UnloadResponse unloaded = stub.withDeadlineAfter(30, TimeUnit.SECONDS).unload(UnloadRequest.newBuilder()
                    .setExtensionId("never-returns").setDrainTimeoutMillis(200).build());
            Duration recovery = untilHealthyAndServing(runtime, unloadAt);
            Thread.sleep(500); // some load after the unload too
            load.stop();

            assertThat(unloaded.getReclamation().getState()).as(unloaded.toString())
                    .isEqualTo(Reclamation.State.LEAKED);
            String causes = String.join("\n", unloaded.getReclamation().getCausesList());
            assertThat(causes).containsPattern("thread '[^']+' is still running a call into the extension");
            assertThat(stub.listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .extracting(e -> e.getManifest().getId()).doesNotContain("never-returns").contains("core-echo");
            assertThat(load.failures).as(load.failureSummary()).isEmpty();
            String thread = causes.replaceAll("(?s).*?(thread '[^']+').*", "$1");
            summary.add(new Row("4 hung extension", load.calls() + hung + 1, load.failures.size(), load.lost.get(),
                    recovery, "unload LEAKED, names " + thread + "; runtime kept serving"));
        }
    }

    @Test
    @Order(5)
    void aCorruptedStoreFile() throws Exception {
        int victim = 0;
        int port = runtimes[victim].port();
        Path data = dataDir(victim);
        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            Load load = Load.start(2, caps.get("core.echo"));
            Thread.sleep(500);
            long stoppedAt = System.nanoTime();
            runtimes[victim].close();
            runtimes[victim] = null;
            Path store = data.resolve("extensions.db");
            assertThat(store).exists();
            byte[] garbage = new byte[64 * 1024];
            new Random(7).nextBytes(garbage);
            Files.write(store, garbage);
            List<String> sidecars;
            try (Stream<Path> files = Files.list(data)) {
                sidecars = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("extensions.db-"))
                        .toList();
            }

            Path log = dir.resolve("runtime-" + victim + "-corrupted.log");
            String refusal = null;
            try {
                runtimes[victim] = ServiceProcess.start(RUNTIME_JAR, log, port, runtimeArgs(victim));
            } catch (IllegalStateException exited) {
                refusal = Files.readAllLines(log).stream()
                        .filter(l -> l.startsWith("Caused by: java.lang.IllegalStateException: cannot open the"
                                + " extension store"))
                        .findFirst().orElse(null);
                System.out.printf("corrupted store: %s; cause in its log: %s%n", exited.getMessage(), refusal);
            }
            System.out.printf("corrupted store: sidecar files at the time %s%n", sidecars);
            // What it does today: it refuses to start, and its log says which file and why.
            assertThat(runtimes[victim]).as("the runtime started on a corrupted store; see " + log).isNull();
            assertThat(refusal).as("a clear reason in " + log).isNotNull()
                    .contains(store.toString()).contains("SQLITE_NOTADB");

            // the operator's way back: move the bad file aside; the runtime restores from its bundled jars
            Files.move(store, data.resolve("extensions.db.corrupt"));
            runtimes[victim] = ServiceProcess.start(RUNTIME_JAR, dir.resolve("runtime-" + victim + "-again.log"), port,
                    runtimeArgs(victim));
            List<String> ids = RuntimeServiceGrpc.newBlockingStub(runtimes[victim].channel())
                    .listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList().stream()
                    .map(e -> e.getManifest().getId()).sorted().toList();
            assertThat(ids).contains("core-echo", "core-json");
            assertThat(text(direct(runtimes[victim], "core.echo", "echo", "restored"))).isEqualTo("restored");
            awaitServingRuntimes(Duration.ofSeconds(30));
            Duration recovery = Duration.ofNanos(System.nanoTime() - stoppedAt);
            load.stop();

            assertThat(load.failures).as(load.failureSummary()).isEmpty();
            summary.add(new Row("5 corrupted store", load.calls(), load.failures.size(), load.lost.get(), recovery,
                    "refuses to start (exit != 0): '" + trim(refusal.replaceFirst(".*?: cannot", "cannot")
                            .replace(store.toString(), "<data-dir>/extensions.db"))
                    + "'; with the file moved aside it restores bundled " + ids + "; other replica served meanwhile"));
        }
    }

    @Test
    @Order(6)
    void anIsolatedExtensionThatExhaustsItsMemory() throws Exception {
        ServiceProcess runtime = runtimes[1];
        var stub = RuntimeServiceGrpc.newBlockingStub(runtime.channel());
        ChildProcess first = deploy(runtime, HOG_JAR).getExtension().getChildProcess();
        assertThat(first.getState()).isEqualTo(ChildProcess.State.SERVING);
        assertThat(first.getMaxHeap()).isEqualTo("64m"); // the extension's own setting, from the runtime's arguments
        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            Load load = Load.start(2, caps.get("core.echo"));
            Thread.sleep(500);
            long hogAt = System.nanoTime();
            StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                            .invoke(request("test.isolated-memory-hog", "hog", "")));
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("isolated-memory-hog@1.0.0",
                    "ran out of memory (-Xmx64m)");
            Await.until("a new child JVM answering for the extension", Duration.ofSeconds(60), () -> {
                try {
                    return text(direct(runtime, "test.isolated-memory-hog", "ok", "back")).equals("back");
                } catch (StatusRuntimeException restarting) {
                    return false;
                }
            });
            Duration recovery = Duration.ofNanos(System.nanoTime() - hogAt);
            Thread.sleep(500); // some load after the restart too
            load.stop();

            ChildProcess restarted = stub.listExtensions(ListExtensionsRequest.getDefaultInstance())
                    .getExtensionsList().stream().filter(x -> x.getManifest().getId().equals("isolated-memory-hog"))
                    .findFirst().orElseThrow().getChildProcess();
            assertThat(restarted.getPid()).isNotEqualTo(first.getPid());
            assertThat(restarted.getRestarts()).isEqualTo(1);
            assertThat(restarted.getLastExit()).startsWith("ran out of memory (-Xmx64m) and exited with code 3");
            assertThat(load.failures).as(load.failureSummary()).isEmpty();
            stub.withDeadlineAfter(30, TimeUnit.SECONDS).unload(UnloadRequest.newBuilder()
                    .setExtensionId("isolated-memory-hog").build());
            summary.add(new Row("6 isolated extension OOM", load.calls() + 2, load.failures.size(),
                    load.lost.get(), recovery, "only its call UNAVAILABLE; child restarted; runtime kept serving"));
        }
    }

    // -- load ---------------------------------------------------------------------------------------------

    @Test
    @Order(7)
    void sigkillOneOfTwoBrokersUnderLoad() throws Exception {
        // a second replica on the same store; the stub knows both, the runtimes still heartbeat to the first
        ServiceProcess second = ServiceProcess.start(BROKER_JAR, dir.resolve("broker-second.log"), brokerArgs());
        Await.until("both runtimes serving at the second broker", Duration.ofSeconds(15), () -> {
            try {
                return CapabilityBrokerGrpc.newBlockingStub(second.channel()).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                        .filter(r -> r.getState() == ServingState.SERVING).count() == 2;
            } catch (StatusRuntimeException notYet) {
                return false;
            }
        });
        List<String> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (CapabilityClient both = CapabilityClient.builder()
                .broker("127.0.0.1:" + brokerPort + ",127.0.0.1:" + second.port()).account("acme").build()) {
            AtomicInteger n = new AtomicInteger();
            BackgroundLoad load = BackgroundLoad.start(4, () -> {
                int round = n.incrementAndGet();
                String payload = "round-" + round;
                Capabilities caps = both.acquire(Acquire.require("core.echo"));
                assertThat(text(caps.get("core.echo").invoke("echo", payload.getBytes(UTF_8)))).isEqualTo(payload);
                if (round % 5 == 0 && held.size() < 100) {
                    held.add(caps.lease().id()); // every fifth kept, before and after the kill: none may be lost
                } else {
                    caps.close();
                }
            });
            Thread.sleep(1_000);
            long killedAt = System.nanoTime();
            int beforeKill = load.calls();
            int heldBeforeKill = held.size();
            second.kill();
            Thread.sleep(2_000);
            load.close();
            int afterKill = load.calls() - beforeKill;

            // every lease acknowledged before or after the kill is still in the surviving replica's store
            var survivor = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
            int lost = 0;
            for (String lease : held) {
                try {
                    survivor.withDeadlineAfter(5, TimeUnit.SECONDS).renew(RenewRequest.newBuilder()
                            .setLeaseId(lease).setAccount("acme").build());
                } catch (StatusRuntimeException e) {
                    lost++;
                }
            }
            Duration recovery = Duration.ofNanos(System.nanoTime() - killedAt);
            summary.add(new Row("7 SIGKILL 1 of 2 brokers", load.calls() + load.failures().size(),
                    load.failures().size(), lost, recovery, "acquire + call + release rounds failed over to the"
                            + " other replica (" + afterKill + " after the kill); " + held.size()
                            + " leases held across the kill renewed by the survivor"));
            assertThat(load.failures()).as("failed rounds").isEmpty();
            assertThat(afterKill).isGreaterThan(10);
            assertThat(lost).isZero();
            assertThat(held.size()).as("leases held from rounds after the kill").isGreaterThan(heldBeforeKill);
        } finally {
            second.kill();
        }
    }

    /** Callers invoking core.echo through the stub in a loop, each payload unique so a wrong answer shows. */
    private static final class Load {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger lost = new AtomicInteger();
        final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Long> okStarts = new ConcurrentLinkedQueue<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Future<?>> workers = new ArrayList<>();
        ExecutorService pool;

        static Load start(int threads, CapabilityHandle echo) {
            Load load = new Load();
            load.pool = Executors.newFixedThreadPool(threads);
            for (int t = 0; t < threads; t++) {
                int caller = t;
                load.workers.add(load.pool.submit(() -> {
                    for (int n = 0; load.running.get(); n++) {
                        String payload = "caller-" + caller + "-call-" + n;
                        long started = System.nanoTime();
                        try {
                            String answer = text(echo.invoke("echo", payload.getBytes(UTF_8)));
                            if (answer.equals(payload)) {
                                load.ok.incrementAndGet();
                                load.okStarts.add(started);
                            } else {
                                load.lost.incrementAndGet(); // acknowledged, yet not what was asked for
                            }
                        } catch (Throwable e) {
                            load.failures.add(e);
                        }
                        try {
                            Thread.sleep(1); // paced, so restarting services get their share of two cores
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
            return load;
        }

        void stop() throws Exception {
            running.set(false);
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }

        int calls() {
            return ok.get() + lost.get() + failures.size();
        }

        long okAfterEvent(long at) {
            return okStarts.stream().filter(s -> s > at).count();
        }

        String failureSummary() {
            return failures.stream().limit(3).map(String::valueOf).toList().toString();
        }
    }

    private static void record(String scenario, Load load, Duration recovery, String verdict) {
        record(scenario, load, 0, recovery, verdict);
    }

    private static void record(String scenario, Load load, int extraLost, Duration recovery, String verdict) {
        summary.add(new Row(scenario, load.calls(), load.failures.size(), load.lost.get() + extraLost, recovery,
                verdict));
    }

    private static void printSummary() {
        StringBuilder table = new StringBuilder("\nchaos summary (short mode, loopback)\n");
        String format = "| %-26s | %6s | %6s | %12s | %10s | %s%n";
        table.append(String.format(format, "scenario", "calls", "failed", "acked lost", "recovery", "verdict"));
        table.append(String.format(format, "-".repeat(26), "-".repeat(6), "-".repeat(6), "-".repeat(12),
                "-".repeat(10), "-".repeat(7)));
        for (Row row : summary) {
            table.append(String.format(format, row.scenario(), row.calls(), row.failed(), row.acknowledgedLost(),
                    row.recovery() == null ? "n/a" : row.recovery().toMillis() + " ms", row.verdict()));
        }
        System.out.println(table);
        try {
            Path out = Path.of(System.getProperty("capmesh.mesh.jars")).resolveSibling("chaos-summary.txt");
            Files.writeString(out, table.toString());
        } catch (Exception ignored) {
            // the table is on stdout anyway
        }
    }

    // -- the mesh -----------------------------------------------------------------------------------------

    private static ServiceProcess startBroker() throws Exception {
        return ServiceProcess.start(BROKER_JAR, dir.resolve("broker.log"), brokerPort, brokerArgs());
    }

    private static String[] brokerArgs() {
        return new String[] {"--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker/leases.db"),
                "--capmesh.broker.lease-ttl=60s", // longer than a broker restart takes on a busy machine
                "--capmesh.broker.heartbeat-interval=300ms",
                "--capmesh.broker.unhealthy-after=1s"};
    }

    private static ServiceProcess startRuntime(int index, int port) throws Exception {
        return ServiceProcess.start(RUNTIME_JAR, dir.resolve("runtime-" + index + ".log"), port,
                runtimeArgs(index));
    }

    private static String[] runtimeArgs(int index) {
        return new String[] {"--capmesh.runtime.data-dir=" + dataDir(index),
                "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort,
                "--capmesh.runtime.available=classpath*:nothing/*.jar",
                "--capmesh.runtime.reclaim-window=1s",
                "--capmesh.runtime.extensions.isolated-memory-hog.isolation.max-heap=64m"};
    }

    private static Path dataDir(int index) {
        return dir.resolve("runtime-" + index);
    }

    private static int indexOf(String replica) {
        for (int i = 0; i < runtimes.length; i++) {
            if (runtimes[i] != null && replica.endsWith(":" + runtimes[i].port())) {
                return i;
            }
        }
        throw new AssertionError("no runtime of this mesh serves at " + replica);
    }

    private static long servingRuntimes() {
        try {
            return CapabilityBrokerGrpc.newBlockingStub(broker.channel()).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                    .filter(r -> r.getState() == ServingState.SERVING).count();
        } catch (StatusRuntimeException notYet) {
            return -1;
        }
    }

    private static void awaitServingRuntimes(Duration timeout) throws InterruptedException {
        Await.until("both runtimes serving at the broker", timeout, () -> servingRuntimes() == 2);
    }

    private static void awaitRuntimeCount(int count, Duration timeout) throws InterruptedException {
        Await.until(count + " runtimes serving at the broker", timeout, () -> servingRuntimes() == count);
    }

    /** From {@code since} until the runtime reports SERVING and answers a call of its own. */
    private static Duration untilHealthyAndServing(ServiceProcess runtime, long since) throws InterruptedException {
        Await.until("the runtime serving and answering", Duration.ofSeconds(10), () -> {
            try {
                return HealthGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(1, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus()
                        == HealthCheckResponse.ServingStatus.SERVING
                        && text(direct(runtime, "core.echo", "echo", "alive")).equals("alive");
            } catch (StatusRuntimeException notYet) {
                return false;
            }
        });
        return Duration.ofNanos(System.nanoTime() - since);
    }

    private static DeployResponse deploy(ServiceProcess runtime, Path jar) throws Exception {
        return PackageUpload.deploy(RuntimeServiceGrpc.newStub(runtime.channel()).withDeadlineAfter(30, TimeUnit.SECONDS),
                DeployHeader.newBuilder().setFileName(jar.getFileName().toString()).build(), Files.readAllBytes(jar),
                Duration.ofSeconds(30));
    }

    private static io.capmesh.proto.v1.InvokeResponse direct(ServiceProcess runtime, String capability,
                                                           String method, String payload) {
        return RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
                .invoke(request(capability, method, payload));
    }

    private static InvokeRequest request(String capability, String method, String payload) {
        return InvokeRequest.newBuilder().setCapability(capability).setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build();
    }

    private static String text(io.capmesh.proto.v1.InvokeResponse response) {
        return response.getPayload().toString(UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, UTF_8);
    }

    private static String trim(String line) {
        String t = line.strip();
        return t.length() > 160 ? t.substring(0, 160) + "..." : t;
    }

}
