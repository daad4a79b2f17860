package io.capmesh.crypto;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged crypto runtime service as a separate JVM on a loopback port, as an operator would start it. */
final class RuntimeProcess implements AutoCloseable {

    private final Process process;
    private final ManagedChannel channel;
    private final Path log;

    private RuntimeProcess(Process process, int port, Path log) {
        this.process = process;
        this.log = log;
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    /** Starts the service jar with its data in {@code dataDir} and waits until it reports SERVING. */
    static RuntimeProcess start(Path dataDir, Map<String, String> environment) throws Exception {
        int port = freePort();
        Path log = dataDir.resolveSibling(dataDir.getFileName() + "-" + port + ".log");
        RuntimeProcess runtime = new RuntimeProcess(launch(dataDir, environment, port, log), port, log);
        runtime.awaitServing(Duration.ofSeconds(60));
        return runtime;
    }

    /** Starts the service jar expecting it to refuse to start; returns everything it printed. */
    static String refusal(Path dataDir, Map<String, String> environment) throws Exception {
        int port = freePort();
        Path log = dataDir.resolveSibling(dataDir.getFileName() + "-" + port + "-refused.log");
        Process process = launch(dataDir, environment, port, log);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the runtime did not stop within 60 s; see " + log);
        }
        if (process.exitValue() == 0) {
            throw new IllegalStateException("the runtime exited normally; see " + log);
        }
        return Files.readString(log);
    }

    private static Process launch(Path dataDir, Map<String, String> environment, int port, Path log)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseG1GC", "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxTenuringThreshold=1",
                "-jar", System.getProperty("capmesh.service.jar"),
                "--spring.grpc.server.address=127.0.0.1",
                "--spring.grpc.server.port=" + port,
                "--server.port=0",
                "--capmesh.runtime.data-dir=" + dataDir));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().remove("CAPMESH_CRYPTO_MASTER_KEY");
        builder.environment().putAll(environment);
        return builder.start();
    }

    ManagedChannel channel() {
        return channel;
    }

    Path log() {
        return log;
    }

    private void awaitServing(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the runtime exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (health.withDeadlineAfter(1, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the runtime did not report SERVING within " + timeout + "; see " + log);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
