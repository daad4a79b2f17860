package io.capmesh.broker;

import io.capmesh.access.TokenIssuer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code capmesh.broker.*}.
 *
 * @param heartbeatInterval  how often runtimes are asked to heartbeat
 * @param unhealthyAfter     silence after which a runtime is marked unhealthy and gets no new leases; also how long a
 *                           replica answers from its copy of the registry when it cannot read the store again
 * @param dropAfter          silence after which a runtime is forgotten
 * @param healthProbeInterval how often each runtime's grpc.health.v1 is asked whether it serves (0: never)
 * @param leaseTtl           how long a lease lives unless renewed
 * @param maxAcquireTimeout  the longest timeout an Acquire may ask for
 * @param maxCapabilities    most capabilities (required plus optional) in one Acquire
 * @param registryPollInterval how often a replica looks for the other replicas' changes to the registry in the
 *                           store (a runtime registered through one is acquirable through all within it)
 * @param loadBound          placement's bound: a runtime holding more than this times the average of a
 *                           capability's active leases per runtime takes no new account for it (at least 1)
 * @param store              where leases and the registry live
 * @param leaseSigningKey    the key pair (ECDSA P-256, PEM text or a file, as {@code capmesh keygen --algorithm
 *                           ecdsa-p256} writes it) that signs lease tokens for runtimes that require them; every
 *                           broker replica has the same; empty: leases carry no token
 */
@ConfigurationProperties("capmesh.broker")
public record BrokerProperties(
        @DefaultValue("2s") Duration heartbeatInterval,
        @DefaultValue("6s") Duration unhealthyAfter,
        @DefaultValue("60s") Duration dropAfter,
        @DefaultValue("2s") Duration healthProbeInterval,
        @DefaultValue("30s") Duration leaseTtl,
        @DefaultValue("60s") Duration maxAcquireTimeout,
        @DefaultValue("64") int maxCapabilities,
        @DefaultValue("200ms") Duration registryPollInterval,
        @DefaultValue("1.25") double loadBound,
        @DefaultValue Store store,
        String leaseSigningKey) {

    public BrokerProperties {
        if (registryPollInterval.isNegative() || registryPollInterval.isZero()) {
            throw new IllegalArgumentException("capmesh.broker.registry-poll-interval must be positive, got "
                    + registryPollInterval);
        }
        if (!(loadBound >= 1.0)) {
            throw new IllegalArgumentException("capmesh.broker.load-bound must be at least 1 (1.25: a runtime takes "
                    + "new accounts until it holds 25 % more than the average), got " + loadBound);
        }
    }

    /** Signs lease tokens, when a key is configured. */
    public Optional<TokenIssuer> leaseIssuer(Clock clock) {
        if (leaseSigningKey == null || leaseSigningKey.isBlank()) {
            return Optional.empty();
        }
        String pem = leaseSigningKey.strip();
        try {
            if (!pem.startsWith("-----BEGIN")) {
                pem = Files.readString(Path.of(pem));
            }
            return Optional.of(TokenIssuer.fromPem(pem, clock));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("capmesh.broker.lease-signing-key: " + e.getMessage(), e);
        }
    }

    /**
     * @param url      JDBC URL: {@code jdbc:sqlite:<file>} (embedded default) or {@code jdbc:postgresql://...}
     *                 (shared by several broker replicas)
     * @param username for PostgreSQL
     * @param password for PostgreSQL
     */
    public record Store(@DefaultValue("jdbc:sqlite:.capmesh/broker/leases.db") String url, String username,
                        String password) {
    }
}
