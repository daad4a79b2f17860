package io.capmesh.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RevocationsTest {

    @Test
    void aReleasedLeaseIsRememberedUntilItWouldHaveExpired() {
        Revocations revocations = new Revocations();
        Instant now = Instant.parse("2026-11-23T12:00:00Z");
        revocations.revoke("L1", now.plus(Duration.ofSeconds(30)));
        revocations.revoke("L2", now.plus(Duration.ofSeconds(5)));

        assertThat(revocations.isRevoked("L1")).isTrue();
        assertThat(revocations.current(now)).containsOnlyKeys("L1", "L2");

        revocations.forgetExpired(now.plus(Duration.ofSeconds(10)));
        assertThat(revocations.isRevoked("L2")).isFalse(); // its token has expired by now: refused for that
        assertThat(revocations.isRevoked("L1")).isTrue();
        assertThat(revocations.current(now.plus(Duration.ofSeconds(31)))).isEmpty();
    }
}
