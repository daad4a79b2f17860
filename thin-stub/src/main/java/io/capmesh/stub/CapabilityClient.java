package io.capmesh.stub;

import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.client.BrokerChannels;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityBrokerGrpc.CapabilityBrokerBlockingStub;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.telemetry.Tracing;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The entry point of a thin stub: asks the broker once for capabilities, then calls their runtimes directly.
 *
 * <pre>{@code
 * try (CapabilityClient client = CapabilityClient.builder().broker("127.0.0.1:9090").account("acme").build();
 *      Capabilities caps = client.acquire(Acquire.require("core.json", "^1"))) {
 *     byte[] canonical = caps.get("core.json").invoke("canonicalize", json);
 * }
 * }</pre>
 *
 * <p>Every call to a runtime has a per-attempt deadline, a circuit breaker per replica, a bulkhead per capability,
 * failover to the capability's other replicas, and retries with exponential backoff on the codes where trying
 * again can help (see {@link Builder}). One client is meant to live as long as the application: its channels
 * are shared by every lease and closed with it. It is thread-safe.
 */
public final class CapabilityClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CapabilityClient.class.getName());
    /** How long a retried broker call waits for the reconnection after a broker restart. */
    private static final Duration RECONNECT_WAIT = Duration.ofSeconds(1);

    private final String brokerTarget;
    private final String account;
    private final ManagedChannel broker;
    private final Duration brokerTimeout;
    private final Duration attemptTimeout;
    private final Replicas replicas;
    private final RetryRegistry retries;
    private final BulkheadRegistry bulkheads;
    private final ScheduledExecutorService renewals;
    private final Tracer tracer;
    private final Set<Capabilities> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private CapabilityClient(Builder builder) {
        this.brokerTarget = builder.broker;
        this.account = builder.account;
        this.tracer = builder.openTelemetry.getTracer(Tracing.INSTRUMENTATION);
        // without tracing the interceptor would record nothing, yet still cost every call its bookkeeping
        ClientInterceptor tracing = builder.openTelemetry == OpenTelemetry.noop() ? null
                : GrpcTelemetry.create(builder.openTelemetry).createClientInterceptor();
        Consumer<ManagedChannelBuilder<?>> channels = channel -> {
            builder.channels.accept(channel);
            if (tracing != null) {
                channel.intercept(tracing);
            }
        };
        ManagedChannelBuilder<?> channel = BrokerChannels.builder(builder.broker, builder.credentials,
                BrokerChannels.Balancing.ROUND_ROBIN);
        channels.accept(channel);
        this.broker = channel.build();
        this.brokerTimeout = builder.brokerTimeout;
        this.attemptTimeout = builder.attemptTimeout;
        this.replicas = new Replicas(CircuitBreakerRegistry.of(CircuitBreakerConfig.from(builder.circuitBreaker)
                .recordException(CapabilityClient::replicaFailure).build()), channels, builder.credentials,
                builder.connectTimeout);
        this.retries = RetryRegistry.of(RetryConfig.custom()
                .maxAttempts(builder.maxAttempts)
                .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(builder.initialBackoff, 2.0, 0.5,
                        builder.maxBackoff))
                .retryOnException(CapabilityClient::retryable)
                .build());
        this.bulkheads = BulkheadRegistry.of(builder.bulkhead);
        this.renewals = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "capmesh-lease-renewal");
            thread.setDaemon(true);
            return thread;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every capability the broker knows. */
    public List<CatalogEntry> list() {
        return list("");
    }

    /** The capabilities whose names start with a prefix, e.g. {@code "core."}. */
    public List<CatalogEntry> list(String namePrefix) {
        ListCapabilitiesRequest request = ListCapabilitiesRequest.newBuilder().setNamePrefix(namePrefix).build();
        return callBroker("List", namePrefix.isEmpty() ? "catalog" : namePrefix + "*", Duration.ZERO,
                broker -> broker.list(request)).getCapabilitiesList().stream().map(CatalogEntry::of).toList();
    }

    /**
     * Asks the broker for capabilities and returns them leased: renewed in the background until closed.
     *
     * @throws CapabilityCallException when a required capability cannot be had (with every reason) or the broker
     *                                 does not answer
     */
    public Capabilities acquire(Acquire acquire) {
        AcquireRequest request = acquire.toRequest(account);
        AcquireResponse granted = acquire(request, acquire.names());
        Capabilities capabilities = new Capabilities(this, request, acquire.names(), granted);
        open.add(capabilities);
        if (closed.get()) { // closed meanwhile: do not leave a lease behind
            capabilities.close();
            throw closedClient(acquire.names(), "CapabilityBroker/Acquire");
        }
        capabilities.renewInBackground();
        return capabilities;
    }

    /** Releases every lease still open and closes every channel. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List.copyOf(open).forEach(Capabilities::close);
        renewals.shutdownNow();
        replicas.close();
        broker.shutdown();
        try {
            if (!broker.awaitTermination(2, TimeUnit.SECONDS)) {
                broker.shutdownNow();
            }
        } catch (InterruptedException e) {
            broker.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "CapabilityClient[broker=" + brokerTarget + ", account=" + account + "]";
    }

    AcquireResponse acquire(AcquireRequest request, String names) {
        if (closed.get()) {
            throw closedClient(names, "CapabilityBroker/Acquire");
        }
        return callBroker("Acquire", names, Duration.ofMillis(request.getTimeoutMillis()),
                broker -> broker.acquire(request));
    }

    /** Best effort: a lease that cannot be released expires on its own. */
    void release(String leaseId) {
        try {
            callBroker("Release", "lease " + leaseId, Duration.ZERO, broker -> broker.release(
                    ReleaseRequest.newBuilder().setLeaseId(leaseId).setAccount(account).build()));
        } catch (CapabilityCallException e) {
            if (e.code() != Status.Code.NOT_FOUND) { // NOT_FOUND: it expired already
                LOG.log(Level.WARNING, "Could not release lease {0} at {1} ({2}); it expires on its own", leaseId,
                        brokerTarget, CapabilityCallException.brief(e.status()));
            }
        }
    }

    /**
     * One call to the broker, under the broker timeout plus {@code extra}. A broker that just restarted finds this
     * client's channel still backing off from the outage, so a call would fail at once: an UNAVAILABLE call
     * reconnects now and tries once more, waiting a moment for the connection. When nothing answers then either,
     * the first failure is what the caller sees.
     */
    <T> T atBroker(Duration extra, Function<CapabilityBrokerBlockingStub, T> call) {
        Duration timeout = brokerTimeout.plus(extra);
        try {
            return call.apply(brokerStub(timeout));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                throw e;
            }
            broker.resetConnectBackoff();
            try {
                return call.apply(brokerStub(RECONNECT_WAIT.compareTo(timeout) < 0 ? RECONNECT_WAIT : timeout)
                        .withWaitForReady());
            } catch (StatusRuntimeException again) {
                throw again.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED ? e : again;
            }
        }
    }

    private CapabilityBrokerBlockingStub brokerStub(Duration timeout) {
        return CapabilityBrokerGrpc.newBlockingStub(broker).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    String account() {
        return account;
    }

    String brokerTarget() {
        return brokerTarget;
    }

    Duration attemptTimeout() {
        return attemptTimeout;
    }

    Tracer tracer() {
        return tracer;
    }

    Replicas replicas() {
        return replicas;
    }

    Retry retry(String capability) {
        return retries.retry(capability);
    }

    Bulkhead bulkhead(String capability) {
        return bulkheads.bulkhead(capability);
    }

    ScheduledExecutorService renewals() {
        return renewals;
    }

    void forget(Capabilities capabilities) {
        open.remove(capabilities);
    }

    private <T> T callBroker(String method, String subject, Duration extra, Function<CapabilityBrokerBlockingStub, T> call) {
        try {
            return atBroker(extra, call);
        } catch (StatusRuntimeException e) {
            throw new CapabilityCallException(e.getStatus(), subject, "CapabilityBroker/" + method,
                    List.of(brokerTarget + ": " + e.getStatus().getCode()));
        }
    }

    private CapabilityCallException closedClient(String subject, String method) {
        return new CapabilityCallException(Status.FAILED_PRECONDITION.withDescription("the client is closed"),
                subject, method, List.of());
    }

    /** Codes where trying again, after a pause, can succeed: nothing answered, or the runtime shed load. */
    static boolean retryable(Throwable failure) {
        return failure instanceof StatusRuntimeException e && (e.getStatus().getCode() == Status.Code.UNAVAILABLE
                || e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED);
    }

    /**
     * What counts against a replica's circuit breaker: it did not answer, or not in time. Answers such as
     * NOT_FOUND or INVALID_ARGUMENT come from a healthy replica and count as successes.
     */
    static boolean replicaFailure(Throwable failure) {
        return failure instanceof StatusRuntimeException e && (e.getStatus().getCode() == Status.Code.UNAVAILABLE
                || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED);
    }

    /**
     * How the client reaches the broker and how it calls runtimes. Defaults:
     * <ul>
     *   <li>attempt timeout 10 s: the deadline of each attempt (the runtime stops the work when it passes);</li>
     *   <li>retry: 3 attempts, exponential backoff from 100 ms doubling to at most 2 s (jittered by half), on
     *       UNAVAILABLE and RESOURCE_EXHAUSTED only. An attempt tries the replicas in the broker's failover order,
     *       moving on at once when one is UNAVAILABLE or its circuit is open; any other code ends the call, since
     *       the runtime may have done the work;</li>
     *   <li>circuit breaker per replica: over the last 20 calls (at least 10), opens at 50 % failures, stays open
     *       5 s, then lets 3 trial calls through. Only UNAVAILABLE and DEADLINE_EXCEEDED count as failures;</li>
     *   <li>bulkhead per capability: 64 calls in flight from this client, a further call waits up to 500 ms;</li>
     *   <li>broker timeout 5 s for List, Renew and Release (Acquire adds its own timeout);</li>
     *   <li>connect timeout 2 s to a runtime, then the next replica;</li>
     *   <li>channels in plaintext (see {@link #tls} and {@link #mtls});</li>
     *   <li>no tracing.</li>
     * </ul>
     */
    public static final class Builder {

        private String broker;
        private String account;
        private Duration attemptTimeout = Duration.ofSeconds(10);
        private int maxAttempts = 3;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(2);
        private CircuitBreakerConfig circuitBreaker = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(20)
                .minimumNumberOfCalls(10)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(5))
                .permittedNumberOfCallsInHalfOpenState(3)
                .build();
        private BulkheadConfig bulkhead = BulkheadConfig.custom()
                .maxConcurrentCalls(64)
                .maxWaitDuration(Duration.ofMillis(500))
                .build();
        private Duration brokerTimeout = Duration.ofSeconds(5);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private Consumer<ManagedChannelBuilder<?>> channels = channel -> { };
        private ChannelCredentials credentials = InsecureChannelCredentials.create();
        private OpenTelemetry openTelemetry = OpenTelemetry.noop();

        private Builder() {
        }

        /**
         * Where the broker is: {@code "127.0.0.1:9090"}; several replicas, {@code "10.0.0.1:9090,10.0.0.2:9090"};
         * or a name that resolves to every replica, {@code "dns:///broker.capmesh:9090"}. Calls spread over the
         * replicas and one that finds its replica gone is tried on another.
         */
        public Builder broker(String target) {
            this.broker = Objects.requireNonNull(target, "target");
            return this;
        }

        /** The account every lease belongs to; the broker routes each account to its own replica. */
        public Builder account(String account) {
            this.account = Objects.requireNonNull(account, "account");
            return this;
        }

        /** The deadline of each attempt at a runtime. */
        public Builder attemptTimeout(Duration timeout) {
            this.attemptTimeout = positive(timeout, "attemptTimeout");
            return this;
        }

        /** How often a call is attempted in all (1: never retried) and the bounds of the backoff between tries. */
        public Builder retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            this.initialBackoff = positive(initialBackoff, "initialBackoff");
            this.maxBackoff = positive(maxBackoff, "maxBackoff");
            return this;
        }

        /**
         * The circuit breaker of each replica. Which failures count is not taken from it: only UNAVAILABLE and
         * DEADLINE_EXCEEDED say something about a replica's health.
         */
        public Builder circuitBreaker(CircuitBreakerConfig perReplica) {
            this.circuitBreaker = Objects.requireNonNull(perReplica, "perReplica");
            return this;
        }

        /** The bulkhead of each capability: how many calls from this client may be in flight to it. */
        public Builder bulkhead(BulkheadConfig perCapability) {
            this.bulkhead = Objects.requireNonNull(perCapability, "perCapability");
            return this;
        }

        /** The deadline of List, Renew and Release at the broker, and what Acquire gets on top of its timeout. */
        public Builder brokerTimeout(Duration timeout) {
            this.brokerTimeout = positive(timeout, "brokerTimeout");
            return this;
        }

        /**
         * How long connecting to a runtime may take before the attempt moves to the next replica. A host that is
         * gone (a deleted pod, a powered-off machine) answers nothing at all, so without this bound a reconnect
         * would wait out the attempt's deadline instead of failing over.
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Configures every channel, to the broker and to each runtime: interceptors, message limits. Security is
         * not set here but with {@link #tls}, {@link #mtls} or {@link #credentials}.
         */
        public Builder channels(Consumer<ManagedChannelBuilder<?>> configurer) {
            this.channels = Objects.requireNonNull(configurer, "configurer");
            return this;
        }

        /**
         * TLS to the broker and every runtime, trusting the servers whose certificates the given CA signed (a PEM
         * file, e.g. {@code ca.pem} from {@code capmesh certs}). Each server's name or address, as the broker hands
         * it out, must be among its certificate's subject alternative names.
         */
        public Builder tls(Path trustedCaPem) {
            return credentials(tlsCredentials(trustedCaPem, null, null));
        }

        /**
         * Mutual TLS: as {@link #tls}, and this client proves who it is with a certificate and its private key (PEM
         * files; the key unencrypted PKCS#8, as {@code capmesh certs} writes it), for services that require it.
         */
        public Builder mtls(Path trustedCaPem, Path certificatePem, Path privateKeyPem) {
            return credentials(tlsCredentials(trustedCaPem, Objects.requireNonNull(certificatePem, "certificatePem"),
                    Objects.requireNonNull(privateKeyPem, "privateKeyPem")));
        }

        /** The credentials of every channel, e.g. {@link TlsChannelCredentials} built by hand; plaintext by default. */
        public Builder credentials(ChannelCredentials credentials) {
            this.credentials = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        private static ChannelCredentials tlsCredentials(Path ca, Path certificate, Path key) {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
            try {
                tls.trustManager(Objects.requireNonNull(ca, "trustedCaPem").toFile());
                if (certificate != null) {
                    tls.keyManager(certificate.toFile(), key.toFile());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the TLS files " + ca
                        + (certificate == null ? "" : ", " + certificate + ", " + key) + ": " + e.getMessage(), e);
            }
            return tls.build();
        }

        /**
         * Traces every call: a span per capability call (its attempts, failovers and the replica that answered)
         * around a client span per gRPC call, and W3C trace context to the broker and the runtimes, so their
         * spans join the caller's trace. Off by default.
         */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        public CapabilityClient build() {
            if (broker == null || broker.isBlank()) {
                throw new IllegalStateException("say where the broker is: builder().broker(\"host:port\")");
            }
            if (account == null || account.isBlank()) {
                throw new IllegalStateException("say whose leases these are: builder().account(\"...\")");
            }
            return new CapabilityClient(this);
        }

        private static Duration positive(Duration duration, String name) {
            if (duration == null || duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + duration);
            }
            return duration;
        }
    }
}
