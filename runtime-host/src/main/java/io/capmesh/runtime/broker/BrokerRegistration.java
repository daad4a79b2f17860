package io.capmesh.runtime.broker;

import io.capmesh.access.Revocations;
import io.capmesh.proto.v1.Capability;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.DeregisterRequest;
import io.capmesh.proto.v1.Dependency;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.HeartbeatRequest;
import io.capmesh.proto.v1.HeartbeatResponse;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.RuntimeListener;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a broker informed about this runtime: registers once the server listens, heartbeats with the current
 * offers (loaded capabilities as tier 1, available packages as tier 2), re-registers when the broker has
 * forgotten it (it restarted), tells it at once when the offers change, and deregisters on shutdown. A broker
 * that is down only delays this; calls to the runtime never depend on it.
 */
public final class BrokerRegistration implements RuntimeListener, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BrokerRegistration.class.getName());
    private static final Duration RPC_DEADLINE = Duration.ofSeconds(3);

    /** How this runtime introduces itself. */
    public record Identity(String runtimeId, String tier, String host, int port) {
    }

    private final ManagedChannel channel;
    private final CapabilityBrokerGrpc.CapabilityBrokerBlockingStub broker;
    private final ExtensionRuntime runtime;
    private final Identity identity;
    private final ScheduledExecutorService timer;
    private final Revocations revocations;
    private volatile Duration interval = Duration.ofSeconds(2);
    private volatile boolean registered;
    private volatile boolean warned;
    private volatile boolean closed;
    private ScheduledFuture<?> beat;

    /** @param revocations where the leases the broker says were released go, for the access check to refuse */
    public BrokerRegistration(ManagedChannel channel, ExtensionRuntime runtime, Identity identity,
                              ScheduledExecutorService timer, Revocations revocations) {
        this.revocations = revocations;
        this.channel = channel;
        this.broker = CapabilityBrokerGrpc.newBlockingStub(channel);
        this.runtime = runtime;
        this.identity = identity;
        this.timer = timer;
    }

    /** Registers (or keeps trying to) and starts heartbeating. */
    public synchronized void start() {
        runtime.addListener(this);
        schedule(0);
    }

    private synchronized void schedule(long delayMillis) {
        if (closed) {
            return;
        }
        if (beat != null) {
            beat.cancel(false);
        }
        beat = timer.schedule(this::beat, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void beat() {
        try {
            if (!registered) {
                register();
            } else {
                HeartbeatResponse answer = broker.withDeadlineAfter(RPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .heartbeat(HeartbeatRequest.newBuilder().setRuntimeId(identity.runtimeId())
                                .setState(ServingState.SERVING).addAllOffers(offers()).build());
                answer.getRevokedLeasesList().forEach(revoked -> revocations.revoke(revoked.getLeaseId(),
                        Instant.ofEpochSecond(revoked.getExpiresAt().getSeconds(), revoked.getExpiresAt().getNanos())));
                revocations.forgetExpired(Instant.now());
                if (answer.getReRegister()) {
                    register();
                }
            }
            warned = false;
        } catch (StatusRuntimeException e) {
            registered = false;
            // the beat is the retry schedule: without this, gRPC's reconnect backoff (growing to two minutes)
            // would keep this runtime unregistered long after a broker that was down is back
            channel.resetConnectBackoff();
            if (!warned) {
                warned = true;
                LOG.log(Level.WARNING, "cannot reach the broker (" + e.getStatus() + "); retrying every "
                        + interval.toMillis() + " ms");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "heartbeat failed", e);
        }
        schedule(interval.toMillis());
    }

    private void register() {
        var response = broker.withDeadlineAfter(RPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .register(RegisterRequest.newBuilder()
                        .setRuntimeId(identity.runtimeId())
                        .setRuntimeTier(identity.tier())
                        .setEndpoint(Endpoint.newBuilder().setHost(identity.host()).setPort(identity.port())
                                .setRuntimeId(identity.runtimeId()))
                        .addAllOffers(offers())
                        .build());
        if (response.getHeartbeatIntervalMillis() > 0) {
            interval = Duration.ofMillis(response.getHeartbeatIntervalMillis());
        }
        registered = true;
        LOG.log(Level.INFO, "registered with the broker as " + identity.runtimeId() + "; heartbeat every "
                + interval.toMillis() + " ms");
    }

    /** What this runtime offers now. */
    List<CapabilityOffer> offers() {
        List<CapabilityOffer> offers = new ArrayList<>();
        for (LoadedExtension ext : runtime.extensions()) {
            offers.addAll(offers(ext.manifest(), Tier.TIER_LOADED, ext.loadMicros()));
        }
        for (ExtensionRuntime.Available available : runtime.available()) {
            offers.addAll(offers(available.pkg().manifest(), Tier.TIER_LOADABLE, available.estimatedLoadMicros()));
        }
        return offers;
    }

    private static List<CapabilityOffer> offers(ExtensionManifest manifest, Tier tier, long loadMicros) {
        List<Dependency> dependencies = manifest.dependencies().stream()
                .map(d -> Dependency.newBuilder().setCapability(d.capability())
                        .setVersionRange(d.versionRange() == null ? "" : d.versionRange()).build())
                .toList();
        return manifest.capabilities().stream().map(c -> CapabilityOffer.newBuilder()
                .setCapability(Capability.newBuilder().setName(c.name()).setVersion(c.version())
                        .addAllMethods(new TreeSet<>(c.methods())))
                .setTier(tier)
                .setExtensionId(manifest.id())
                .setLoadMicros(loadMicros)
                .addAllDependencies(dependencies)
                .build()).toList();
    }

    @Override
    public void published(LoadedExtension current, LoadedExtension replaced) {
        offersChanged();
    }

    @Override
    public void unpublished(LoadedExtension previous) {
        offersChanged();
    }

    private void offersChanged() {
        if (registered) {
            schedule(0); // tell the broker now rather than at the next beat
        }
    }

    /** Stops heartbeating and tells the broker this runtime is leaving. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (beat != null) {
                beat.cancel(false);
            }
        }
        if (registered) {
            try {
                broker.withDeadlineAfter(RPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .deregister(DeregisterRequest.newBuilder().setRuntimeId(identity.runtimeId()).build());
            } catch (StatusRuntimeException e) {
                LOG.log(Level.WARNING, "could not deregister from the broker: " + e.getStatus());
            }
        }
        channel.shutdownNow();
    }
}
