package io.capmesh.runtime.spring;

import io.capmesh.access.AccessPolicy;
import io.capmesh.access.Requirement;
import io.capmesh.access.Revocations;
import io.capmesh.access.Role;
import io.capmesh.access.spring.AccessAutoConfiguration;
import io.capmesh.runtime.HostServices;
import io.capmesh.runtime.RuntimeHost;
import io.capmesh.runtime.RuntimeListener;
import io.capmesh.runtime.grpc.RuntimeGrpcService;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.spring.TracingAutoConfiguration;
import io.capmesh.tls.spring.OutgoingTls;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.grpc.server.ServerBuilderCustomizer;

/**
 * Makes a Spring Boot application a capmesh runtime: the {@link RuntimeHost} (restored from its store and
 * loaded with the service's bundled extensions before the server accepts calls), its endpoint and extension
 * services on the Boot-managed gRPC server, and the runtime's own pool for every call.
 */
@AutoConfiguration(after = {TracingAutoConfiguration.class, AccessAutoConfiguration.class})
@EnableConfigurationProperties(RuntimeProperties.class)
public class RuntimeHostAutoConfiguration {

    /** What the tier lends its extensions; a tier service declares its own bean to add pools, sessions, keys. */
    @Bean
    @ConditionalOnMissingBean
    HostServices hostServices() {
        return new HostServices();
    }

    @Bean(destroyMethod = "close")
    RuntimeHost runtimeHost(RuntimeProperties properties, HostServices hostServices,
                            ObjectProvider<RuntimeListener> listeners) {
        RuntimeHost host = new RuntimeHost(properties.toSettings(), hostServices);
        listeners.orderedStream().forEach(host.runtime()::addListener);
        return host;
    }

    /** Restores and loads extensions once every bean exists, before the gRPC server starts accepting calls. */
    @Bean
    SmartInitializingSingleton runtimeStart(RuntimeHost host, RuntimeProperties properties) {
        return () -> {
            try {
                packages(host, properties.available()).forEach(host.runtime()::makeAvailable);
                host.start(packages(host, properties.bundled()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the extension packages the service ships", e);
            }
        };
    }

    @Bean
    RuntimeListener runtimeMetrics(MeterRegistry registry) {
        return new RuntimeMetrics(registry);
    }

    @Bean
    RuntimeListener runtimeTracing(Tracing tracing) {
        return new RuntimeTracing(tracing);
    }

    @Bean
    RuntimeGrpcService runtimeEndpoint(RuntimeHost host) {
        return host.endpoint();
    }

    @Bean
    ServerBuilderCustomizer<?> runtimeServerCustomizer(RuntimeHost host) {
        return new RuntimeServerCustomizer(host);
    }

    @Bean
    @ConditionalOnExpression("!'${capmesh.runtime.broker.address:}'.isBlank()")
    BrokerRegistrar brokerRegistrar(RuntimeHost host, RuntimeProperties properties, Environment environment,
                                    SslBundles sslBundles, AccessAutoConfiguration.OutgoingCredentials outgoing,
                                    Revocations revocations) {
        return new BrokerRegistrar(host, properties, environment.getProperty("spring.application.name", "runtime"),
                outgoing.over(OutgoingTls.credentials(environment, sslBundles)), revocations);
    }

    /**
     * Where access control is required: loading code needs the deploy role, every call into an extension (through
     * Invoke or its typed services) a lease covering it, and reading what is loaded any principal.
     */
    @Bean
    AccessPolicy runtimeAccessPolicy() {
        return method -> switch (method) {
            case "capmesh.v1.RuntimeService/Deploy", "capmesh.v1.RuntimeService/Swap",
                 "capmesh.v1.RuntimeService/Unload", "capmesh.v1.RuntimeService/Load",
                 "capmesh.v1.RuntimeService/ReleaseQuarantine" -> Requirement.role(Role.DEPLOY);
            case "capmesh.v1.RuntimeService/ListExtensions", "capmesh.v1.RuntimeService/Describe" ->
                    Requirement.AUTHENTICATED;
            default -> Requirement.LEASE;
        };
    }

    private static List<ExtensionPackage> packages(RuntimeHost host, String location) throws IOException {
        List<ExtensionPackage> packages = new ArrayList<>();
        for (Resource jar : new PathMatchingResourcePatternResolver().getResources(location)) {
            try (InputStream in = jar.getInputStream()) {
                packages.add(host.bundled(jar.getFilename(), in));
            }
        }
        return packages;
    }

    /** Gives whichever server builder Boot made the runtime's threads, limits and extension services. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private record RuntimeServerCustomizer(RuntimeHost host) implements ServerBuilderCustomizer {
        @Override
        public void customize(io.grpc.ServerBuilder builder) {
            host.configure(builder);
        }
    }
}
