package io.capmesh.sample;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.capmesh.extensions.mlonnx.TinyClassifierFunction;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityCallException;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.telemetry.SpanRecord;
import io.capmesh.telemetry.TraceFiles;
import io.capmesh.telemetry.TraceTree;
import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.TracingSettings;
import io.capmesh.testsupport.Await;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample against a mesh of real processes on loopback: a broker, a data runtime, two ml runtimes and a crypto
 * runtime, every one writing its spans to one directory, as a local mesh does. The tests run in order on one
 * mesh because the last two kill parts of it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScoreAndSignMeshIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.mesh.jars"));

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // the services' logs stay when a test fails
    static Path dir;
    static Path spans;
    static ServiceProcess broker;
    static final Map<String, ServiceProcess> runtimes = new java.util.LinkedHashMap<>();
    static Tracing tracing;
    static CapabilityClient client;

    @BeforeAll
    static void startMesh() throws Exception {
        spans = dir.resolve("spans");
        int brokerPort = ServiceProcess.freePort();
        String tracingTo = "--capmesh.tracing.span-dir=" + spans;
        List<String> names = List.of("data", "ml-a", "ml-b", "crypto");
        List<Callable<ServiceProcess>> starts = new ArrayList<>();
        starts.add(() -> ServiceProcess.start(JARS.resolve("capmesh-broker-service.jar"),
                dir.resolve("broker.log"), brokerPort, tracingTo,
                "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker/leases.db"),
                "--capmesh.broker.lease-ttl=2s",
                "--capmesh.broker.heartbeat-interval=300ms",
                "--capmesh.broker.unhealthy-after=1s"));
        for (String runtime : names) {
            String service = runtime.replaceAll("-.*", "") + "-runtime-service";
            starts.add(() -> ServiceProcess.start(JARS.resolve("capmesh-" + service + ".jar"),
                    dir.resolve(runtime + ".log"), tracingTo, "--capmesh.runtime.data-dir=" + dir.resolve(runtime),
                    "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort));
        }
        List<ServiceProcess> mesh = ServiceProcess.startTogether(starts);
        broker = mesh.get(0);
        for (int i = 0; i < names.size(); i++) {
            runtimes.put(names.get(i), mesh.get(i + 1));
        }
        var health = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
        Await.until("four runtimes serving", Duration.ofSeconds(30), () -> health.health(BrokerHealthRequest.getDefaultInstance())
                .getRuntimesList().stream().filter(r -> r.getState() == ServingState.SERVING).count() == 4);
        tracing = Tracing.start(new TracingSettings(ScoreAndSign.SPAN, "", spans, Duration.ofMillis(100)));
        client = CapabilityClient.builder().broker("127.0.0.1:" + brokerPort).account("acme")
                .openTelemetry(tracing.openTelemetry()).build();
    }

    @AfterAll
    static void stopMesh() throws Exception {
        if (client != null) {
            client.close();
            tracing.close();
        }
        for (ServiceProcess runtime : runtimes.values()) {
            runtime.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Order(1)
    void classifiesEveryFlowerAndTheCryptoRuntimeVouchesForTheSignature() {
        ScoreAndSign.Result result = ScoreAndSign.once(client, tracing.tracer(), Duration.ofSeconds(10));

        assertThat(result.scores()).extracting(ScoreAndSign.Score::site).containsExactly("north bed", "north bed",
                "greenhouse", "greenhouse", "meadow", "meadow");
        // each verdict is what the model computes, evaluated here in plain Java from the same constants
        for (int i = 0; i < result.scores().size(); i++) {
            Object[] row = SampleData.FLOWERS[i];
            float[] features = {((Double) row[2]).floatValue(), ((Double) row[3]).floatValue(),
                    ((Double) row[4]).floatValue(), ((Double) row[5]).floatValue()};
            double[] expected = TinyClassifierFunction.probabilities(features);
            int label = TinyClassifierFunction.label(expected);
            ScoreAndSign.Score score = result.scores().get(i);
            assertThat(score.label()).as("class of flower %d", i + 1).isEqualTo(label);
            assertThat((double) score.confidence()).isCloseTo(expected[label], within(1e-5));
        }
        assertThat(new String(result.signed(), UTF_8)).startsWith("1,north bed,").hasLineCount(6);
        assertThat(result.signature()).hasSize(64);
        try (Capabilities caps = client.acquire(ScoreAndSign.capabilities())) {
            ScoreAndSign sample = new ScoreAndSign(caps, tracing.tracer(), Duration.ofSeconds(5));
            sample.verify(result);
            byte[] altered = result.signed().clone();
            altered[0] = '9';
            assertThatThrownBy(() -> sample.verify(new ScoreAndSign.Result(result.traceId(), result.scores(),
                    result.keyId(), altered, result.signature(), result.took())))
                    .isInstanceOfSatisfying(CapabilityCallException.class,
                            e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
    }

    @Test
    @Order(2)
    void oneTraceSpansTheStubTheBrokerAndThreeRuntimesWithEveryHopLinked() {
        ScoreAndSign.Result result = ScoreAndSign.once(client, tracing.tracer(), Duration.ofSeconds(10));
        tracing.flush();

        TraceTree tree = new TraceFiles(spans).await(result.traceId(), ScoreAndSign.TRACED_SERVICES,
                Duration.ofSeconds(15));
        System.out.print(tree.render());
        List<SpanRecord> all = new TraceFiles(spans).trace(result.traceId());
        assertThat(all).extracting(SpanRecord::service).containsAll(ScoreAndSign.TRACED_SERVICES);
        assertThat(tree.roots()).singleElement().satisfies(root -> {
            assertThat(root.span().name()).isEqualTo(ScoreAndSign.SPAN);
            assertThat(root.span().service()).isEqualTo(ScoreAndSign.SPAN);
        });
        Map<String, SpanRecord> byId = all.stream().collect(Collectors.toMap(SpanRecord::spanId, Function.identity()));
        // every server span is the child of the stub's client span for the same call, which is the child of
        // the capability call it made (or of the function itself, for the broker)
        List<SpanRecord> served = all.stream().filter(s -> s.kind().equals("SERVER")).toList();
        assertThat(served).extracting(SpanRecord::service)
                .contains("broker", "data-runtime", "ml-runtime", "crypto-runtime");
        for (SpanRecord server : served) {
            SpanRecord client = byId.get(server.parentSpanId());
            assertThat(client).as("the parent of %s in %s", server.name(), server.service()).isNotNull();
            assertThat(client.kind()).isEqualTo("CLIENT");
            assertThat(client.name()).isEqualTo(server.name());
            assertThat(client.service()).isEqualTo(ScoreAndSign.SPAN);
        }
        SpanRecord acquire = served.stream().filter(s -> s.service().equals("broker")).findFirst().orElseThrow();
        assertThat(acquire.name()).isEqualTo("capmesh.v1.CapabilityBroker/Acquire");
        assertThat(acquire.attributes()).containsEntry("capmesh.account", "acme")
                .containsKey("capmesh.lease").containsKey("capmesh.replica");

        SpanRecord compose = all.stream().filter(s -> s.name().equals(ScoreAndSign.COMPOSE_SPAN)).findFirst()
                .orElseThrow();
        for (String[] hop : new String[][] {{"data.sql/query", "data-runtime", "data-sql"},
                {"ml.onnx/infer", "ml-runtime", "ml-onnx"}, {"crypto.sign/sign", "crypto-runtime", "crypto"}}) {
            SpanRecord call = all.stream().filter(s -> s.name().equals(hop[0])).findFirst().orElseThrow();
            assertThat(call.parentSpanId()).as(hop[0] + " runs inside the composition").isEqualTo(compose.spanId());
            SpanRecord server = served.stream().filter(s -> s.service().equals(hop[1])
                    && byId.get(s.parentSpanId()).parentSpanId().equals(call.spanId())).findFirst().orElseThrow();
            assertThat(server.attributes()).containsEntry("capmesh.extension", hop[2]).containsKey("capmesh.version");
            assertThat(call.attributes()).containsKey("capmesh.replica");
        }
    }

    @Test
    @Order(3)
    void killingOneOfTwoMlReplicasMidRunFailsNoComposition() throws Exception {
        try (Capabilities caps = client.acquire(ScoreAndSign.capabilities())) {
            ScoreAndSign sample = new ScoreAndSign(caps, tracing.tracer(), Duration.ofSeconds(5));
            sample.prepare();
            List<String> ml = caps.get("ml.onnx").replicas();
            assertThat(ml).as("both ml runtimes serve ml.onnx").hasSize(2);
            ServiceProcess victim = runtimes.values().stream().filter(r -> ml.get(0).endsWith(":" + r.port()))
                    .findFirst().orElseThrow();

            Load load = Load.run(sample, Duration.ofSeconds(6), Duration.ofSeconds(2), victim::kill);

            assertThat(load.failures).isEmpty();
            assertThat(load.afterEvent.get()).isGreaterThan(20);
            System.out.printf("ml replica killed mid-run: %d compositions, %d after the kill, 0 failed%n",
                    load.ok.get(), load.afterEvent.get());
        }
    }

    @Test
    @Order(4)
    void compositionsOnAHeldLeaseKeepSucceedingWhileTheBrokerIsDown() throws Exception {
        Capabilities caps = client.acquire(ScoreAndSign.capabilities());
        ScoreAndSign sample = new ScoreAndSign(caps, tracing.tracer(), Duration.ofSeconds(5));
        sample.prepare();

        Load load = Load.run(sample, Duration.ofSeconds(5), Duration.ofSeconds(1), broker::kill);

        assertThat(load.failures).isEmpty();
        assertThat(load.afterEvent.get()).isGreaterThan(20);
        caps.close(); // the release fails quietly: the lease expires on its own
    }

    /** Two workers composing in a loop for a while; something happens part way through. */
    private static final class Load {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger afterEvent = new AtomicInteger();
        final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

        interface Event {
            void happen() throws Exception;
        }

        static Load run(ScoreAndSign sample, Duration length, Duration eventAfter, Event event) throws Exception {
            Load load = new Load();
            AtomicLong eventAt = new AtomicLong(Long.MAX_VALUE);
            long end = System.nanoTime() + length.toNanos();
            ExecutorService workers = Executors.newFixedThreadPool(2);
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                running.add(workers.submit(() -> {
                    while (System.nanoTime() < end) {
                        long started = System.nanoTime();
                        try {
                            assertThat(sample.compose().scores()).hasSize(6);
                            load.ok.incrementAndGet();
                            if (started > eventAt.get()) {
                                load.afterEvent.incrementAndGet();
                            }
                        } catch (Throwable e) {
                            load.failures.add(e);
                        }
                    }
                }));
            }
            Thread.sleep(eventAfter.toMillis());
            event.happen();
            eventAt.set(System.nanoTime());
            for (Future<?> worker : running) {
                worker.get();
            }
            workers.shutdown();
            return load;
        }
    }
}
