package io.capmesh.broker.acquire;

import io.capmesh.broker.registry.RuntimeChannels;
import io.capmesh.broker.registry.RuntimeRegistry;
import io.capmesh.proto.v1.LoadRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.Tier;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Loads tier-2 packages through the runtimes' {@code Load} RPC, and records the result in the registry at once
 * so the next acquire sees it loaded without waiting for a heartbeat.
 */
public final class GrpcRuntimeLoader implements RuntimeLoader {

    private final RuntimeRegistry registry;
    private final RuntimeChannels channels;

    public GrpcRuntimeLoader(RuntimeRegistry registry, RuntimeChannels channels) {
        this.registry = registry;
        this.channels = channels;
    }

    @Override
    public void load(RuntimeRegistry.Runtime runtime, String extensionId, Duration timeout) {
        RuntimeServiceGrpc.newBlockingStub(channels.to(runtime.endpoint()))
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .load(LoadRequest.newBuilder().setExtensionId(extensionId).build());
        registry.updateOffers(runtime.id(), runtime.offers().stream()
                .map(offer -> offer.getExtensionId().equals(extensionId)
                        ? offer.toBuilder().setTier(Tier.TIER_LOADED).build() : offer)
                .toList());
    }
}
