package io.capmesh.bench;

import com.google.protobuf.ByteString;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.sample.ScoreAndSign;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
import io.capmesh.stub.Composition;
import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.TracingSettings;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.benchmarks.proto.BenchmarkServiceGrpc;
import io.grpc.benchmarks.proto.Messages.Payload;
import io.grpc.benchmarks.proto.Messages.SimpleRequest;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The paths that cross processes, all on loopback: grpc-java's benchmark service in a JVM of its own (the peer
 * baseline), a broker and runtimes started from their jars (two core runtimes, one tracing, and the data, ml and
 * crypto runtimes), the thin stub's call path with tracing off and on, broker acquires, the runtime's start, and
 * the score-and-sign composition. Paths compared with each other are measured in turns, so the load of this
 * shared machine falls on them alike. Every process it starts, it stops on close.
 */
final class Network implements AutoCloseable {

    private static final int PAYLOAD_BYTES = CallPathBenchmarks.PAYLOAD_BYTES;
    private static final String ACCOUNT = "bench";
    /** The core runtime that traces: its own name in the logs and the start table. */
    private static final String TRACED_CORE = "core-runtime-service (tracing on)";
    /** What the traced core runtime advertises, so a stub can ask for it by host; the others advertise 127.0.0.1. */
    private static final String TRACED_HOST = "localhost";
    private static final String UNTRACED_HOST = "127.0.0.1";
    private static final int OPEN_CALLERS = 4;
    private static final String RAW_TUNED = "8 raw grpc-java unary (epoll, direct executor)";

    private final Mode mode;
    private final Path dir;
    private final Services services;
    private final Report report;
    private final CallPaths paths;
    private final Targets targets;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final Table starts = new Table("Start to SERVING",
            "From launching the JVM to SERVING on grpc.health.v1, polled every 5 ms "
                    + "(reconnecting at once, not after gRPC's backoff). The alone rows start the core runtime with "
                    + "no other start running (the rest of the mesh up and idle), in turns: on JDK 17 and on the "
                    + "newest JDK, the jar as built and the jar prepared as the build prepares it for bin/service, "
                    + "capmesh up and the images (Spring Boot's extraction and the start cache of a training start: "
                    + "on JDK 25 the AOT cache of a start to SERVING, on 17 a class data sharing archive of a start "
                    + "to the context's refresh; a prepared start that cannot use its cache fails). The mesh rows start "
                    + "their services at the same time on this machine's cores, while the memory step runs, as "
                    + "bin/service starts them.",
            "service", "how", "runs", "p50 ms", "max ms", "first load after it, p50 ms");
    private int brokerPort;
    private final Map<String, CompletableFuture<ServiceProcess>> launching = new LinkedHashMap<>();
    private ServiceProcess broker;
    private ServiceProcess core;
    private ServiceProcess tracedCore;
    /** A call to the raw grpc-java server (epoll, direct executor), kept up to be measured in turns with the hop. */
    private LoadGenerator.Call rawTuned;
    private CapabilityClient client;
    private int coldPackages;

    Network(Mode mode, Path out, Services services, Report report, CallPaths paths, Targets targets) throws Exception {
        this.mode = mode;
        this.dir = Directories.fresh(out.resolve("mesh"));
        this.services = services;
        this.report = report;
        this.paths = paths;
        this.targets = targets;
    }

    // ---- raw grpc-java ---------------------------------------------------------------------------------------

    /**
     * grpc-java's benchmark service in a JVM of its own, tuned (epoll, direct executor) and as it comes (NIO,
     * default executor), both up at once and measured in turns. With the mesh, the tuned one stays up: the hops to
     * the runtimes are measured in turns with it.
     */
    String rawBaseline() throws Exception {
        List<AutoCloseable> stops = new ArrayList<>();
        boolean keep = false;
        try {
            LoadGenerator.Call tuned = rawServer("tuned", stops);
            LoadGenerator.Call plain = rawServer("default", stops);
            warmUp(tuned);
            warmUp(plain);
            List<Latency> inTurns = LoadGenerator.inTurns(List.of(tuned, plain), mode.turns(), mode.loadDuration());
            String how = "closed loop, 1 caller, other JVM, in turns with the other 8";
            paths.add("raw-tuned", RAW_TUNED, how, inTurns.get(0), null);
            paths.add("raw-default", "8 raw grpc-java unary (NIO, default executor)", how, inTurns.get(1),
                    "raw-tuned");
            if (mode.mesh()) {
                rawTuned = tuned; // measured again, in turns with the hops
                keep = true;
            } else {
                paths.add("raw-tuned-open", RAW_TUNED + ", open loop", openHow(), openLoop(tuned), null);
            }
            return String.format("tuned p50 %s us; default p50 %s us", Table.micros(inTurns.get(0).p50()),
                    Table.micros(inTurns.get(1).p50()));
        } finally {
            for (int i = 0; i < stops.size(); i++) {
                if (keep && i == 0) {
                    started.add(stops.get(0));
                } else {
                    stops.get(i).close();
                }
            }
        }
    }

    /** Starts a raw server and answers a call to it; how to stop both goes into {@code stops}. */
    private LoadGenerator.Call rawServer(String flavour, List<AutoCloseable> stops) throws Exception {
        Process server = startRawServer(flavour);
        int port;
        try {
            port = listeningPort(server);
        } catch (Exception e) {
            server.destroyForcibly();
            throw e;
        }
        boolean tuned = flavour.equals("tuned");
        EpollEventLoopGroup group = tuned ? new EpollEventLoopGroup(1) : null;
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext();
        if (tuned) {
            builder.eventLoopGroup(group).channelType(EpollSocketChannel.class).directExecutor();
        }
        ManagedChannel channel = builder.build();
        stops.add(() -> {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            if (group != null) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            server.getOutputStream().close();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        });
        BenchmarkServiceGrpc.BenchmarkServiceBlockingStub stub = BenchmarkServiceGrpc.newBlockingStub(channel);
        SimpleRequest request = SimpleRequest.newBuilder().setResponseSize(PAYLOAD_BYTES)
                .setPayload(Payload.newBuilder().setBody(ByteString.copyFrom(new byte[PAYLOAD_BYTES]))).build();
        return () -> stub.unaryCall(request);
    }

    private Process startRawServer(String flavour) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"), RawEchoServer.class.getName(),
                String.valueOf(ServiceProcess.freePort()), flavour);
        return new ProcessBuilder(command).redirectError(dir.resolve("raw-" + flavour + ".log").toFile()).start();
    }

    private static int listeningPort(Process server) throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                StandardCharsets.UTF_8));
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (java.io.IOException e) {
                return null;
            }
        }, task -> LoadGenerator.daemon("server-output").newThread(task).start()); // the common pool may be busy
        String line = first.get(60, TimeUnit.SECONDS);
        if (line == null || !line.startsWith("LISTENING ")) {
            server.destroyForcibly();
            throw new IllegalStateException("the raw gRPC server did not start: " + line);
        }
        return Integer.parseInt(line.substring("LISTENING ".length()).trim());
    }

    // ---- the mesh --------------------------------------------------------------------------------------------

    /**
     * Launches the broker, a core runtime that traces (for the stub's hop with tracing on) and, for the
     * composition, the data, ml and crypto runtimes, all at once and in the background, so their starts overlap
     * each other and a step that measures no time; {@link #awaitMesh} collects them. The untraced core runtime
     * the other paths use is the one {@link #startAlone} times.
     */
    void launchMesh() throws Exception {
        if (!launching.isEmpty()) {
            return;
        }
        Path cold = Files.createDirectories(dir.resolve("cold-packages"));
        ExtensionJars jars = new ExtensionJars(cold);
        coldPackages = mode.coldAcquires();
        for (int i = 0; i < coldPackages; i++) {
            jars.echo("bench-cold-" + i, "1.0.0", "bench.cold-" + i, 0);
        }
        Files.deleteIfExists(cold.resolve(ExtensionJars.ECHO));
        Path brokerJar = jar(Services.BROKER);
        brokerPort = ServiceProcess.freePort();
        launching.put(Services.BROKER, launch(() -> ServiceProcess.start(brokerJar, dir.resolve("broker.log"),
                brokerPort, "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker-leases.db"),
                "--capmesh.broker.heartbeat-interval=300ms")));
        Path coreJar = jar(Services.CORE);
        Path spans = Files.createDirectories(dir.resolve("spans"));
        launching.put(TRACED_CORE, launch(() -> ServiceProcess.start(coreJar, dir.resolve(TRACED_CORE + ".log"),
                ServiceProcess.freePort(), brokerAddress(), "--capmesh.runtime.data-dir=" + dir.resolve(TRACED_CORE),
                "--capmesh.tracing.span-dir=" + spans, "--capmesh.runtime.broker.advertise-host=" + TRACED_HOST)));
        if (mode.composition()) {
            for (String tier : List.of(Services.DATA, Services.ML, Services.CRYPTO)) {
                Path jar = jar(tier);
                launching.put(tier, launch(() -> ServiceProcess.start(jar, dir.resolve(tier + ".log"),
                        ServiceProcess.freePort(), brokerAddress(), "--capmesh.runtime.data-dir=" + dir.resolve(tier))));
            }
        }
    }

    /** Waits for what {@link #launchMesh} started. */
    String awaitMesh() throws Exception {
        launchMesh();
        CompletableFuture.allOf(launching.values().toArray(CompletableFuture[]::new)).handle((ok, failed) -> null)
                .join();
        Exception failure = null;
        for (var each : launching.entrySet()) {
            String name = each.getKey();
            try {
                ServiceProcess run = each.getValue().join();
                started.add(run);
                starts.row(name, "mesh, " + launching.size() + " at once", 1, Table.millis(run.startTime().toMillis()),
                        Table.millis(run.startTime().toMillis()), "-");
                if (name.equals(Services.BROKER)) {
                    broker = run;
                } else if (name.equals(TRACED_CORE)) {
                    tracedCore = run;
                }
            } catch (RuntimeException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                failure = failure != null ? failure : new IllegalStateException(name + " did not start: "
                        + cause.getMessage(), e);
            }
        }
        launching.clear();
        if (failure != null) {
            throw failure;
        }
        return started.size() + " services serving";
    }

    /**
     * Starts the core runtime alone (the rest of the mesh already up and idle), one start after the other, to
     * time start to SERVING without another start competing: on JDK 17 and on the newest JDK (bin/java-home), each
     * as built and prepared with its start cache (tools/service-start/prepare), in turns. The last start, prepared on
     * the newest JDK as bin/service and capmesh up start it, stays up as the mesh's core runtime.
     */
    String startAlone() throws Exception {
        requireBroker();
        Path jar = jar(Services.CORE);
        Path repository = services.repository();
        if (repository == null) {
            throw new IllegalStateException("the start rows prepare with the repository's tools/service-start,"
                    + " and no repository holds " + jar);
        }
        List<PreparedStart> ways = new ArrayList<>();
        for (PreparedStart.Jdk jdk : PreparedStart.Jdk.seventeenAndNewest(repository)) { // the newest, shipped, last
            ways.add(PreparedStart.asBuilt(jar, dir.resolve("start-jdk" + jdk.major() + "-as-built"), jdk));
            ways.add(PreparedStart.prepared(repository, jar, dir.resolve("start-jdk" + jdk.major() + "-prepared"),
                    jdk));
        }
        PreparedStart shipped = ways.get(ways.size() - 1);
        Map<PreparedStart, Histogram> times = new LinkedHashMap<>();
        Map<PreparedStart, Histogram> firstLoads = new LinkedHashMap<>();
        ways.forEach(way -> times.put(way, Lifecycle.histogram()));
        ways.forEach(way -> firstLoads.put(way, Lifecycle.histogram()));
        Path firstLoad = new ExtensionJars(Files.createDirectories(dir.resolve("first-load")))
                .echo("bench-first-load", "1.0.0", "bench.first-load", 0);
        int runs = mode.startRuns() * ways.size();
        for (int run = 0; run < runs; run++) {
            boolean last = run == runs - 1;
            PreparedStart way = ways.get(run % ways.size()); // in turns, the shipped way last
            String name = last ? Services.CORE : "start-" + run;
            ServiceProcess runtime = ServiceProcess.start(way.jar(), dir.resolve(name + ".log"), way.environment(),
                    brokerAddress(), "--capmesh.runtime.data-dir=" + dir.resolve(name),
                    "--capmesh.runtime.available=file:" + dir.resolve("cold-packages") + "/*.jar");
            times.get(way).recordValue(runtime.startTime().toMillis());
            try { // extensions' classes are never in a start cache: what their first load costs after it
                firstLoads.get(way).recordValue(firstLoadMicros(runtime, firstLoad, "bench.first-load"));
            } catch (Exception | Error e) {
                runtime.close();
                throw e;
            }
            if (last) {
                core = runtime;
                started.add(runtime);
            } else {
                runtime.close();
            }
        }
        double asBuiltP50 = times.get(ways.get(0)).getValueAtPercentile(50);
        for (var each : times.entrySet()) {
            Histogram histogram = each.getValue();
            double p50 = histogram.getValueAtPercentile(50);
            Histogram loads = firstLoads.get(each.getKey());
            starts.row("core runtime", "alone, " + each.getKey().what() + (each.getKey() == ways.get(0) ? ""
                            : " (" + Table.ratio(p50, asBuiltP50) + " of the first row at p50)"),
                    histogram.getTotalCount(), Table.millis(p50), Table.millis(histogram.getMaxValue()),
                    loads.getTotalCount() == 0 ? "-" : Table.millis(loads.getValueAtPercentile(50) / 1000.0));
        }
        Histogram shippedTimes = times.get(shipped);
        double shippedP50 = shippedTimes.getValueAtPercentile(50);
        targets.measured(Targets.Goal.START, String.format("%.0f ms p50, %d ms max, %s (core runtime, %d start(s));"
                        + " %.0f ms p50 %s, in turns", shippedP50, shippedTimes.getMaxValue(), shipped.what(),
                shippedTimes.getTotalCount(), asBuiltP50, ways.get(0).what()), shippedP50 <= 1_000);
        awaitRegistered((int) started.stream().filter(s -> s instanceof ServiceProcess && s != broker).count());
        client = CapabilityClient.builder().broker("127.0.0.1:" + broker.port()).account(ACCOUNT).build();
        started.add(0, client);
        return String.format("p50 %.0f ms %s, %.0f ms %s", shippedP50, shipped.what(), asBuiltP50,
                ways.get(0).what());
    }

    /**
     * Deploys a small package to a runtime that just started and calls it once: what the first extension load after
     * a start costs (its classes come from its own loader, never from the start cache; the host's classes it uses
     * may). Microseconds, deploy to the call's answer.
     */
    private static long firstLoadMicros(ServiceProcess runtime, Path jar, String capability) throws Exception {
        long begin = System.nanoTime();
        PackageUpload.deploy(RuntimeServiceGrpc.newStub(runtime.channel()), DeployHeader.newBuilder()
                .setFileName(jar.getFileName().toString()).build(), Files.readAllBytes(jar), Duration.ofSeconds(60));
        RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                .invoke(InvokeRequest.newBuilder().setCapability(capability).setMethod("echo")
                        .setPayload(ByteString.copyFromUtf8("first")).build());
        return TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - begin);
    }

    private String brokerAddress() {
        return "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort;
    }

    private void awaitRegistered(int runtimes) throws InterruptedException {
        var health = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                long serving = health.health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                        .filter(r -> r.getState() == ServingState.SERVING).count();
                if (serving >= runtimes) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // the broker is still starting its service
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the runtimes did not all register with the broker within 60 s; see " + dir);
    }

    // ---- one hop -------------------------------------------------------------------------------------------

    /**
     * One hop to a core runtime in another process: the runtime's Invoke from a plain gRPC client, the thin stub's
     * call with tracing off, and with tracing on (a stub exporting its spans to a directory, calling a core runtime
     * that does too), measured in turns with the raw grpc-java server kept up from {@link #rawBaseline}, so the
     * machine's load falls on all of them alike and their ratios hold.
     */
    String stubHop() throws Exception {
        requireMesh();
        byte[] payload = new byte[PAYLOAD_BYTES];
        InvokeRequest request = InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                .setPayload(ByteString.copyFrom(payload)).build();
        RuntimeServiceGrpc.RuntimeServiceBlockingStub plain = RuntimeServiceGrpc.newBlockingStub(core.channel());
        LoadGenerator.Call plainCall = () -> plain.invoke(request);
        Path spans = Files.createDirectories(dir.resolve("spans"));
        try (Capabilities caps = client.acquire(Acquire.require("core.echo").preferHost(UNTRACED_HOST));
             Tracing tracing = Tracing.start(new TracingSettings("bench", "", spans, null));
             CapabilityClient tracedClient = CapabilityClient.builder().broker("127.0.0.1:" + broker.port()).account(ACCOUNT)
                     .openTelemetry(tracing.openTelemetry()).build();
             Capabilities tracedCaps = tracedClient.acquire(Acquire.require("core.echo").preferHost(TRACED_HOST))) {
            CapabilityHandle echo = routedTo(caps.get("core.echo"), core.port());
            CapabilityHandle tracedEcho = routedTo(tracedCaps.get("core.echo"), tracedCore.port());
            LoadGenerator.Call stubCall = () -> echo.invoke("echo", payload);
            LoadGenerator.Call tracedCall = () -> tracedEcho.invoke("echo", payload);
            List<LoadGenerator.Call> calls = new ArrayList<>(List.of(plainCall, stubCall, tracedCall));
            if (rawTuned != null) {
                calls.add(rawTuned);
            }
            calls.forEach(this::warmUp);
            List<Latency> inTurns = LoadGenerator.inTurns(calls, mode.turns(), mode.loadDuration());
            String how = "closed loop, 1 caller, in turns with the other 5s" + (rawTuned != null ? " and 8" : "");
            String raw = "raw-tuned";
            if (rawTuned != null) {
                raw = "raw-tuned-hop";
                paths.add(raw, RAW_TUNED + ", again", "closed loop, 1 caller, other JVM, in turns with the 5s",
                        inTurns.get(3), null);
            }
            Latency hop = inTurns.get(1);
            Latency traced = inTurns.get(2);
            paths.add("invoke-plain", "5 runtime Invoke in another process, plain gRPC client", how, inTurns.get(0),
                    raw);
            paths.add("stub-hop", "5 thin stub -> runtime in another process (tracing off)", how, hop, raw);
            paths.add("stub-hop-traced", "5 thin stub -> runtime in another process (tracing on, spans to files)",
                    how, traced, "stub-hop");
            if (rawTuned != null) {
                List<Latency> open = LoadGenerator.openInTurns(List.of(rawTuned, stubCall), openRate(), OPEN_CALLERS,
                        mode.turns(), mode.loadDuration());
                String openHow = openHow() + ", in turns with the other";
                paths.add("raw-tuned-open", RAW_TUNED + ", open loop", openHow, open.get(0), null);
                paths.add("stub-hop-open", "5 thin stub -> runtime in another process (tracing off), open loop",
                        openHow, open.get(1), "raw-tuned-open");
            } else {
                paths.add("stub-hop-open", "5 thin stub -> runtime in another process (tracing off), open loop",
                        openHow(), openLoop(stubCall), null);
            }
            Latency base = paths.latency(raw);
            if (base != null) {
                double p50 = hop.p50() / base.p50();
                double p99 = hop.p99() / base.p99();
                targets.measured(Targets.Goal.HOP, String.format("%.0f us p50 (%.2fx), %.0f us p99 (%.2fx); "
                        + "tracing on: %.2fx p50, %.2fx p99 of tracing off", hop.p50() / 1e3, p50, hop.p99() / 1e3,
                        p99, traced.p50() / hop.p50(), traced.p99() / hop.p99()), p50 <= 1.25 && p99 <= 1.5);
            }
            return String.format("stub hop p50 %s us (%s of raw), tracing on %s us (%s of off)",
                    Table.micros(hop.p50()), base == null ? "-" : Table.ratio(hop.p50(), base.p50()),
                    Table.micros(traced.p50()), Table.ratio(traced.p50(), hop.p50()));
        }
    }

    /** The handle, once the broker's first choice for it is the runtime on {@code port}. */
    private static CapabilityHandle routedTo(CapabilityHandle handle, int port) {
        List<String> replicas = handle.replicas();
        if (replicas.isEmpty() || !replicas.get(0).endsWith(":" + port)) {
            throw new IllegalStateException("the broker routed " + handle.name() + " to " + replicas
                    + ", not to the runtime on port " + port);
        }
        return handle;
    }

    // ---- broker acquire ------------------------------------------------------------------------------------

    String acquire() throws Exception {
        requireMesh();
        Histogram warm = Lifecycle.histogram();
        for (int i = 0; i < mode.acquireRuns(); i++) {
            long start = System.nanoTime();
            Capabilities caps = client.acquire(Acquire.require("core.echo"));
            warm.recordValue(System.nanoTime() - start);
            caps.close();
        }
        awaitCatalog("bench.cold-" + (coldPackages - 1));
        Histogram cold = Lifecycle.histogram();
        for (int i = 0; i < coldPackages; i++) {
            long start = System.nanoTime();
            Capabilities caps = client.acquire(Acquire.require("bench.cold-" + i).timeout(Duration.ofSeconds(20)));
            cold.recordValue(System.nanoTime() - start);
            caps.get("bench.cold-" + i).invoke("echo", new byte[1]);
            caps.close();
        }
        Table table = new Table("Broker acquire",
                "CapabilityClient.acquire round trips to the broker for one capability (the lease is released after "
                        + "each, untimed). Warm: core.echo, already loaded. Cold: a tier-2 package the runtime holds "
                        + "but has not loaded, so the broker asks it to load first. The ratio is to warm.",
                "kind", "acquires", "p50 ms", "p99 ms", "max ms", "p50 ratio");
        table.row("warm (loaded)", warm.getTotalCount(), Table.millis(warm.getValueAtPercentile(50) / 1e6),
                Table.millis(warm.getValueAtPercentile(99) / 1e6), Table.millis(warm.getMaxValue() / 1e6), "1.00x");
        table.row("cold (tier-2 load)", cold.getTotalCount(), Table.millis(cold.getValueAtPercentile(50) / 1e6),
                Table.millis(cold.getValueAtPercentile(99) / 1e6), Table.millis(cold.getMaxValue() / 1e6),
                Table.ratio(cold.getValueAtPercentile(50), warm.getValueAtPercentile(50)));
        report.add(table);
        return String.format("warm p50 %.2f ms, cold p50 %.2f ms", warm.getValueAtPercentile(50) / 1e6,
                cold.getValueAtPercentile(50) / 1e6);
    }

    /** Three broker replicas on PostgreSQL against this run's embedded broker: see {@link ControlPlane}. */
    String controlPlane() throws Exception {
        requireMesh();
        try (ControlPlane plane = new ControlPlane(mode, Directories.fresh(dir.resolve("control-plane")), report,
                targets)) {
            return plane.run(client, jar(Services.BROKER), jar(Services.CORE));
        }
    }

    private void awaitCatalog(String capability) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (client.list(capability).stream().anyMatch(entry -> entry.name().equals(capability))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the broker never listed " + capability);
    }

    // ---- composition ---------------------------------------------------------------------------------------

    /**
     * The score-and-sign sample composing data.sql -> ml.onnx -> crypto.sign through the thin stub, the same
     * work in this process ({@link Composite}), each of the three typed calls alone, the three in a row without the
     * composition and the query three times in a row, measured in turns.
     */
    String composition() throws Exception {
        requireMesh();
        if (!mode.composition()) {
            paths.skipped("6 and 7 composition", "not in " + mode.name() + " mode (it starts three more runtimes)");
            return "skipped in " + mode.name() + " mode";
        }
        try (Capabilities caps = client.acquire(ScoreAndSign.capabilities());
             Composite local = new Composite(dir.resolve("composite-h2"))) {
            ScoreAndSign remote = new ScoreAndSign(caps, Tracing.off().tracer(), Duration.ofSeconds(10));
            remote.prepare();
            local.prepare();
            LoadGenerator.Call remoteCall = remote::compose;
            LoadGenerator.Call localCall = local::run;
            // each typed call of the composition alone, on the inputs the one before it answers, under the same
            // deadline, so the composition's time can be split between the three runtimes
            Duration deadline = Duration.ofSeconds(10);
            QueryResult rows = remote.query();
            InferResponse inferred = remote.infer(rows);
            byte[] message = ScoreAndSign.lines(ScoreAndSign.scores(rows, inferred));
            LoadGenerator.Call queryCall = () -> Composition.sequence(deadline, remote::query);
            LoadGenerator.Call inferCall = () -> Composition.sequence(deadline, () -> remote.infer(rows));
            LoadGenerator.Call signCall = () -> Composition.sequence(deadline, () -> remote.sign(message));
            // the same calls in a row without the composition, and one of them thrice to one runtime, so the time
            // beyond the sum of the calls alone splits into the composition's own work and moving between processes
            LoadGenerator.Call inARow = () -> {
                queryCall.call();
                inferCall.call();
                signCall.call();
            };
            LoadGenerator.Call queryThrice = () -> {
                queryCall.call();
                queryCall.call();
                queryCall.call();
            };
            List<LoadGenerator.Call> calls =
                    List.of(remoteCall, localCall, queryCall, inferCall, signCall, inARow, queryThrice);
            // three runtimes' JITs must each compile their part before the composition is as warm as the one hop
            // it is compared with, which takes thousands of compositions: warm until its latency stops falling
            LoadGenerator.WarmUp warm = LoadGenerator.warmUntilSteady(remoteCall, mode.loadDuration(),
                    mode.loadDuration().multipliedBy(10));
            calls.forEach(this::warmUp);
            List<Latency> inTurns = LoadGenerator.inTurns(calls, mode.turns(), mode.loadDuration());
            Latency across = inTurns.get(0);
            Latency inOne = inTurns.get(1);
            String how = String.format("closed loop, 1 caller, 6, 7 and 6a to 6e in turns, after %d compositions "
                    + "in %.0f s to warm up (%s)", warm.calls(), warm.took().toMillis() / 1e3,
                    warm.settled() ? "until the latency stopped falling" : "the cap; still falling");
            paths.add("composition", "6 score-and-sign: data -> ml -> crypto, thin stub across 3 runtimes", how,
                    across, "stub-hop");
            paths.add("composition-local", "7 same work in one process, direct calls (H2, ONNX Runtime, Ed25519)",
                    how, inOne, "composition");
            paths.add("composition-query", "6a its data.sql query alone (typed call through the stub)", how,
                    inTurns.get(2), "stub-hop");
            paths.add("composition-infer", "6b its ml.onnx infer alone (typed call through the stub)", how,
                    inTurns.get(3), "stub-hop");
            paths.add("composition-sign", "6c its crypto.sign sign alone (typed call through the stub)", how,
                    inTurns.get(4), "stub-hop");
            paths.add("composition-in-a-row", "6d its three calls in a row, without the composition", how,
                    inTurns.get(5), "composition");
            paths.add("composition-query-thrice", "6e its query three times in a row (one runtime)", how,
                    inTurns.get(6), "composition-query");
            Latency hop = paths.latency("stub-hop");
            if (hop != null) {
                double ratio = across.p50() / hop.p50();
                targets.measured(Targets.Goal.COMPOSITION, String.format("%.0f us p50 = %.2fx one hop; broker hops "
                        + "per call after acquire: 0 (calls go to the runtimes' channels)", across.p50() / 1e3,
                        ratio), ratio <= 3.3);
            }
            return "across p50 " + Table.micros(across.p50()) + " us, in one process " + Table.micros(inOne.p50())
                    + " us; alone: query " + Table.micros(inTurns.get(2).p50()) + " us, infer "
                    + Table.micros(inTurns.get(3).p50()) + " us, sign " + Table.micros(inTurns.get(4).p50())
                    + " us; in a row " + Table.micros(inTurns.get(5).p50()) + " us; query thrice "
                    + Table.micros(inTurns.get(6).p50()) + " us";
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private Latency closed(LoadGenerator.Call call) throws InterruptedException {
        warmUp(call);
        return LoadGenerator.closedLoop(call, 1, mode.loadDuration());
    }

    /** The mode's warm-up calls, or as many as fit in one measured run's time when calls are slow. */
    private void warmUp(LoadGenerator.Call call) {
        LoadGenerator.warmUp(call, mode.loadWarmup(), mode.loadDuration());
    }

    private Latency openLoop(LoadGenerator.Call call) throws InterruptedException {
        return LoadGenerator.openLoop(call, openRate(), OPEN_CALLERS, mode.loadDuration());
    }

    private double openRate() {
        return mode == Mode.SMOKE ? 500 : 1_000;
    }

    private String openHow() {
        return String.format("open loop, %.0f calls/s", openRate());
    }

    private void requireMesh() {
        requireBroker();
        if (core == null || tracedCore == null) {
            throw new IllegalStateException("the core runtimes did not start");
        }
    }

    private void requireBroker() {
        if (broker == null) {
            throw new IllegalStateException("the broker did not start");
        }
    }

    private Path jar(String module) {
        return services.jar(module).orElseThrow(() -> new IllegalStateException(services.whereLooked(module)));
    }

    Table starts() {
        return starts;
    }

    /** Starts a service on a thread of its own (the common pool may have one thread on two cores). */
    private static CompletableFuture<ServiceProcess> launch(Callable start) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return start.call();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, task -> LoadGenerator.daemon("service-start").newThread(task).start());
    }

    /** Starts one service. */
    @FunctionalInterface
    private interface Callable {
        ServiceProcess call() throws Exception;
    }

    @Override
    public void close() throws Exception {
        for (CompletableFuture<ServiceProcess> pending : launching.values()) {
            try {
                started.add(pending.join());
            } catch (RuntimeException didNotStart) {
                // nothing to stop
            }
        }
        launching.clear();
        for (AutoCloseable each : started) {
            try {
                each.close();
            } catch (Exception ignored) {
                // stopping the rest matters more
            }
        }
        started.clear();
    }
}
