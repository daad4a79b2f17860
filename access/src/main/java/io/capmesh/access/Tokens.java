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
import java.util.List;
import java.util.Set;

/**
 * Checks tokens signed by a {@link TokenIssuer}: the signature against the trusted issuers' keys (found by key id),
 * the audience, and the expiry (with a little leeway for clocks that differ).
 */
public final class Tokens {

    /** Audience of bearer tokens, which say who the caller is. */
    public static final String ACCESS_AUDIENCE = "capmesh";
    /** Audience of lease tokens, which say what the caller may call. */
    public static final String LEASE_AUDIENCE = "capmesh-lease";
    static final String CAPABILITIES_CLAIM = "capabilities";

    private static final Duration CLOCK_LEEWAY = Duration.ofSeconds(5);

    private final TrustedKeys issuers;
    private final Clock clock;

    public Tokens(TrustedKeys issuers, Clock clock) {
        for (String id : issuers.ids()) {
            if (!(issuers.find(id).orElseThrow() instanceof ECPublicKey)) {
                throw new IllegalArgumentException("token issuer key " + id + " is not an ECDSA P-256 key: tokens are"
                        + " ES256; make one with: capmesh keygen --algorithm ecdsa-p256");
            }
        }
        this.issuers = issuers;
        this.clock = clock;
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
        JWTClaimsSet claims = verify(token, LEASE_AUDIENCE, "lease token");
        try {
            List<String> capabilities = claims.getStringListClaim(CAPABILITIES_CLAIM);
            if (claims.getJWTID() == null || claims.getSubject() == null || capabilities == null) {
                throw new InvalidTokenException("the lease token lacks its lease id, account or capabilities");
            }
            Set<String> names = new HashSet<>(capabilities);
            return new LeaseToken(claims.getJWTID(), claims.getSubject(), names,
                    claims.getExpirationTime().toInstant());
        } catch (ParseException e) {
            throw new InvalidTokenException("the lease token's capabilities are not a list of names");
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
        Instant now = clock.instant();
        if (claims.getExpirationTime() == null) {
            throw new InvalidTokenException("the " + what + " has no expiry");
        }
        Instant expiry = claims.getExpirationTime().toInstant();
        if (!now.minus(CLOCK_LEEWAY).isBefore(expiry)) {
            throw new InvalidTokenException("the " + what + " expired at " + expiry);
        }
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && now.plus(CLOCK_LEEWAY).isBefore(notBefore.toInstant())) {
            throw new InvalidTokenException("the " + what + " is not valid before " + notBefore.toInstant());
        }
        return claims;
    }
}
