package io.capmesh.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.capmesh.signing.SigningKeys;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

/**
 * Signs tokens: JWS compact serialization, ES256 (ECDSA P-256, the JDK's own), the key id in the header so a
 * verifier trusting several issuers finds the right key. Bearer tokens and lease tokens differ by audience, so one
 * can never be passed off as the other.
 */
public final class TokenIssuer {

    private final ECPrivateKey key;
    private final String keyId;
    private final Clock clock;

    public TokenIssuer(KeyPair pair, Clock clock) {
        if (!(pair.getPrivate() instanceof ECPrivateKey ec)) {
            throw new IllegalArgumentException("tokens are signed with ECDSA P-256 (ES256), not with a "
                    + pair.getPrivate().getAlgorithm() + " key; make one with: capmesh keygen --algorithm ecdsa-p256");
        }
        this.key = ec;
        this.keyId = SigningKeys.keyId(pair.getPublic());
        this.clock = clock;
    }

    /** A key pair file as {@code capmesh keygen} writes it. */
    public static TokenIssuer fromPem(String pem, Clock clock) {
        return new TokenIssuer(SigningKeys.readKeyPair(pem), clock);
    }

    public String keyId() {
        return keyId;
    }

    /** A bearer token for {@code subject}, valid for {@code ttl}. */
    public String accessToken(String subject, Duration ttl) {
        Instant now = clock.instant();
        return sign(new JWTClaimsSet.Builder().subject(subject).audience(Tokens.ACCESS_AUDIENCE)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString()).build());
    }

    /** The lease as a token that runtimes check on every call; valid until the lease expires. */
    public String leaseToken(LeaseToken lease) {
        return sign(new JWTClaimsSet.Builder().jwtID(lease.leaseId()).subject(lease.account())
                .audience(Tokens.LEASE_AUDIENCE)
                .claim(Tokens.CAPABILITIES_CLAIM, lease.capabilities().stream().sorted().toList())
                .issueTime(Date.from(clock.instant())).expirationTime(Date.from(lease.expiresAt())).build());
    }

    private String sign(JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keyId)
                .type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(new ECDSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign with key " + keyId + ": " + e.getMessage(), e);
        }
        return jwt.serialize();
    }
}
