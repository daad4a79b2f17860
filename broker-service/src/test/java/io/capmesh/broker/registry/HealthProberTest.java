package io.capmesh.broker.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.broker.store.Database;
import io.capmesh.proto.v1.Endpoint;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class HealthProberTest {

    @Test
    void aRuntimeThatHeartbeatsButDoesNotServeIsNotHealthy() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService()).build().start();
        RuntimeRegistry registry = registry();
        try (RuntimeChannels channels = new RuntimeChannels(registry, io.capmesh.telemetry.Tracing.off().clientInterceptor())) {
            HealthProber prober = new HealthProber(registry, channels, Duration.ofSeconds(2));
            registry.register("rt", "core", Endpoint.newBuilder().setHost("127.0.0.1").setPort(server.getPort()).build(),
                    List.of());

            prober.probeAll();
            await(() -> registry.get("rt").orElseThrow().reachable());
            assertThat(registry.get("rt").orElseThrow().healthy()).isTrue();

            health.setStatus("", ServingStatus.NOT_SERVING);
            prober.probeAll();
            await(() -> !registry.get("rt").orElseThrow().reachable());
            assertThat(registry.get("rt").orElseThrow().healthy()).isFalse();

            health.setStatus("", ServingStatus.SERVING);
            prober.probeAll();
            await(() -> registry.get("rt").orElseThrow().healthy());

            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            prober.probeAll();
            await(() -> !registry.get("rt").orElseThrow().healthy());
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void aRuntimeBackAtItsAddressIsHealthyAtOnceThoughTheChannelWasBackingOff() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService()).build().start();
        int port = server.getPort();
        Endpoint endpoint = Endpoint.newBuilder().setHost("127.0.0.1").setPort(port).build();
        RuntimeRegistry registry = registry();
        Server back = null;
        try (RuntimeChannels channels = new RuntimeChannels(registry, io.capmesh.telemetry.Tracing.off().clientInterceptor())) {
            HealthProber prober = new HealthProber(registry, channels, Duration.ofSeconds(1));
            registry.register("rt", "core", endpoint, List.of());
            prober.probeAll().get(5, TimeUnit.SECONDS);
            assertThat(registry.get("rt").orElseThrow().healthy()).isTrue();

            // the runtime dies for about 6 s: probes fail while the channel's reconnect backoff grows past 3 s
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            for (int i = 0; i < 6; i++) {
                prober.probeAll().get(5, TimeUnit.SECONDS);
            }
            assertThat(registry.get("rt").orElseThrow().healthy()).isFalse();

            // it comes back on the same port and registers: the next probe must find it serving
            back = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                    .addService(health.getHealthService()).build().start();
            registry.register("rt", "core", endpoint, List.of());
            prober.probeAll().get(5, TimeUnit.SECONDS);
            assertThat(registry.get("rt").orElseThrow().healthy()).as("healthy after its first probe back").isTrue();
        } finally {
            server.shutdownNow();
            if (back != null) {
                back.shutdownNow();
            }
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static RuntimeRegistry registry() {
        Database store = Database.open("jdbc:sqlite::memory:", null, null);
        return new RuntimeRegistry(new RuntimeStore(store), Clock.systemUTC(), Duration.ofMinutes(1),
                Duration.ofMinutes(2), Duration.ofMinutes(1), "broker-test");
    }
}
