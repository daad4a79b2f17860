package io.capmesh.data;

import io.capmesh.runtime.HostServices;
import io.capmesh.runtime.spring.RuntimeProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** What the data tier adds to the runtime host: its pools, lent to extensions, and their health. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(DataProperties.class)
class DataTierConfiguration {

    /** Closed after the runtime host (which depends on it through {@link HostServices}) has unloaded everything. */
    @Bean(destroyMethod = "close")
    DataPools dataPools(DataProperties properties, RuntimeProperties runtime, MeterRegistry meters) {
        return new DataPools(properties, runtime.dataDir(), meters);
    }

    @Bean
    HostServices hostServices(DataPools pools) {
        HostServices services = new HostServices();
        pools.lendTo(services);
        return services;
    }

    /** {@code /actuator/health}: UP when every datasource hands out a valid connection. */
    @Bean
    HealthIndicator datasourcesHealthIndicator(DataPools pools) {
        return () -> {
            Health.Builder health = Health.up();
            pools.pools().forEach((name, pool) -> {
                try (Connection connection = pool.getConnection()) {
                    boolean valid = connection.isValid(1);
                    health.withDetail(name, valid ? "UP" : "DOWN: the connection is not valid");
                    if (!valid) {
                        health.down();
                    }
                } catch (SQLException e) {
                    health.down().withDetail(name, "DOWN: no connection (SQL state " + e.getSQLState() + ")");
                }
            });
            return health.build();
        };
    }
}
