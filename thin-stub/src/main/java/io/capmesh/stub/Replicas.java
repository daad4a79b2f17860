package io.capmesh.stub;

import io.capmesh.proto.v1.Endpoint;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The runtime endpoints this client has been handed: one channel and one circuit breaker each, shared by every
 * lease, so a replica's health learned through one lease protects the others and connections are reused.
 */
final class Replicas implements AutoCloseable {

    /** A runtime endpoint: where calls go and whether they may go there now. */
    record Replica(String address, ManagedChannel channel, CircuitBreaker breaker) {
    }

    private final Map<String, Replica> byAddress = new ConcurrentHashMap<>();
    private final CircuitBreakerRegistry breakers;
    private final Consumer<ManagedChannelBuilder<?>> channels;
    private final ChannelCredentials credentials;
    private final int connectTimeoutMillis;

    Replicas(CircuitBreakerRegistry breakers, Consumer<ManagedChannelBuilder<?>> channels,
             ChannelCredentials credentials, Duration connectTimeout) {
        this.breakers = breakers;
        this.channels = channels;
        this.credentials = credentials;
        this.connectTimeoutMillis = Math.toIntExact(connectTimeout.toMillis());
    }

    Replica of(Endpoint endpoint) {
        return byAddress.computeIfAbsent(address(endpoint.getHost(), endpoint.getPort()), address -> {
            // a replica that vanished (its host gone, not refusing) must fail the attempt UNAVAILABLE, and so fail
            // over, well before the attempt's deadline: Netty's own connect timeout is 30 s
            ManagedChannelBuilder<?> builder = NettyChannelBuilder
                    .forAddress(endpoint.getHost(), endpoint.getPort(), credentials)
                    .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
            channels.accept(builder);
            return new Replica(address, builder.build(), breakers.circuitBreaker(address));
        });
    }

    static String address(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public void close() {
        byAddress.values().forEach(r -> r.channel().shutdown());
        for (Replica replica : byAddress.values()) {
            try {
                if (!replica.channel().awaitTermination(2, TimeUnit.SECONDS)) {
                    replica.channel().shutdownNow();
                }
            } catch (InterruptedException e) {
                replica.channel().shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
