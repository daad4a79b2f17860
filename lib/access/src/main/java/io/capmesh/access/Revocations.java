package io.capmesh.access;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Leases released before they expired, kept until they would have expired: a lease token is valid by its
 * signature alone, so a released one stays refused only if someone remembers it. The broker keeps releases in its
 * lease store (so a restart or another replica forgets none); runtimes learn them here with each heartbeat.
 */
public final class Revocations {

    private final Map<String, Instant> expiryById = new ConcurrentHashMap<>();

    public void revoke(String leaseId, Instant expiresAt) {
        expiryById.put(leaseId, expiresAt);
    }

    public boolean isRevoked(String leaseId) {
        return expiryById.containsKey(leaseId);
    }

    /** Forgets released leases that have expired since: their tokens are refused for that alone. */
    public void forgetExpired(Instant now) {
        expiryById.values().removeIf(expiry -> !expiry.isAfter(now));
    }

    /** What is still worth telling: released leases that have not expired yet. */
    public Map<String, Instant> current(Instant now) {
        forgetExpired(now);
        return Map.copyOf(expiryById);
    }
}
