package io.capmesh.bench;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The paths that cross processes, all on loopback: grpc-java's benchmark service in a JVM of its own (the peer
 * baseline), a core runtime and a broker started from their jars, the thin stub's call path, broker acquires, the
 * runtime's start, and the three-tier composition. Every process it starts, it stops on close.
 */
final class Network implements AutoCloseable {

    private static final int PAYLOAD_BYTES = CallPathBenchmarks.PAYLOAD_BYTES;
    private static final String ACCOUNT = "bench";

    private final Mode mode;
    private final Path dir;
    private final Services services;
    private final Report report;
    private final CallPaths paths;
    private final Targets targets;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final Table starts = new Table("Start to SERVING",
            "From launching the JVM (bin/service's flags, no class data sharing archive of our own) to SERVING on "
                    + "grpc.health.v1, polled every 5 ms. The sequential rows start one runtime alone; the mesh rows "
                    + "start their services at the same time on this machine's cores.",
            "service", "how", "runs", "p50 ms", "max ms");
    private ServiceRun broker;
    private ServiceRun core;
    private CapabilityClient client;
    private int coldPackages;

    Network(Mode mode, Path out, Services services, Report report, CallPaths paths, Targets targets) throws Exception {
        this.mode = mode;
        this.dir = Files.createDirectories(out.resolve("mesh"));
        this.services = services;
        this.report = report;
        this.paths = paths;
        this.targets = targets;
    }

    // ---- raw grpc-java ---------------------------------------------------------------------------------------

    String rawBaseline() throws Exception {
        StringBuilder summary = new StringBuilder();
        for (String flavour : List.of("tuned", "default")) {
            Process server = startRawServer(flavour);
            int port = listeningPort(server);
            boolean tuned = flavour.equals("tuned");
            EpollEventLoopGroup group = tuned ? new EpollEventLoopGroup(1) : null;
            NettyChannelBuilder builder = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext();
            if (tuned) {
                builder.eventLoopGroup(group).channelType(EpollSocketChannel.class).directExecutor();
            }
            ManagedChannel channel = builder.build();
            try {
                BenchmarkServiceGrpc.BenchmarkServiceBlockingStub stub = BenchmarkServiceGrpc.newBlockingStub(channel);
                SimpleRequest request = SimpleRequest.newBuilder().setResponseSize(PAYLOAD_BYTES)
                        .setPayload(Payload.newBuilder().setBody(ByteString.copyFrom(new byte[PAYLOAD_BYTES])))
                        .build();
                LoadGenerator.Call call = () -> stub.unaryCall(request);
                String label = tuned ? "8 raw grpc-java unary (epoll, direct executor)"
                        : "8 raw grpc-java unary (NIO, default executor)";
                Latency closed = closed(call);
                paths.add("raw-" + flavour, label, "closed loop, 1 caller, other JVM", closed,
                        tuned ? null : "raw-tuned");
                if (tuned) {
                    paths.add("raw-tuned-open", label + ", open loop", openHow(), openLoop(call), null);
                }
                summary.append(flavour).append(" p50 ").append(Table.micros(closed.p50())).append(" us; ");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                if (group != null) {
                    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                }
                server.getOutputStream().close();
                if (!server.waitFor(10, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
        }
        return summary.toString();
    }

    private Process startRawServer(String flavour) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"), RawEchoServer.class.getName(),
                String.valueOf(ServiceRun.freePort()), flavour);
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
        });
        String line = first.get(60, TimeUnit.SECONDS);
        if (line == null || !line.startsWith("LISTENING ")) {
            server.destroyForcibly();
            throw new IllegalStateException("the raw gRPC server did not start: " + line);
        }
        return Integer.parseInt(line.substring("LISTENING ".length()).trim());
    }

    // ---- the mesh --------------------------------------------------------------------------------------------

    /** Starts a core runtime alone, one after the other, to time start to SERVING without competition. */
    String startAlone() throws Exception {
        Path jar = jar(Services.CORE);
        Histogram times = Lifecycle.histogram();
        for (int run = 0; run < mode.startRuns(); run++) {
            try (ServiceRun runtime = ServiceRun.start(jar, dir.resolve("start-" + run + ".log"),
                    ServiceRun.freePort(), "--capmesh.runtime.data-dir=" + dir.resolve("start-" + run))) {
                times.recordValue(runtime.startMillis());
            }
        }
        double p50 = times.getValueAtPercentile(50);
        starts.row("core runtime", "alone, sequential", mode.startRuns(), Table.millis(p50),
                Table.millis(times.getMaxValue()));
        targets.measured(Targets.Goal.START, String.format("%.0f ms p50, %d ms max (core runtime, %d starts)", p50,
                times.getMaxValue(), mode.startRuns()), p50 <= 1_000);
        return String.format("p50 %.0f ms", p50);
    }

    /** Broker, core runtime and, for the composition, the data, ml and crypto runtimes, all started at once. */
    String startMesh() throws Exception {
        Path cold = Files.createDirectories(dir.resolve("cold-packages"));
        ExtensionJars jars = new ExtensionJars(cold);
        coldPackages = mode.coldAcquires();
        for (int i = 0; i < coldPackages; i++) {
            jars.echo("bench-cold-" + i, "1.0.0", "bench.cold-" + i, 0);
        }
        Files.deleteIfExists(cold.resolve(ExtensionJars.ECHO));
        int brokerPort = ServiceRun.freePort();
        String brokerAddress = "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort;
        List<String> tiers = new ArrayList<>(List.of(Services.CORE));
        if (mode.composition()) {
            tiers.addAll(List.of(Services.DATA, Services.ML, Services.CRYPTO));
        }
        List<CompletableFuture<ServiceRun>> starting = new ArrayList<>();
        Path brokerJar = jar(Services.BROKER);
        starting.add(launch(() -> ServiceRun.start(brokerJar, dir.resolve("broker.log"), brokerPort,
                "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker-leases.db"),
                "--capmesh.broker.heartbeat-interval=300ms")));
        for (String tier : tiers) {
            Path jar = jar(tier);
            List<String> args = new ArrayList<>(List.of(brokerAddress,
                    "--capmesh.runtime.data-dir=" + dir.resolve(tier)));
            if (tier.equals(Services.CORE)) {
                args.add("--capmesh.runtime.available=file:" + cold + "/*.jar");
            }
            starting.add(launch(() -> ServiceRun.start(jar, dir.resolve(tier + ".log"), ServiceRun.freePort(),
                    args.toArray(String[]::new))));
        }
        CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).handle((ok, failed) -> null).join();
        List<String> names = new ArrayList<>(List.of(Services.BROKER));
        names.addAll(tiers);
        Exception failure = null;
        for (int i = 0; i < starting.size(); i++) {
            try {
                ServiceRun run = starting.get(i).join();
                started.add(run);
                starts.row(names.get(i), "mesh, " + starting.size() + " at once", 1, Table.millis(run.startMillis()),
                        Table.millis(run.startMillis()));
                if (i == 0) {
                    broker = run;
                } else if (names.get(i).equals(Services.CORE)) {
                    core = run;
                }
            } catch (RuntimeException e) {
                failure = failure != null ? failure : new IllegalStateException(names.get(i) + " did not start: "
                        + e.getCause().getMessage(), e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        awaitRegistered(tiers.size());
        client = CapabilityClient.builder().broker(broker.target()).account(ACCOUNT).build();
        started.add(0, client);
        return names.size() + " services serving";
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

    String stubHop() throws Exception {
        requireMesh();
        byte[] payload = new byte[PAYLOAD_BYTES];
        InvokeRequest request = InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                .setPayload(ByteString.copyFrom(payload)).build();
        RuntimeServiceGrpc.RuntimeServiceBlockingStub plain = RuntimeServiceGrpc.newBlockingStub(core.channel());
        LoadGenerator.Call plainCall = () -> plain.invoke(request);
        paths.add("invoke-plain", "5 runtime Invoke in another process, plain gRPC client",
                "closed loop, 1 caller", closed(plainCall), "raw-tuned");
        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            CapabilityHandle echo = caps.get("core.echo");
            LoadGenerator.Call stubCall = () -> echo.invoke("echo", payload);
            Latency hop = closed(stubCall);
            paths.add("stub-hop", "5 thin stub -> runtime in another process (tracing off)",
                    "closed loop, 1 caller", hop, "raw-tuned");
            paths.add("stub-hop-open", "5 thin stub -> runtime in another process (tracing off), open loop",
                    openHow(), openLoop(stubCall), "raw-tuned-open");
            Latency raw = paths.latency("raw-tuned");
            if (raw != null) {
                double p50 = hop.p50() / raw.p50();
                double p99 = hop.p99() / raw.p99();
                targets.measured(Targets.Goal.HOP, String.format("%.0f us p50 (%.2fx), %.0f us p99 (%.2fx)",
                        hop.p50() / 1e3, p50, hop.p99() / 1e3, p99), p50 <= 1.25 && p99 <= 1.5);
            }
            return "stub hop p50 " + Table.micros(hop.p50()) + " us";
        }
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

    String composition() throws Exception {
        requireMesh();
        if (!mode.composition()) {
            paths.skipped("6 and 7 composition", "not in " + mode.name() + " mode (it starts three more runtimes)");
            return "skipped in " + mode.name() + " mode";
        }
        try (Capabilities caps = client.acquire(Composite.capabilities());
             Composite.Local local = new Composite.Local()) {
            Composite remote = new Composite(caps);
            remote.prepare();
            local.prepare();
            LoadGenerator.Call remoteCall = remote::run;
            LoadGenerator.Call localCall = local::run;
            Latency across = closed(remoteCall);
            Latency inOne = closed(localCall);
            paths.add("composition", "6 composition data -> ml -> crypto, thin stub across 3 runtimes",
                    "closed loop, 1 caller", across, "stub-hop");
            paths.add("composition-local", "7 same composition in one process, direct calls",
                    "closed loop, 1 caller", inOne, "composition");
            Latency hop = paths.latency("stub-hop");
            if (hop != null) {
                double ratio = across.p50() / hop.p50();
                targets.measured(Targets.Goal.COMPOSITION, String.format("%.0f us p50 = %.2fx one hop; broker hops "
                        + "per call after acquire: 0 (calls go to the runtimes' channels)", across.p50() / 1e3,
                        ratio), ratio <= 3.3);
            }
            return "across p50 " + Table.micros(across.p50()) + " us, in one process " + Table.micros(inOne.p50())
                    + " us";
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private Latency closed(LoadGenerator.Call call) throws InterruptedException {
        LoadGenerator.warmUp(call, mode.loadWarmup());
        return LoadGenerator.closedLoop(call, 1, mode.loadDuration());
    }

    private Latency openLoop(LoadGenerator.Call call) throws InterruptedException {
        return LoadGenerator.openLoop(call, openRate(), 4, mode.loadDuration());
    }

    private double openRate() {
        return mode == Mode.SMOKE ? 500 : 1_000;
    }

    private String openHow() {
        return String.format("open loop, %.0f calls/s", openRate());
    }

    private void requireMesh() {
        if (broker == null || core == null) {
            throw new IllegalStateException("the mesh did not start");
        }
    }

    private Path jar(String module) {
        return services.jar(module).orElseThrow(() -> new IllegalStateException(services.whereLooked(module)));
    }

    Table starts() {
        return starts;
    }

    private static CompletableFuture<ServiceRun> launch(Callable start) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return start.call();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    /** Starts one service. */
    @FunctionalInterface
    private interface Callable {
        ServiceRun call() throws Exception;
    }

    @Override
    public void close() throws Exception {
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
