package io.capmesh.broker.acquire;

import io.capmesh.broker.registry.RuntimeRegistry;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.LoadRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.Tier;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Loads tier-2 packages through the runtimes' {@code Load} RPC, one channel per runtime endpoint, and records
 * the result in the registry at once so the next acquire sees it loaded without waiting for a heartbeat.
 */
public final class GrpcRuntimeLoader implements RuntimeLoader, AutoCloseable {

    private final RuntimeRegistry registry;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    public GrpcRuntimeLoader(RuntimeRegistry registry) {
        this.registry = registry;
        registry.onChange(change -> {
            if (change.after() == null) {
                close(change.before().endpoint().getHost() + ":" + change.before().endpoint().getPort());
            }
        });
    }

    @Override
    public void load(RuntimeRegistry.Runtime runtime, String extensionId, Duration timeout) {
        String target = runtime.endpoint().getHost() + ":" + runtime.endpoint().getPort();
        ManagedChannel channel = channels.computeIfAbsent(target,
                t -> NettyChannelBuilder.forTarget(t).usePlaintext().build());
        RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .load(LoadRequest.newBuilder().setExtensionId(extensionId).build());
        registry.updateOffers(runtime.id(), runtime.offers().stream()
                .map(offer -> offer.getExtensionId().equals(extensionId)
                        ? offer.toBuilder().setTier(Tier.TIER_LOADED).build() : offer)
                .toList());
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
