package io.capmesh.broker;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code capmesh.broker.*}.
 *
 * @param heartbeatInterval  how often runtimes are asked to heartbeat
 * @param unhealthyAfter     silence after which a runtime is marked unhealthy and gets no new leases
 * @param dropAfter          silence after which a runtime is forgotten
 * @param healthProbeInterval how often each runtime's grpc.health.v1 is asked whether it serves (0: never)
 * @param leaseTtl           how long a lease lives unless renewed
 * @param maxAcquireTimeout  the longest timeout an Acquire may ask for
 * @param maxCapabilities    most capabilities (required plus optional) in one Acquire
 * @param store              where leases live
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
        @DefaultValue Store store) {

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
