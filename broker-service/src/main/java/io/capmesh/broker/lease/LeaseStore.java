package io.capmesh.broker.lease;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where leases live. All state is in the store, never in a broker's memory, so a broker restart loses no lease
 * and several brokers sharing one database see the same leases. A lease is active until its expiry instant,
 * exclusive; an expired lease behaves as if it were gone even before {@link #expire(Instant)} removes it.
 */
public interface LeaseStore extends AutoCloseable {

    /** One capability a lease holds: which version, served by which runtime, reached where. */
    record Grant(String capability, String version, String runtimeId, String host, int port) {

        public Grant {
            Objects.requireNonNull(capability, "capability");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(runtimeId, "runtimeId");
            Objects.requireNonNull(host, "host");
        }
    }

    /** A lease: who holds it, until when, and what it grants, in the order granted. */
    record Lease(String id, String account, Instant expiresAt, List<Grant> grants) {

        public Lease {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(account, "account");
            Objects.requireNonNull(expiresAt, "expiresAt");
            grants = List.copyOf(grants);
        }
    }

    /**
     * What a renew or a release did, as decided by the database in one statement, so concurrent callers agree.
     * {@code expiresAt} is the lease's new end: the renewed expiry, or the release instant; null when nothing
     * changed.
     */
    record Outcome(Kind kind, Instant expiresAt) {

        public enum Kind {
            RENEWED,
            /** Released by this call; a second release of the same lease is NOT_FOUND. */
            RELEASED,
            /** No such lease, or it had expired: the holder must acquire again. */
            NOT_FOUND,
            /** The lease belongs to another account; it was left as it was. */
            WRONG_ACCOUNT
        }

        public static final Outcome NOT_FOUND = new Outcome(Kind.NOT_FOUND, null);
        public static final Outcome WRONG_ACCOUNT = new Outcome(Kind.WRONG_ACCOUNT, null);

        public Outcome {
            Objects.requireNonNull(kind, "kind");
            if ((kind == Kind.RENEWED || kind == Kind.RELEASED) != (expiresAt != null)) {
                throw new IllegalArgumentException(kind + " with expiresAt " + expiresAt);
            }
        }

        public static Outcome renewed(Instant expiresAt) {
            return new Outcome(Kind.RENEWED, expiresAt);
        }

        public static Outcome released(Instant at) {
            return new Outcome(Kind.RELEASED, at);
        }
    }

    /**
     * Where the active leases of one capability are: how many hold it on each runtime, and the runtime of
     * {@code account}'s newest one, if it holds any. Placement keeps an account where it is and fills the others
     * up to a bound, from these counts, so every broker sharing the store places alike.
     */
    record Placements(Map<String, Long> leasesByRuntime, Optional<String> accountRuntime) {

        public Placements {
            leasesByRuntime = Map.copyOf(leasesByRuntime);
            Objects.requireNonNull(accountRuntime, "accountRuntime");
        }
    }

    /** Stores a new lease with a fresh random id, expiring {@code ttl} from now. */
    Lease create(String account, List<Grant> grants, Duration ttl);

    /** The active lease with this id, if any. */
    Optional<Lease> find(String id);

    /** Extends an active lease of {@code account} to expire {@code ttl} from now. */
    Outcome renew(String id, String account, Duration ttl);

    /** Removes an active lease of {@code account}. */
    Outcome release(String id, String account);

    /**
     * The leases released before they expired, each with when it would have expired, among those not expired by
     * {@code now}: their tokens must stay refused, and every broker sharing the store tells its runtimes.
     */
    Map<String, Instant> released(Instant now);

    /**
     * Removes the leases that expired at or before {@code now}, with their grants, and forgets released leases that
     * have expired since; returns how many leases.
     */
    int expire(Instant now);

    /** Where the active leases of {@code capability} are, and where {@code account} holds it. */
    Placements placements(String capability, String account);

    /** How many leases are active. */
    long count();

    /** The active leases with at least one grant on {@code runtimeId}, each with all its grants. */
    List<Lease> byRuntime(String runtimeId);

    @Override
    void close();
}
