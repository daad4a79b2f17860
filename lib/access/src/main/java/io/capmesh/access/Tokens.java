package io.capmesh.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.capmesh.signing.TrustedKeys;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks tokens signed by a {@link TokenIssuer}: the signature against the trusted issuers' keys (found by key id),
 * the audience, and the expiry (with a little leeway for clocks that differ).
 *
 * <p>Lease tokens come with every data-plane call, and an ES256 signature costs far more to check than the call's
 * other work, so a lease token whose signature, audience and claims have been checked is remembered, by its exact
 * text, and not checked again: its expiry (and not-before) still is, on every call. Whether the lease was released
 * is for the caller to ask {@link Revocations}, on every call, as before.
 */
public final class Tokens {

    /** Audience of bearer tokens, which say who the caller is. */
    public static final String ACCESS_AUDIENCE = "capmesh";
    /** Audience of lease tokens, which say what the caller may call. */
    public static final String LEASE_AUDIENCE = "capmesh-lease";
    static final String CAPABILITIES_CLAIM = "capabilities";

    private static final Duration CLOCK_LEEWAY = Duration.ofSeconds(5);
    /** Enough for every lease in use on a runtime at once; past it, some are simply verified again. */
    static final int LEASE_CACHE_SIZE = 10_000;

    // Issuers are fixed at construction (TrustedKeys is immutable, and so is this field): trusting other keys means
    // a new Tokens, with an empty cache, so no cached lease outlives the trust in the key that signed it.
    private final TrustedKeys issuers;
    private final Clock clock;
    private final int leaseCacheSize;
    private final Map<String, VerifiedLease> verifiedLeases = new ConcurrentHashMap<>();

    /** A lease token that passed every check but the clock's, which is done again on every call. */
    private record VerifiedLease(LeaseToken lease, Instant notBefore) {
    }

    public Tokens(TrustedKeys issuers, Clock clock) {
        this(issuers, clock, LEASE_CACHE_SIZE);
    }

    Tokens(TrustedKeys issuers, Clock clock, int leaseCacheSize) {
        if (leaseCacheSize < 1) {
            throw new IllegalArgumentException("the lease cache holds at least one token, not " + leaseCacheSize);
        }
        for (String id : issuers.ids()) {
            if (!(issuers.find(id).orElseThrow() instanceof ECPublicKey)) {
                throw new IllegalArgumentException("token issuer key " + id + " is not an ECDSA P-256 key: tokens are"
                        + " ES256; make one with: capmesh keygen --algorithm ecdsa-p256");
            }
        }
        this.issuers = issuers;
        this.clock = clock;
        this.leaseCacheSize = leaseCacheSize;
    }

    /** Thrown for a token that must not be accepted; the message says why, for the caller to act on. */
    public static final class InvalidTokenException extends Exception {
        InvalidTokenException(String message) {
            super(message);
        }
    }

    /** @return the subject of a valid bearer token */
    public String verifyAccess(String token) throws InvalidTokenException {
        String subject = verify(token, ACCESS_AUDIENCE, "bearer token").getSubject();
        if (subject == null || subject.isBlank()) {
            throw new InvalidTokenException("the bearer token names no subject");
        }
        return subject;
    }

    public LeaseToken verifyLease(String token) throws InvalidTokenException {
        VerifiedLease verified = verifiedLeases.get(token);
        if (verified != null) {
            try {
                checkTime(clock.instant(), verified.lease().expiresAt(), verified.notBefore(), "lease token");
            } catch (InvalidTokenException e) {
                verifiedLeases.remove(token, verified);
                throw e;
            }
            return verified.lease();
        }
        JWTClaimsSet claims = verify(token, LEASE_AUDIENCE, "lease token");
        LeaseToken lease;
        try {
            List<String> capabilities = claims.getStringListClaim(CAPABILITIES_CLAIM);
            if (claims.getJWTID() == null || claims.getSubject() == null || capabilities == null) {
                throw new InvalidTokenException("the lease token lacks its lease id, account or capabilities");
            }
            Set<String> names = new HashSet<>(capabilities);
            lease = new LeaseToken(claims.getJWTID(), claims.getSubject(), names,
                    claims.getExpirationTime().toInstant());
        } catch (ParseException e) {
            throw new InvalidTokenException("the lease token's capabilities are not a list of names");
        }
        Date notBefore = claims.getNotBeforeTime();
        remember(token, new VerifiedLease(lease, notBefore == null ? null : notBefore.toInstant()));
        return lease;
    }

    /** Number of lease tokens remembered as verified, for tests. */
    int cachedLeases() {
        return verifiedLeases.size();
    }

    private void remember(String token, VerifiedLease verified) {
        // Only a miss gets here, after a signature check that costs far more than this lock; hits never take it.
        synchronized (verifiedLeases) {
            if (verifiedLeases.size() >= leaseCacheSize) {
                Instant now = clock.instant();
                verifiedLeases.values().removeIf(v -> !now.minus(CLOCK_LEEWAY).isBefore(v.lease().expiresAt()));
                // Still full of live leases: drop some, arbitrary ones, down to three quarters, so that a full
                // cache is not scanned again on every miss. Those dropped are only verified again when they come.
                if (verifiedLeases.size() >= leaseCacheSize) {
                    Iterator<String> drop = verifiedLeases.keySet().iterator();
                    while (verifiedLeases.size() > leaseCacheSize * 3 / 4 && drop.hasNext()) {
                        drop.next();
                        drop.remove();
                    }
                }
            }
            verifiedLeases.put(token, verified);
        }
    }

    private JWTClaimsSet verify(String token, String audience, String what) throws InvalidTokenException {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new InvalidTokenException("the " + what + " is not a signed JWT: " + e.getMessage());
        }
        if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
            throw new InvalidTokenException("the " + what + " is signed with " + jwt.getHeader().getAlgorithm()
                    + "; only ES256 is accepted");
        }
        String keyId = jwt.getHeader().getKeyID();
        PublicKey key = keyId == null ? null : issuers.find(keyId).orElse(null);
        if (key == null) {
            throw new InvalidTokenException("the " + what + " is signed by key " + keyId
                    + ", which this service does not trust");
        }
        JWTClaimsSet claims;
        try {
            if (!jwt.verify(new ECDSAVerifier((ECPublicKey) key))) {
                throw new InvalidTokenException("the " + what + "'s signature does not verify with key " + keyId);
            }
            claims = jwt.getJWTClaimsSet();
        } catch (JOSEException | ParseException e) {
            throw new InvalidTokenException("the " + what + " cannot be checked: " + e.getMessage());
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(audience)) {
            throw new InvalidTokenException("the token is not a " + what + " (audience " + claims.getAudience()
                    + ", expected " + audience + ")");
        }
        if (claims.getExpirationTime() == null) {
            throw new InvalidTokenException("the " + what + " has no expiry");
        }
        Date notBefore = claims.getNotBeforeTime();
        checkTime(clock.instant(), claims.getExpirationTime().toInstant(),
                notBefore == null ? null : notBefore.toInstant(), what);
        return claims;
    }

    /** The checks that depend on the time of the call: done on every call, remembered token or not. */
    private static void checkTime(Instant now, Instant expiry, Instant notBefore, String what)
            throws InvalidTokenException {
        if (!now.minus(CLOCK_LEEWAY).isBefore(expiry)) {
            throw new InvalidTokenException("the " + what + " expired at " + expiry);
        }
        if (notBefore != null && now.plus(CLOCK_LEEWAY).isBefore(notBefore)) {
            throw new InvalidTokenException("the " + what + " is not valid before " + notBefore);
        }
    }
}
