package io.capmesh.stub;

import com.google.protobuf.ByteString;
import io.capmesh.proto.client.CallHeaders;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.stub.Capabilities.Grant;
import io.capmesh.stub.Replicas.Replica;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.capmesh.telemetry.CapmeshAttributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

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
        return call(method, channel -> RuntimeServiceGrpc.newBlockingStub(channel).invoke(request))
                .getPayload().toByteArray();
    }

    /**
     * Calls a typed gRPC service of this capability's runtime under the same policies as {@link #invoke}: the
     * bulkhead, a deadline per attempt, failover across replicas, re-acquiring and retries. {@code call} makes
     * one unary call on the channel it is given, for example:
     *
     * <pre>{@code
     * QueryResult rows = data.call("query", channel -> SqlGrpc.newBlockingStub(channel).query(request));
     * }</pre>
     *
     * @param method names the call in errors and traces
     * @throws CapabilityCallException with the final status and every attempt, when no answer could be had
     */
    public <T> T call(String method, Function<Channel, T> call) {
        Span span = capabilities.client().tracer().spanBuilder(name + "/" + method)
                .setAttribute(CapmeshAttributes.CAPABILITY, name)
                .setAttribute(CapmeshAttributes.METHOD, method)
                .startSpan();
        Attempts attempts = new Attempts();
        Bulkhead bulkhead = capabilities.client().bulkhead(name);
        try (Scope ignored = span.makeCurrent()) {
            if (!bulkhead.tryAcquirePermission()) {
                throw new CapabilityCallException(Status.RESOURCE_EXHAUSTED.withDescription("this client already "
                        + "has " + bulkhead.getBulkheadConfig().getMaxConcurrentCalls() + " calls to " + name
                        + " in flight (its bulkhead)"), name, method, attempts.failed);
            }
            try {
                return capabilities.client().retry(name).executeSupplier(() -> attempt(call, attempts));
            } catch (StatusRuntimeException e) {
                throw new CapabilityCallException(e.getStatus(), name, method, attempts.failed);
            } finally {
                bulkhead.onComplete();
            }
        } catch (CapabilityCallException e) {
            span.setStatus(StatusCode.ERROR, e.code().name());
            throw e;
        } finally {
            if (!attempts.failed.isEmpty()) {
                span.setAttribute("capmesh.failed_attempts", String.join("; ", attempts.failed));
            }
            span.end();
        }
    }

    /**
     * A channel for the typed gRPC services of this capability's runtime. Each new call goes to the first replica
     * whose circuit is not open; calls made on it directly are not retried or failed over (see {@link #call}).
     */
    public Channel channel() {
        return new Channel() {
            @Override
            public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
                return withLease(preferred().channel(), capabilities.current()).newCall(method, options);
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

    /** What one call has been through, for its error message and its span. */
    private static final class Attempts {
        final List<String> failed = new ArrayList<>();
        boolean reacquired;
    }

    /** One try over the replicas, acquiring again once if none answers. */
    private <T> T attempt(Function<Channel, T> call, Attempts attempts) {
        Grant seen = capabilities.current();
        try {
            return overReplicas(seen, call, attempts);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempts.reacquired) {
                throw e;
            }
            attempts.reacquired = true;
            Grant fresh;
            try {
                fresh = capabilities.reacquire(seen);
            } catch (CapabilityCallException brokerFailed) {
                attempts.failed.add(capabilities.client().brokerTarget() + ": acquiring again failed with "
                        + brokerFailed.code());
                throw e;
            }
            return overReplicas(fresh, call, attempts);
        }
    }

    private <T> T overReplicas(Grant grant, Function<Channel, T> call, Attempts attempts) {
        ClientInterceptor deadline = attemptDeadline(capabilities.client().attemptTimeout().toNanos());
        for (Replica replica : Capabilities.route(grant, name).replicas()) {
            try {
                T answer = replica.breaker().executeSupplier(
                        () -> call.apply(ClientInterceptors.intercept(withLease(replica.channel(), grant), deadline)));
                Span.current().setAttribute(CapmeshAttributes.REPLICA, replica.address());
                return answer;
            } catch (CallNotPermittedException open) {
                attempts.failed.add(replica.address() + ": circuit open");
            } catch (StatusRuntimeException e) {
                attempts.failed.add(replica.address() + ": " + CapabilityCallException.brief(e.getStatus()));
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    throw e; // the replica answered: another one would answer the same, or do the work twice
                }
            }
        }
        throw Status.UNAVAILABLE.withDescription("no replica of " + name + " answered").asRuntimeException();
    }

    /** Calls carry the lease's token where the broker signs one, for runtimes that check leases. */
    private static Channel withLease(Channel channel, Grant grant) {
        if (grant.leaseToken().isEmpty()) {
            return channel;
        }
        Metadata lease = new Metadata();
        lease.put(CallHeaders.LEASE, grant.leaseToken());
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(lease));
    }

    /** Each call of an attempt ends by the attempt's deadline (or the caller's, when that comes first). */
    private static ClientInterceptor attemptDeadline(long nanos) {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                                                         Channel next) {
                Deadline attempt = Deadline.after(nanos, TimeUnit.NANOSECONDS);
                Deadline given = options.getDeadline();
                return next.newCall(method, options.withDeadline(given == null ? attempt : given.minimum(attempt)));
            }
        };
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
