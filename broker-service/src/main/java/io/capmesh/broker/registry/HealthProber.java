package io.capmesh.broker.registry;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Asks every known runtime's {@code grpc.health.v1} whether it serves, besides listening to its heartbeats: a
 * runtime that still heartbeats but answers NOT_SERVING (draining, its server stuck) or not at all gets no new
 * leases until it answers SERVING again.
 */
public final class HealthProber {

    private final RuntimeRegistry registry;
    private final RuntimeChannels channels;
    private final Duration timeout;

    public HealthProber(RuntimeRegistry registry, RuntimeChannels channels, Duration timeout) {
        this.registry = registry;
        this.channels = channels;
        this.timeout = timeout;
    }

    /**
     * Probes the runtimes whose heartbeats this broker replica hears, all at once (each runtime is probed by one
     * replica, so replicas never disagree about it); each answer updates the registry when it arrives.
     *
     * @return completes when every answer (or its timeout) has been recorded
     */
    public CompletableFuture<Void> probeAll() {
        List<CompletableFuture<Void>> answers = new ArrayList<>();
        for (RuntimeRegistry.Runtime runtime : registry.heardHere()) {
            CompletableFuture<Void> answered = new CompletableFuture<>();
            answers.add(answered);
            // wait-for-ready: a channel still backing off from a runtime that was down must not fail the probe
            // of one that is back; only no answer within the timeout counts as not serving
            HealthGrpc.newStub(channels.to(runtime.endpoint())).withWaitForReady()
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .check(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
                        @Override
                        public void onNext(HealthCheckResponse response) {
                            registry.probed(runtime.id(),
                                    response.getStatus() == HealthCheckResponse.ServingStatus.SERVING);
                            answered.complete(null);
                        }

                        @Override
                        public void onError(Throwable t) {
                            registry.probed(runtime.id(), false);
                            answered.complete(null);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new));
    }
}
