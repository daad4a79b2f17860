package io.capmesh.broker;

import io.capmesh.access.AccessPolicy;
import io.capmesh.access.Requirement;
import io.capmesh.access.Role;
import io.capmesh.access.spring.AccessAutoConfiguration;
import io.capmesh.broker.acquire.GrpcRuntimeLoader;
import io.capmesh.broker.acquire.Negotiator;
import io.capmesh.broker.lease.JdbcLeaseStore;
import io.capmesh.broker.lease.LeaseStore;
import io.capmesh.broker.registry.HealthProber;
import io.capmesh.broker.registry.RuntimeChannels;
import io.capmesh.telemetry.Tracing;
import io.capmesh.broker.registry.RuntimeRegistry;
import io.capmesh.broker.registry.RuntimeStore;
import io.capmesh.broker.registry.WatchHub;
import io.capmesh.broker.store.Database;
import io.capmesh.tls.spring.OutgoingTls;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** The broker's parts, wired: registry, lease store, negotiator, watch hub, and the sweepers that age them. */
@Configuration(proxyBeanMethods = false)
class BrokerConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    /** Where leases and the registry live; shared by every broker replica when it is PostgreSQL. */
    @Bean(destroyMethod = "close")
    Database brokerStore(BrokerProperties properties) {
        BrokerProperties.Store store = properties.store();
        return Database.open(store.url(), store.username(), store.password());
    }

    /**
     * The mesh's registry, shared through the store. A replica that cannot read it for longer than a runtime may
     * stay silent refuses to answer from its copy.
     */
    @Bean
    RuntimeRegistry runtimeRegistry(BrokerProperties properties, Database store, Clock clock) {
        return new RuntimeRegistry(new RuntimeStore(store), clock, properties.unhealthyAfter(),
                properties.dropAfter(), properties.unhealthyAfter(), replicaName());
    }

    @Bean
    JdbcLeaseStore leaseStore(Database store, Clock clock) {
        return new JdbcLeaseStore(store, clock);
    }

    @Bean(destroyMethod = "close")
    RuntimeChannels runtimeChannels(RuntimeRegistry registry, Tracing tracing, Environment environment,
                                    SslBundles sslBundles, AccessAutoConfiguration.OutgoingCredentials outgoing) {
        return new RuntimeChannels(registry, tracing.clientInterceptor(),
                outgoing.over(OutgoingTls.credentials(environment, sslBundles)));
    }

    @Bean
    GrpcRuntimeLoader runtimeLoader(RuntimeRegistry registry, RuntimeChannels channels) {
        return new GrpcRuntimeLoader(registry, channels);
    }

    @Bean
    HealthProber healthProber(RuntimeRegistry registry, RuntimeChannels channels, BrokerProperties properties) {
        return new HealthProber(registry, channels, properties.healthProbeInterval());
    }

    @Bean
    WatchHub watchHub(RuntimeRegistry registry, Clock clock) {
        return new WatchHub(registry, clock);
    }

    @Bean
    BrokerGrpcService brokerGrpcService(BrokerProperties properties, RuntimeRegistry registry, LeaseStore leases,
                                        GrpcRuntimeLoader loader, WatchHub watches, Clock clock) {
        Negotiator negotiator = new Negotiator(registry, leases, loader, new Negotiator.Limits(
                properties.maxAcquireTimeout(), properties.maxCapabilities(), properties.leaseTtl()),
                properties.loadBound());
        return new BrokerGrpcService(registry, negotiator, leases, watches, properties.heartbeatInterval(),
                properties.leaseTtl(), properties.leaseIssuer(clock), clock);
    }

    /**
     * Where access control is required: runtimes register with the runtime role, leases are taken by principals
     * granted the account, and anyone authenticated may read the catalog and health.
     */
    @Bean
    AccessPolicy brokerAccessPolicy() {
        return method -> switch (method) {
            case "capmesh.v1.CapabilityBroker/Register", "capmesh.v1.CapabilityBroker/Heartbeat",
                 "capmesh.v1.CapabilityBroker/Deregister" -> Requirement.role(Role.RUNTIME);
            case "capmesh.v1.CapabilityBroker/Acquire", "capmesh.v1.CapabilityBroker/Renew",
                 "capmesh.v1.CapabilityBroker/Release" -> Requirement.role(Role.ACQUIRE);
            default -> Requirement.AUTHENTICATED;
        };
    }

    /**
     * Reads the other replicas' changes to the registry every poll interval, marks silent runtimes unhealthy
     * (checked twice per heartbeat interval), probes the health of the runtimes this replica hears once per
     * interval, and deletes expired leases.
     */
    @Bean(destroyMethod = "shutdownNow")
    ScheduledExecutorService brokerSweepers(BrokerProperties properties, RuntimeRegistry registry,
                                            HealthProber prober, LeaseStore leases, Clock clock) {
        ScheduledExecutorService sweepers = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "capmesh-broker-sweeper");
            thread.setDaemon(true);
            return thread;
        });
        long pollEvery = properties.registryPollInterval().toMillis();
        sweepers.scheduleWithFixedDelay(guarded(registry::refresh), pollEvery, pollEvery, TimeUnit.MILLISECONDS);
        long registryEvery = Math.max(50, properties.heartbeatInterval().toMillis() / 2);
        sweepers.scheduleWithFixedDelay(guarded(registry::sweep), registryEvery, registryEvery, TimeUnit.MILLISECONDS);
        long probeEvery = properties.healthProbeInterval().toMillis();
        if (probeEvery > 0) {
            sweepers.scheduleWithFixedDelay(guarded(prober::probeAll), probeEvery, probeEvery, TimeUnit.MILLISECONDS);
        }
        sweepers.scheduleWithFixedDelay(guarded(() -> leases.expire(clock.instant())), 1, 1, TimeUnit.SECONDS);
        return sweepers;
    }

    /** Names this replica in the registry (which replica heard a runtime): host, process and a random part. */
    private static String replicaName() {
        String host = System.getenv().getOrDefault("HOSTNAME", "").isBlank() ? "broker" : System.getenv("HOSTNAME");
        return host + "/" + ProcessHandle.current().pid() + "/"
                + Integer.toHexString(new java.security.SecureRandom().nextInt(1 << 16));
    }

    /** A sweep that fails (the database is away for a moment) must not stop the next one. */
    private static Runnable guarded(Runnable sweep) {
        return () -> {
            try {
                sweep.run();
            } catch (RuntimeException e) {
                System.getLogger(BrokerConfiguration.class.getName())
                        .log(System.Logger.Level.WARNING, "sweep failed: " + e.getMessage());
            }
        };
    }
}
