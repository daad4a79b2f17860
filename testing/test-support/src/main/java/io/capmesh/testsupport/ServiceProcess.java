package io.capmesh.testsupport;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * A packaged capmesh service started as its own JVM, as an operator would start it: through the run script of the
 * directory the build prepared beside its jar (tools/service-start, as {@code bin/service} does), or for a jar copied
 * without it with {@code java -jar}, the G1 flags unload verification needs and the exit guard; with its gRPC and
 * management ports on loopback. {@link #start} returns once
 * the service reports SERVING on {@code grpc.health.v1}, and {@link #startTime} says how long that took.
 */
public final class ServiceProcess implements AutoCloseable {

    /** Ports handed out by {@link #freePort} in this JVM: services started at once never get the same one. */
    private static final Set<Integer> GIVEN = new HashSet<>();

    private final Process process;
    private final int port;
    private final int managementPort;
    private final Path log;
    private final ManagedChannel channel;
    private final long launchedNanos = System.nanoTime();
    private Duration startTime;

    private ServiceProcess(Process process, int port, int managementPort, Path log, ChannelCredentials credentials) {
        this.process = process;
        this.port = port;
        this.managementPort = managementPort;
        this.log = log;
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port, credentials).build();
    }

    /** Starts the service jar on a free gRPC port with the given Spring Boot arguments. */
    public static ServiceProcess start(Path jar, Path log, String... args) throws Exception {
        return start(jar, log, freePort(), args);
    }

    /** Starts the service jar on the given gRPC port (to restart a service where its clients expect it). */
    public static ServiceProcess start(Path jar, Path log, int port, String... args) throws Exception {
        return start(jar, log, port, Map.of(), args);
    }

    /** Starts the service jar on a free gRPC port with extra environment variables. */
    public static ServiceProcess start(Path jar, Path log, Map<String, String> environment, String... args)
            throws Exception {
        return start(jar, log, freePort(), environment, args);
    }

    /**
     * Starts the service jar on the given gRPC port for a service that serves TLS: {@link #channel()}, and the
     * wait for SERVING, use these credentials.
     */
    public static ServiceProcess start(Path jar, Path log, int port, ChannelCredentials credentials, String... args)
            throws Exception {
        return start(jar, log, port, Map.of(), credentials, args);
    }

    private static ServiceProcess start(Path jar, Path log, int port, Map<String, String> environment,
                                        String... args) throws Exception {
        return start(jar, log, port, environment, InsecureChannelCredentials.create(), args);
    }

    private static ServiceProcess start(Path jar, Path log, int port, Map<String, String> environment,
                                        ChannelCredentials credentials, String... args) throws Exception {
        int managementPort = freePort();
        Process process = launch(jar, log, port, managementPort, environment, args);
        ServiceProcess service = new ServiceProcess(process, port, managementPort, log, credentials);
        try {
            service.awaitServing(Duration.ofSeconds(180)); // generous: several JVMs may start at once on two busy cores
        } catch (Exception | Error e) {
            service.channel.shutdownNow(); // a start that failed leaves nothing behind: no process, no channel
            throw e;
        }
        return service;
    }

    /**
     * Starts several services at once (a runtime keeps trying to register until its broker listens) and answers
     * them in the order given. When any does not start, the others are stopped and the failure names every one.
     */
    public static List<ServiceProcess> startTogether(List<Callable<ServiceProcess>> starts) throws Exception {
        List<CompletableFuture<ServiceProcess>> starting = starts.stream()
                .map(start -> CompletableFuture.supplyAsync(() -> {
                    try {
                        return start.call();
                    } catch (Exception e) {
                        throw new CompletionException(e);
                    }
                }, task -> new Thread(task, "service-start").start())) // at once, whatever the common pool's size
                .toList();
        List<ServiceProcess> started = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (CompletableFuture<ServiceProcess> start : starting) {
            try {
                started.add(start.join());
            } catch (CompletionException e) {
                failed.add(String.valueOf(e.getCause()));
            }
        }
        if (!failed.isEmpty()) {
            for (ServiceProcess service : started) {
                service.close();
            }
            throw new IllegalStateException("services that did not start: " + String.join("; ", failed));
        }
        return started;
    }

    /**
     * Starts the service jar expecting it to refuse to start (a bad setting, a wrong key): waits for it to exit
     * with a failure and answers everything it printed.
     */
    public static String refusal(Path jar, Path log, Map<String, String> environment, String... args)
            throws Exception {
        Process process = launch(jar, log, freePort(), freePort(), environment, args);
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the service did not stop within 90 s; see " + log);
        }
        if (process.exitValue() == 0) {
            throw new IllegalStateException("the service exited normally; see " + log);
        }
        return Files.readString(log);
    }

    private static Process launch(Path jar, Path log, int port, int managementPort, Map<String, String> environment,
                                  String... args) throws IOException {
        List<String> command = new ArrayList<>();
        // the Java the tests run on, unless the environment names another
        String javaHome = environment.getOrDefault("JAVA_HOME", System.getProperty("java.home"));
        String name = jar.getFileName().toString();
        Path prepared = jar.resolveSibling(name.substring(0, name.length() - ".jar".length())).resolve("run");
        if (Files.isExecutable(prepared)) { // prepared by the build beside the jar: as bin/service starts it
            command.add(prepared.toString());
        } else {
            command.addAll(List.of(Path.of(javaHome, "bin", "java").toString(),
                    "-XX:+UseG1GC", "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxTenuringThreshold=1"));
            Path exitGuard = jar.resolveSibling("capmesh-exit-guard.jar"); // beside a runtime's jar, as prepare finds it
            if (name.endsWith("-runtime-service.jar")) {
                if (!Files.isRegularFile(exitGuard)) { // a runtime never starts unguarded, in tests neither
                    throw new IllegalStateException("missing " + exitGuard + ": copy capmesh-exit-guard beside the"
                            + " runtime jars, as every runtime starts with it");
                }
                command.add("-javaagent:" + exitGuard);
            }
            command.addAll(List.of("-jar", jar.toString()));
        }
        command.addAll(List.of(
                "--spring.grpc.server.address=127.0.0.1",
                "--spring.grpc.server.port=" + port,
                "--server.address=127.0.0.1",
                "--server.port=" + managementPort));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        builder.environment().put("JAVA_HOME", javaHome);
        return builder.start();
    }

    /** A loopback port nothing listens on now, never one this JVM handed out before. */
    public static int freePort() throws IOException {
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

    /** A channel to the service's gRPC port. */
    public ManagedChannel channel() {
        return channel;
    }

    public int port() {
        return port;
    }

    /** The HTTP port of Actuator's endpoints. */
    public int managementPort() {
        return managementPort;
    }

    /** From launching the JVM to its first SERVING answer. */
    public Duration startTime() {
        return startTime;
    }

    private void awaitServing(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the service exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (health.withDeadlineAfter(1, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                    startTime = Duration.ofNanos(System.nanoTime() - launchedNanos);
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet: connect again at the next poll, not after the channel's backoff, which grows
                // to seconds while a JVM starts and would make every start look slower than it was
                channel.resetConnectBackoff();
            }
            Thread.sleep(5); // fine-grained: start times are reported (benchmarks)
        }
        process.destroyForcibly();
        throw new IllegalStateException("the service did not report SERVING within " + timeout + "; see " + log);
    }

    /** Waits for the process to end by itself (a crash, a kill); answers its exit status. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the service still runs after " + timeout + "; see " + log);
        }
        channel.shutdownNow();
        return process.exitValue();
    }

    /** Ends the process at once, as a crash or {@code kill -9} would: nothing gets to flush or say goodbye. */
    public void kill() throws InterruptedException {
        channel.shutdownNow();
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** Stops the process as an operator would (SIGTERM: a graceful shutdown), forcibly after 30 s. */
    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
