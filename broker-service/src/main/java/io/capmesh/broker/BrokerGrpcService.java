package io.capmesh.broker;

import io.capmesh.access.CallAccess;
import io.capmesh.access.LeaseToken;
import io.capmesh.access.TokenIssuer;
import io.capmesh.broker.acquire.Negotiator;
import io.capmesh.broker.acquire.Timestamps;
import io.capmesh.broker.lease.LeaseStore;
import io.capmesh.broker.registry.Catalog;
import io.capmesh.broker.registry.RuntimeRegistry;
import io.capmesh.broker.registry.WatchHub;
import io.capmesh.broker.store.StoreUnavailableException;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.AcquiredCapability;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.BrokerHealthResponse;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.DeregisterRequest;
import io.capmesh.proto.v1.DeregisterResponse;
import io.capmesh.proto.v1.HeartbeatRequest;
import io.capmesh.proto.v1.HeartbeatResponse;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ListCapabilitiesResponse;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.RegisterResponse;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.ReleaseResponse;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.RenewResponse;
import io.capmesh.proto.v1.RevokedLease;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.WatchEvent;
import io.capmesh.proto.v1.WatchRequest;
import io.capmesh.telemetry.CapmeshAttributes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** {@code capmesh.v1.CapabilityBroker}: validates each request, then hands it to the part that owns it. */
public final class BrokerGrpcService extends CapabilityBrokerGrpc.CapabilityBrokerImplBase {

    private static final Pattern CAPABILITY = Pattern.compile("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+");

    private final RuntimeRegistry registry;
    private final Negotiator negotiator;
    private final LeaseStore leases;
    private final WatchHub watches;
    private final Duration heartbeatInterval;
    private final Duration leaseTtl;
    private final Optional<TokenIssuer> leaseIssuer;
    private final Clock clock;

    /**
     * @param leaseIssuer signs the lease tokens runtimes check, when the broker has a signing key (the leases
     *                    released early are told to runtimes with each heartbeat, from the lease store)
     */
    public BrokerGrpcService(RuntimeRegistry registry, Negotiator negotiator, LeaseStore leases, WatchHub watches,
                             Duration heartbeatInterval, Duration leaseTtl, Optional<TokenIssuer> leaseIssuer,
                             Clock clock) {
        this.registry = registry;
        this.negotiator = negotiator;
        this.leases = leases;
        this.watches = watches;
        this.heartbeatInterval = heartbeatInterval;
        this.leaseTtl = leaseTtl;
        this.leaseIssuer = leaseIssuer;
        this.clock = clock;
    }

    @Override
    public void list(ListCapabilitiesRequest request, StreamObserver<ListCapabilitiesResponse> observer) {
        answer(observer, () -> {
            registry.requireCurrent();
            return ListCapabilitiesResponse.newBuilder()
                    .addAllCapabilities(Catalog.of(registry.all(), request.getNamePrefix(), request.getTier(),
                            request.getHealthyOnly()))
                    .build();
        });
    }

    @Override
    public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
        Span span = Span.current(); // the call's server span, when tracing is on
        span.setAttribute(CapmeshAttributes.ACCOUNT, request.getAccount());
        answer(observer, () -> {
            CallAccess.checkAccount(request.getAccount());
            AcquireResponse granted = withToken(negotiator.acquire(request), request.getAccount());
            span.setAttribute(CapmeshAttributes.LEASE, granted.getLeaseId());
            span.setAttribute(CapmeshAttributes.CAPABILITY, granted.getAcquiredList().stream()
                    .map(a -> a.getName() + "@" + a.getVersion()).collect(Collectors.joining(",")));
            span.setAttribute(CapmeshAttributes.REPLICA, granted.getAcquiredList().stream()
                    .map(a -> a.getEndpoint().getHost() + ":" + a.getEndpoint().getPort())
                    .collect(Collectors.joining(",")));
            return granted;
        });
    }

    @Override
    public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> observer) {
        answer(observer, () -> {
            requireLease(request.getLeaseId(), request.getAccount());
            CallAccess.checkAccount(request.getAccount());
            check(leases.release(request.getLeaseId(), request.getAccount()), request.getLeaseId());
            return ReleaseResponse.getDefaultInstance();
        });
    }

    @Override
    public void renew(RenewRequest request, StreamObserver<RenewResponse> observer) {
        answer(observer, () -> {
            requireLease(request.getLeaseId(), request.getAccount());
            CallAccess.checkAccount(request.getAccount());
            LeaseStore.Outcome outcome = leases.renew(request.getLeaseId(), request.getAccount(), leaseTtl);
            check(outcome, request.getLeaseId());
            RenewResponse.Builder renewed = RenewResponse.newBuilder().setExpiresAt(Timestamps.of(outcome.expiresAt()));
            leaseIssuer.ifPresent(issuer -> leases.find(request.getLeaseId()).ifPresent(lease ->
                    renewed.setLeaseToken(issuer.leaseToken(new LeaseToken(lease.id(), lease.account(),
                            lease.grants().stream().map(LeaseStore.Grant::capability).collect(Collectors.toSet()),
                            outcome.expiresAt())))));
            return renewed.build();
        });
    }

    @Override
    public void health(BrokerHealthRequest request, StreamObserver<BrokerHealthResponse> observer) {
        answer(observer, () -> {
            registry.requireCurrent();
            // states as every other answer sees them; each last heartbeat fresh from the store (which answers, or
            // this call fails with the reason)
            Map<String, Instant> heard = registry.lastHeartbeats();
            BrokerHealthResponse.Builder health = BrokerHealthResponse.newBuilder().setState(ServingState.SERVING);
            registry.all().stream().sorted(Comparator.comparing(RuntimeRegistry.Runtime::id))
                    .forEach(r -> health.addRuntimes(RuntimeHealth.newBuilder().setRuntimeId(r.id())
                            .setRuntimeTier(r.tier()).setEndpoint(r.endpoint()).setState(r.effectiveState())
                            .setLastHeartbeat(Timestamps.of(heard.getOrDefault(r.id(), r.lastHeartbeat())))));
            return health.build();
        });
    }

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchEvent> observer) {
        try {
            registry.requireCurrent();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        watches.watch(request.getNamePrefix(), (ServerCallStreamObserver<WatchEvent>) observer);
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> observer) {
        answer(observer, () -> {
            List<String> problems = new ArrayList<>();
            if (request.getRuntimeId().isBlank()) {
                problems.add("runtime_id is required");
            }
            if (request.getEndpoint().getHost().isBlank() || request.getEndpoint().getPort() <= 0
                    || request.getEndpoint().getPort() > 65_535) {
                problems.add("endpoint needs a host and a port from 1 to 65535, got '"
                        + request.getEndpoint().getHost() + ":" + request.getEndpoint().getPort() + "'");
            }
            problems.addAll(offerProblems(request.getOffersList()));
            if (!problems.isEmpty()) {
                throw Status.INVALID_ARGUMENT.withDescription(String.join("; ", problems)).asRuntimeException();
            }
            registry.register(request.getRuntimeId(), request.getRuntimeTier(),
                    request.getEndpoint().toBuilder().setRuntimeId(request.getRuntimeId()).build(),
                    request.getOffersList());
            return RegisterResponse.newBuilder().setHeartbeatIntervalMillis(heartbeatInterval.toMillis()).build();
        });
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        answer(observer, () -> {
            List<String> problems = offerProblems(request.getOffersList());
            if (!problems.isEmpty()) {
                throw Status.INVALID_ARGUMENT.withDescription(String.join("; ", problems)).asRuntimeException();
            }
            boolean known = registry.heartbeat(request.getRuntimeId(), request.getState() == ServingState.SERVING
                    ? ServingState.SERVING : ServingState.NOT_SERVING, request.getOffersList());
            HeartbeatResponse.Builder response = HeartbeatResponse.newBuilder().setReRegister(!known);
            leases.released(clock.instant()).forEach((id, expiresAt) -> response.addRevokedLeases(
                    RevokedLease.newBuilder().setLeaseId(id).setExpiresAt(Timestamps.of(expiresAt))));
            return response.build();
        });
    }

    @Override
    public void deregister(DeregisterRequest request, StreamObserver<DeregisterResponse> observer) {
        answer(observer, () -> {
            registry.deregister(request.getRuntimeId());
            return DeregisterResponse.getDefaultInstance();
        });
    }

    private static List<String> offerProblems(List<CapabilityOffer> offers) {
        List<String> problems = new ArrayList<>();
        for (CapabilityOffer offer : offers) {
            if (!CAPABILITY.matcher(offer.getCapability().getName()).matches()) {
                problems.add("offer of '" + offer.getCapability().getName() + "': not a capability name");
            }
            if (!io.capmesh.broker.routing.VersionMatch.isVersion(offer.getCapability().getVersion())) {
                problems.add("offer of " + offer.getCapability().getName() + ": '"
                        + offer.getCapability().getVersion() + "' is not a semver version");
            }
        }
        return problems;
    }

    private AcquireResponse withToken(AcquireResponse granted, String account) {
        if (leaseIssuer.isEmpty() || granted.getLeaseId().isEmpty()) {
            return granted;
        }
        LeaseToken lease = new LeaseToken(granted.getLeaseId(), account, granted.getAcquiredList().stream()
                .map(AcquiredCapability::getName).collect(Collectors.toSet()),
                Timestamps.toInstant(granted.getExpiresAt()));
        return granted.toBuilder().setLeaseToken(leaseIssuer.get().leaseToken(lease)).build();
    }

    private static void requireLease(String leaseId, String account) {
        if (leaseId.isBlank() || account.isBlank()) {
            throw Status.INVALID_ARGUMENT.withDescription("lease_id and account are both required")
                    .asRuntimeException();
        }
    }

    private static void check(LeaseStore.Outcome outcome, String leaseId) {
        switch (outcome.kind()) {
            case NOT_FOUND -> throw Status.NOT_FOUND.withDescription("lease " + leaseId
                    + " is unknown or has expired; acquire again").asRuntimeException();
            case WRONG_ACCOUNT -> throw Status.PERMISSION_DENIED.withDescription("lease " + leaseId
                    + " belongs to another account").asRuntimeException();
            default -> {
            }
        }
    }

    private static <T> void answer(StreamObserver<T> observer, Supplier<T> work) {
        T response;
        try {
            response = work.get();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        } catch (StoreUnavailableException e) {
            // the database is away: another replica, or this one a moment later, may answer
            observer.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (RuntimeException e) {
            observer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }
}
