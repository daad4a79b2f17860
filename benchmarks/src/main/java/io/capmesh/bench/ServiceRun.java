package io.capmesh.bench;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A packaged capmesh service started as its own JVM with {@code bin/service}'s flags, on loopback ports, as
 * test-support's {@code ServiceProcess} does; it also measures how long the service took from launch to
 * reporting SERVING on {@code grpc.health.v1}, polling every 5 ms.
 */
final class ServiceRun implements AutoCloseable {

    private static final Set<Integer> GIVEN = new HashSet<>();

    private final Process process;
    private final int port;
    private final ManagedChannel channel;
    private final long startMillis;

    private ServiceRun(Process process, int port, ManagedChannel channel, long startMillis) {
        this.process = process;
        this.port = port;
        this.channel = channel;
        this.startMillis = startMillis;
    }

    static ServiceRun start(Path jar, Path log, int port, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseG1GC", "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxTenuringThreshold=1",
                "-jar", jar.toString(),
                "--spring.grpc.server.address=127.0.0.1",
                "--spring.grpc.server.port=" + port,
                "--server.address=127.0.0.1",
                "--server.port=0")); // its HTTP side (actuator) on a port of the system's choosing: no race for it
        command.addAll(List.of(args));
        long launched = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            awaitServing(process, channel, log, Duration.ofSeconds(180));
        } catch (Exception e) {
            channel.shutdownNow();
            process.destroyForcibly();
            throw e;
        }
        return new ServiceRun(process, port, channel, (System.nanoTime() - launched) / 1_000_000);
    }

    private static void awaitServing(Process process, ManagedChannel channel, Path log, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the service exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (health.withDeadlineAfter(1, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet: try to connect again at the next poll, not after the channel's backoff (which
                // grows to tens of seconds while a JVM starts, and would be measured as start time)
                channel.resetConnectBackoff();
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("the service did not report SERVING within " + timeout + "; see " + log);
    }

    /** A loopback port nothing listens on, never one this run handed out before (services start in parallel). */
    static int freePort() throws IOException {
        synchronized (GIVEN) {
            while (true) {
                try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    if (GIVEN.add(socket.getLocalPort())) {
                        return socket.getLocalPort();
                    }
                }
            }
        }
    }

    int port() {
        return port;
    }

    String target() {
        return "127.0.0.1:" + port;
    }

    ManagedChannel channel() {
        return channel;
    }

    /** From launching the JVM to SERVING, in milliseconds. */
    long startMillis() {
        return startMillis;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
