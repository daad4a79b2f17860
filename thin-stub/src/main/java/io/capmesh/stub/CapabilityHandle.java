package io.capmesh.stub;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.stub.Capabilities.Grant;
import io.capmesh.stub.Replicas.Replica;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One acquired capability. Calls go straight to its runtime, never through the broker, and are made resilient:
 * <ol>
 *   <li>the capability's bulkhead admits the call (or it fails with RESOURCE_EXHAUSTED);</li>
 *   <li>an attempt tries the replicas in failover order, each under its own deadline and circuit breaker,
 *       moving to the next one when a replica is UNAVAILABLE or its circuit is open;</li>
 *   <li>when every replica failed, the lease's request is acquired again once and the new replicas tried;</li>
 *   <li>an attempt that ends UNAVAILABLE or RESOURCE_EXHAUSTED is repeated after an exponential backoff;
 *       any other code ends the call at once.</li>
 * </ol>
 * Thread-safe; handles stay valid across re-acquires, following the lease's current replicas.
 */
public final class CapabilityHandle {

    private final Capabilities capabilities;
    private final String name;

    CapabilityHandle(Capabilities capabilities, String name) {
        this.capabilities = capabilities;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** The version the broker granted. */
    public String version() {
        return route().version();
    }

    /** The replicas as {@code host:port}, in failover order: the broker's choice for this account first. */
    public List<String> replicas() {
        return route().replicas().stream().map(Replica::address).toList();
    }

    /**
     * Calls a method of the capability.
     *
     * @throws CapabilityCallException with the final status and every attempt, when no answer could be had
     */
    public byte[] invoke(String method, byte[] payload) {
        return invoke(method, payload, Map.of());
    }

    /** Calls a method with attributes (small string settings the extension reads next to the payload). */
    public byte[] invoke(String method, byte[] payload, Map<String, String> attributes) {
        InvokeRequest request = InvokeRequest.newBuilder().setCapability(name).setMethod(method)
                .setPayload(ByteString.copyFrom(payload)).putAllAttributes(attributes).build();
        Call call = new Call();
        Bulkhead bulkhead = capabilities.client().bulkhead(name);
        if (!bulkhead.tryAcquirePermission()) {
            throw new CapabilityCallException(Status.RESOURCE_EXHAUSTED.withDescription("this client already has "
                    + bulkhead.getBulkheadConfig().getMaxConcurrentCalls() + " calls to " + name
                    + " in flight (its bulkhead)"), name, method, call.attempts);
        }
        try {
            return capabilities.client().retry(name).executeSupplier(() -> attempt(request, call))
                    .getPayload().toByteArray();
        } catch (StatusRuntimeException e) {
            throw new CapabilityCallException(e.getStatus(), name, method, call.attempts);
        } finally {
            bulkhead.onComplete();
        }
    }

    /**
     * A channel for the typed gRPC services of this capability's runtime. Each new call goes to the first replica
     * whose circuit is not open; typed calls are not retried or failed over.
     */
    public Channel channel() {
        return new Channel() {
            @Override
            public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
                return preferred().channel().newCall(method, options);
            }

            @Override
            public String authority() {
                return preferred().channel().authority();
            }
        };
    }

    @Override
    public String toString() {
        return name + " " + version() + " at " + replicas();
    }

    /** What one call has been through, for its error message. */
    private static final class Call {
        final List<String> attempts = new ArrayList<>();
        boolean reacquired;
    }

    /** One try over the replicas, acquiring again once if none answers. */
    private InvokeResponse attempt(InvokeRequest request, Call call) {
        Grant seen = capabilities.current();
        try {
            return overReplicas(seen, request, call);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || call.reacquired) {
                throw e;
            }
            call.reacquired = true;
            Grant fresh;
            try {
                fresh = capabilities.reacquire(seen);
            } catch (CapabilityCallException brokerFailed) {
                call.attempts.add(capabilities.client().brokerTarget() + ": acquiring again failed with "
                        + brokerFailed.code());
                throw e;
            }
            return overReplicas(fresh, request, call);
        }
    }

    private InvokeResponse overReplicas(Grant grant, InvokeRequest request, Call call) {
        long timeout = capabilities.client().attemptTimeout().toNanos();
        for (Replica replica : Capabilities.route(grant, name).replicas()) {
            try {
                return replica.breaker().executeSupplier(() -> RuntimeServiceGrpc.newBlockingStub(replica.channel())
                        .withDeadlineAfter(timeout, TimeUnit.NANOSECONDS).invoke(request));
            } catch (CallNotPermittedException open) {
                call.attempts.add(replica.address() + ": circuit open");
            } catch (StatusRuntimeException e) {
                call.attempts.add(replica.address() + ": " + CapabilityCallException.brief(e.getStatus()));
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    throw e; // the replica answered: another one would answer the same, or do the work twice
                }
            }
        }
        throw Status.UNAVAILABLE.withDescription("no replica of " + name + " answered").asRuntimeException();
    }

    private Replica preferred() {
        List<Replica> replicas = route().replicas();
        return replicas.stream().filter(r -> r.breaker().getState() != CircuitBreaker.State.OPEN).findFirst()
                .orElse(replicas.get(0));
    }

    private Capabilities.Route route() {
        try {
            return Capabilities.route(capabilities.current(), name);
        } catch (StatusRuntimeException e) {
            throw new CapabilityCallException(e.getStatus(), name, "", List.of());
        }
    }
}
