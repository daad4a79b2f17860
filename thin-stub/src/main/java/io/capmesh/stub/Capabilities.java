package io.capmesh.stub;

import com.google.protobuf.Timestamp;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.AcquiredCapability;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.RenewResponse;
import io.capmesh.stub.Replicas.Replica;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Capabilities held under one lease. The lease is renewed in the background at a third of its remaining time;
 * a renewal that fails is retried with backoff and reported in the log and in {@link #lease()}, never in a call,
 * because calls go straight to the runtimes and keep working while the broker is away. When every replica of a
 * capability fails, the same request is acquired again once, under a new lease. Closing releases the lease.
 */
public final class Capabilities implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Capabilities.class.getName());
    private static final Duration MIN_RENEWAL_DELAY = Duration.ofMillis(100);
    private static final Duration MAX_RENEWAL_BACKOFF = Duration.ofSeconds(10);

    /**
     * What one Acquire granted: the lease, its token for runtimes that check leases (empty when the broker signs
     * none), and per capability its version and replicas in failover order.
     */
    record Grant(String leaseId, String leaseToken, Instant expiresAt, Map<String, Route> routes,
                 List<Missing> missing) {
        Grant renewed(Instant expiresAt, String leaseToken) {
            return new Grant(leaseId, leaseToken.isEmpty() ? this.leaseToken : leaseToken, expiresAt, routes, missing);
        }
    }

    record Route(String name, String version, List<Replica> replicas) {
    }

    private final CapabilityClient client;
    private final AcquireRequest request;
    private final String names;
    private final Object lock = new Object(); // guards swapping the grant and releasing it
    private final Map<String, CapabilityHandle> handles = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Grant grant;
    private volatile Status lastRenewalFailure;
    private int failedRenewals; // only touched by the renewal thread

    Capabilities(CapabilityClient client, AcquireRequest request, String names, AcquireResponse granted) {
        this.client = client;
        this.request = request;
        this.names = names;
        this.grant = grant(granted);
    }

    /**
     * A capability of this lease.
     *
     * @throws CapabilityCallException NOT_FOUND when it was not granted: an optional one that could not be had
     *                                 (with the broker's reason), or one that was never asked for
     */
    public CapabilityHandle get(String name) {
        return find(name).orElseThrow(() -> new CapabilityCallException(Status.NOT_FOUND.withDescription(
                whyNot(grant, name)), name, "", List.of()));
    }

    /** A capability of this lease, or empty when it was not granted (see {@link #missing()} for why). */
    public Optional<CapabilityHandle> find(String name) {
        return grant.routes().containsKey(name)
                ? Optional.of(handles.computeIfAbsent(name, n -> new CapabilityHandle(this, n)))
                : Optional.empty();
    }

    /** The optional capabilities that could not be had, with the broker's reasons. */
    public List<Missing> missing() {
        return grant.missing();
    }

    public Lease lease() {
        Grant current = grant;
        return new Lease(current.leaseId(), current.expiresAt(), Optional.ofNullable(lastRenewalFailure));
    }

    /** Stops renewing and releases the lease (best effort: a lease the broker cannot be told about expires). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        String leaseId;
        synchronized (lock) { // waits for a re-acquire in progress, so its new lease is the one released
            leaseId = grant.leaseId();
        }
        client.release(leaseId);
        client.forget(this);
    }

    @Override
    public String toString() {
        return "Capabilities[" + names + ", lease " + grant.leaseId() + (closed.get() ? ", closed]" : "]");
    }

    CapabilityClient client() {
        return client;
    }

    /** The grant calls go by now. */
    Grant current() {
        if (closed.get()) {
            throw Status.FAILED_PRECONDITION.withDescription("these capabilities were closed and their lease "
                    + "released; acquire again").asRuntimeException();
        }
        return grant;
    }

    static Route route(Grant grant, String name) {
        Route route = grant.routes().get(name);
        if (route == null) {
            throw Status.NOT_FOUND.withDescription(whyNot(grant, name)).asRuntimeException();
        }
        return route;
    }

    /**
     * Acquires the same request again, under a new lease, unless that already happened since {@code seen} was the
     * grant: concurrent callers that all found every replica failing share one re-acquire.
     *
     * @throws CapabilityCallException when the broker cannot grant it
     */
    Grant reacquire(Grant seen) {
        synchronized (lock) {
            if (!grant.leaseId().equals(seen.leaseId()) || closed.get()) {
                return grant;
            }
            Grant fresh = grant(client.acquire(request, names));
            grant = fresh;
            LOG.log(Level.INFO, "Acquired {0} again under lease {1} (was {2})", names, fresh.leaseId(),
                    seen.leaseId());
            runInBackground(() -> client.release(seen.leaseId()));
            return fresh;
        }
    }

    void renewInBackground() {
        scheduleRenewal(Duration.ofNanos(Duration.between(Instant.now(), grant.expiresAt()).toNanos() / 3));
    }

    private void renew() {
        if (closed.get()) {
            return;
        }
        Grant renewing = grant;
        try {
            RenewResponse renewed = renewAtBroker(renewing.leaseId());
            synchronized (lock) {
                if (grant.leaseId().equals(renewing.leaseId())) {
                    grant = grant.renewed(instant(renewed.getExpiresAt()), renewed.getLeaseToken());
                }
            }
            if (failedRenewals > 0) {
                LOG.log(Level.INFO, "Renewed lease {0} again after {1} failed renewals", renewing.leaseId(),
                        failedRenewals);
            }
            failedRenewals = 0;
            lastRenewalFailure = null;
        } catch (StatusRuntimeException e) {
            failedRenewals++;
            lastRenewalFailure = e.getStatus();
            LOG.log(Level.WARNING, "Renewing lease {0} at {1} failed ({2} in a row): {3}; calls keep going to the"
                    + " runtimes", renewing.leaseId(), client.brokerTarget(), failedRenewals,
                    CapabilityCallException.brief(e.getStatus()));
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) { // it expired while the broker was unreachable
                reacquireQuietly(renewing);
            }
        } catch (RuntimeException e) { // never let the renewal thread die with a lease to keep
            failedRenewals++;
            lastRenewalFailure = Status.fromThrowable(e);
            LOG.log(Level.WARNING, "Renewing lease " + renewing.leaseId() + " failed", e);
        }
        scheduleRenewal(nextRenewal());
    }

    private RenewResponse renewAtBroker(String leaseId) {
        return client.atBroker(Duration.ZERO, broker -> broker.renew(RenewRequest.newBuilder()
                .setLeaseId(leaseId).setAccount(client.account()).build()));
    }

    private static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    private void reacquireQuietly(Grant expired) {
        try {
            reacquire(expired);
            failedRenewals = 0;
            lastRenewalFailure = null;
        } catch (CapabilityCallException e) {
            LOG.log(Level.WARNING, "Acquiring {0} again failed: {1}", names, e.getMessage());
        }
    }

    /** A third of the remaining time while renewals succeed; after failures, a doubling backoff within that. */
    private Duration nextRenewal() {
        Duration third = Duration.ofNanos(Duration.between(Instant.now(), grant.expiresAt()).toNanos() / 3);
        if (failedRenewals == 0) {
            return third;
        }
        Duration backoff = Duration.ofMillis(250L << Math.min(failedRenewals - 1, 6));
        backoff = backoff.compareTo(MAX_RENEWAL_BACKOFF) > 0 ? MAX_RENEWAL_BACKOFF : backoff;
        return third.compareTo(MIN_RENEWAL_DELAY) > 0 && third.compareTo(backoff) < 0 ? third : backoff;
    }

    private void scheduleRenewal(Duration delay) {
        if (closed.get()) {
            return;
        }
        long millis = Math.max(delay.toMillis(), MIN_RENEWAL_DELAY.toMillis());
        try {
            client.renewals().schedule(this::renew, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException clientClosed) {
            // the client is closing and releases this lease itself
        }
    }

    private void runInBackground(Runnable task) {
        try {
            client.renewals().execute(task);
        } catch (RejectedExecutionException clientClosed) {
            // the lease expires on its own
        }
    }

    private Grant grant(AcquireResponse response) {
        Map<String, Route> routes = new LinkedHashMap<>();
        for (AcquiredCapability acquired : response.getAcquiredList()) {
            List<Endpoint> endpoints = new ArrayList<>();
            endpoints.add(acquired.getEndpoint());
            endpoints.addAll(acquired.getFallbacksList());
            List<Replica> replicas = endpoints.stream().map(client.replicas()::of).distinct().toList();
            routes.put(acquired.getName(), new Route(acquired.getName(), acquired.getVersion(), replicas));
        }
        List<Missing> missing = response.getMissingList().stream()
                .map(m -> new Missing(m.getName(), m.getVersionRange(), m.getReason())).toList();
        return new Grant(response.getLeaseId(), response.getLeaseToken(), instant(response.getExpiresAt()),
                Collections.unmodifiableMap(routes), missing);
    }

    private static String whyNot(Grant grant, String name) {
        return grant.missing().stream().filter(m -> m.name().equals(name)).findFirst()
                .map(m -> "optional capability " + name + " could not be had: " + m.reason())
                .orElse(name + " is not part of this lease (it holds " + String.join(", ", grant.routes().keySet())
                        + "); acquire it first");
    }
}
