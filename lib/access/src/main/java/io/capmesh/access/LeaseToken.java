package io.capmesh.access;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * What a lease token says: which lease, whose, for which capabilities, until when. Runtimes accept a call when the
 * token is signed by a broker they trust, has not expired nor been released, and names the called capability.
 */
public record LeaseToken(String leaseId, String account, Set<String> capabilities, Instant expiresAt) {

    public LeaseToken {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(account, "account");
        capabilities = Set.copyOf(capabilities);
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    public boolean covers(String capability) {
        return capabilities.contains(capability);
    }
}
