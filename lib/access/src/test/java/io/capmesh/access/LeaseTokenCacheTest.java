package io.capmesh.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import io.capmesh.signing.TrustedKeys;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Lease tokens whose signature was checked once are remembered; the clock is still asked on every call. */
class LeaseTokenCacheTest {

    private static final Instant START = Instant.parse("2026-11-23T12:00:00Z");

    private final SettableClock clock = new SettableClock(START);
    private final KeyPair broker = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
    private final TokenIssuer issuer = new TokenIssuer(broker, clock);
    private final Tokens tokens = new Tokens(TrustedKeys.of(List.of(broker.getPublic())), clock);

    @Test
    void aVerifiedLeaseTokenIsAcceptedOnLaterCallsFromTheCache() throws Exception {
        String token = issuer.leaseToken(lease("L1", Duration.ofMinutes(1)));

        LeaseToken first = tokens.verifyLease(token);
        assertThat(first.leaseId()).isEqualTo("L1");
        assertThat(first.covers("echo.call")).isTrue();
        assertThat(tokens.cachedLeases()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(30));
        // the very same lease, not one parsed and verified again
        assertThat(tokens.verifyLease(token)).isSameAs(first);
        assertThat(tokens.verifyLease(token)).isSameAs(first);
        assertThat(tokens.cachedLeases()).isEqualTo(1);
    }

    @Test
    void anExpiredCachedTokenIsRefusedAndDropped() throws Exception {
        LeaseToken held = lease("L1", Duration.ofMinutes(1));
        String token = issuer.leaseToken(held);
        tokens.verifyLease(token);
        assertThat(tokens.cachedLeases()).isEqualTo(1);

        // the leeway for clocks that differ applies as it does to a token checked afresh
        clock.set(held.expiresAt().plusSeconds(4));
        assertThat(tokens.verifyLease(token).leaseId()).isEqualTo("L1");

        clock.set(held.expiresAt().plusSeconds(5));
        assertThatThrownBy(() -> tokens.verifyLease(token))
                .isInstanceOf(Tokens.InvalidTokenException.class)
                .hasMessageContaining("lease token expired at " + held.expiresAt());
        assertThat(tokens.cachedLeases()).isZero();
        assertThatThrownBy(() -> tokens.verifyLease(token))
                .isInstanceOf(Tokens.InvalidTokenException.class)
                .hasMessageContaining("lease token expired at " + held.expiresAt());
    }

    @Test
    void aCachedTokenIsRefusedBeforeItsNotBeforeWhenTheClockStepsBack() throws Exception {
        String token = signed(new JWTClaimsSet.Builder().jwtID("L1").subject("shop")
                .audience(Tokens.LEASE_AUDIENCE).claim(Tokens.CAPABILITIES_CLAIM, List.of("echo.call"))
                .notBeforeTime(Date.from(START)).expirationTime(Date.from(START.plus(Duration.ofMinutes(1))))
                .build());
        tokens.verifyLease(token);
        assertThat(tokens.cachedLeases()).isEqualTo(1);

        clock.set(START.minusSeconds(6));
        assertThatThrownBy(() -> tokens.verifyLease(token))
                .isInstanceOf(Tokens.InvalidTokenException.class)
                .hasMessageContaining("lease token is not valid before " + START);
    }

    @Test
    void aTamperedSignatureIsRefusedEvenAfterTheGenuineTokenWasCached() throws Exception {
        String genuine = issuer.leaseToken(lease("L1", Duration.ofMinutes(1)));
        tokens.verifyLease(genuine);
        assertThat(tokens.cachedLeases()).isEqualTo(1);

        int signature = genuine.lastIndexOf('.') + 1;
        int at = signature + (genuine.length() - signature) / 2; // mid-signature: every bit of it counts
        char changed = genuine.charAt(at) == 'A' ? 'B' : 'A';
        String tampered = genuine.substring(0, at) + changed + genuine.substring(at + 1);
        assertThat(tampered).hasSameSizeAs(genuine).isNotEqualTo(genuine);

        for (int i = 0; i < 2; i++) { // a failure is never remembered: refused every time
            assertThatThrownBy(() -> tokens.verifyLease(tampered))
                    .isInstanceOf(Tokens.InvalidTokenException.class)
                    .hasMessageContaining("signature does not verify");
        }
        assertThat(tokens.cachedLeases()).isEqualTo(1);
        assertThat(tokens.verifyLease(genuine).leaseId()).isEqualTo("L1");
    }

    @Test
    void aTokenFromAnUntrustedIssuerIsNeverCached() {
        KeyPair stranger = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
        String token = new TokenIssuer(stranger, clock).leaseToken(lease("L1", Duration.ofMinutes(1)));
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> tokens.verifyLease(token))
                    .isInstanceOf(Tokens.InvalidTokenException.class)
                    .hasMessageContaining("does not trust");
        }
        assertThat(tokens.cachedLeases()).isZero();
    }

    @Test
    void theCacheStaysBounded() throws Exception {
        Tokens small = new Tokens(TrustedKeys.of(List.of(broker.getPublic())), clock, 4);
        for (int i = 0; i < 12; i++) {
            String token = issuer.leaseToken(lease("L" + i, Duration.ofMinutes(1)));
            assertThat(small.verifyLease(token).leaseId()).isEqualTo("L" + i);
            assertThat(small.verifyLease(token).leaseId()).isEqualTo("L" + i);
            assertThat(small.cachedLeases()).isBetween(1, 4);
        }
    }

    @Test
    void aFullCacheDropsExpiredTokensFirst() throws Exception {
        Tokens small = new Tokens(TrustedKeys.of(List.of(broker.getPublic())), clock, 4);
        String longLived = issuer.leaseToken(lease("long", Duration.ofHours(1)));
        LeaseToken kept = small.verifyLease(longLived);
        for (int i = 0; i < 3; i++) {
            small.verifyLease(issuer.leaseToken(lease("short" + i, Duration.ofSeconds(10))));
        }
        assertThat(small.cachedLeases()).isEqualTo(4);

        clock.advance(Duration.ofMinutes(1)); // the three short ones have expired, leeway included
        small.verifyLease(issuer.leaseToken(lease("new", Duration.ofMinutes(10))));
        assertThat(small.cachedLeases()).isEqualTo(2);
        assertThat(small.verifyLease(longLived)).isSameAs(kept);
    }

    private LeaseToken lease(String id, Duration ttl) {
        return new LeaseToken(id, "shop", Set.of("echo.call"), clock.instant().plus(ttl));
    }

    private String signed(JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(SigningKeys.keyId(broker.getPublic())).build(), claims);
        jwt.sign(new ECDSASigner((ECPrivateKey) broker.getPrivate()));
        return jwt.serialize();
    }

    private static final class SettableClock extends Clock {
        private volatile Instant now;

        SettableClock(Instant now) {
            this.now = now;
        }

        void set(Instant instant) {
            now = instant;
        }

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
