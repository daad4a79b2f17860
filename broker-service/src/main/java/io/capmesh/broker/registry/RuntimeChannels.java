package io.capmesh.broker.registry;

import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.ServingState;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One channel per runtime endpoint the broker talks to (loads, health probes), closed when the runtime leaves. */
public final class RuntimeChannels implements AutoCloseable {

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    private final ClientInterceptor tracing;
    private final ChannelCredentials credentials;

    /** Plaintext channels. */
    public RuntimeChannels(RuntimeRegistry registry, ClientInterceptor tracing) {
        this(registry, tracing, InsecureChannelCredentials.create());
    }

    /**
     * @param tracing     passes the trace on to runtimes (a tier-2 load within an acquire)
     * @param credentials TLS (and the broker's client certificate) when the runtimes serve TLS, else plaintext
     */
    public RuntimeChannels(RuntimeRegistry registry, ClientInterceptor tracing, ChannelCredentials credentials) {
        this.tracing = tracing;
        this.credentials = credentials;
        registry.onChange(changes -> changes.each().forEach(change -> {
            if (change.after() == null) {
                close(target(change.before().endpoint()));
            } else if (change.after().effectiveState() == ServingState.SERVING
                    && (change.before() == null || change.before().effectiveState() != ServingState.SERVING)) {
                // a runtime back at an address whose channel is still backing off from its absence: connect now
                ManagedChannel channel = channels.get(target(change.after().endpoint()));
                if (channel != null) {
                    channel.resetConnectBackoff();
                }
            }
        }));
    }

    public ManagedChannel to(Endpoint endpoint) {
        return channels.computeIfAbsent(target(endpoint), t -> NettyChannelBuilder.forTarget(t, credentials)
                .intercept(tracing).build());
    }

    private static String target(Endpoint endpoint) {
        return endpoint.getHost() + ":" + endpoint.getPort();
    }

    private void close(String target) {
        ManagedChannel channel = channels.remove(target);
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    @Override
    public void close() {
        channels.keySet().forEach(this::close);
    }
}
