package io.capmesh.access.spring;

import io.capmesh.access.AccessInterceptor;
import io.capmesh.access.AccessPolicy;
import io.capmesh.access.AuditLog;
import io.capmesh.access.BearerToken;
import io.capmesh.access.Revocations;
import io.capmesh.access.Tokens;
import io.capmesh.signing.TrustedKeys;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.server.ServerBuilderCustomizer;

/**
 * Access control for a capmesh service: with {@code capmesh.access.mode=required}, an {@link AccessInterceptor}
 * enforcing the service's {@link AccessPolicy} on the server builder itself (so the typed
 * services a runtime's extensions bring are checked too). The service's {@link Revocations} are always there, for
 * the broker to fill and runtimes to learn.
 */
@AutoConfiguration
@ConditionalOnClass(ServerBuilderCustomizer.class)
@EnableConfigurationProperties(AccessProperties.class)
public class AccessAutoConfiguration {

    /** Refuses to start (or warns, when told it is insecure) an open service that listens beyond loopback. */
    @Bean
    ExposureCheck exposureCheck(AccessProperties properties, org.springframework.core.env.Environment environment) {
        ExposureCheck check = new ExposureCheck(properties.mode(), properties.insecure(),
                environment.getProperty("spring.grpc.server.address"));
        check.verify();
        return check;
    }

    @Bean
    Revocations revocations() {
        return new Revocations();
    }

    /** This service's credentials for its own outgoing calls, when it has a token rather than a certificate. */
    @Bean
    OutgoingCredentials outgoingCredentials(AccessProperties properties) {
        String file = properties.tokenFile();
        return new OutgoingCredentials(file == null || file.isBlank() ? Optional.empty()
                : Optional.of(BearerToken.fromFile(Path.of(file))));
    }

    @Bean
    @ConditionalOnProperty(name = "capmesh.access.mode", havingValue = "required")
    ServerBuilderCustomizer<?> accessServerCustomizer(AccessProperties properties, ObjectProvider<AccessPolicy> policy,
                                                      Revocations revocations, ObjectProvider<Clock> clock) {
        Clock now = clock.getIfAvailable(Clock::systemUTC);
        AccessPolicy methods = policy.getIfAvailable(() -> {
            throw new IllegalStateException("capmesh.access.mode=required, but this service declares no AccessPolicy"
                    + " saying what its methods need");
        });
        AccessInterceptor interceptor = new AccessInterceptor(methods, properties.grants(),
                tokens("token-issuers", properties.tokenIssuers(), now),
                tokens("lease-issuers", properties.leaseIssuers(), now),
                revocations, properties.methodRoles(), new AuditLog(), now);
        return new AccessServerCustomizer(interceptor);
    }

    private static Tokens tokens(String property, List<String> keys, Clock clock) {
        try {
            return new Tokens(TrustedKeys.read(keys), clock);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("capmesh.access." + property + ": " + e.getMessage(), e);
        }
    }

    /** @param credentials the bearer token to send, if this service has one */
    public record OutgoingCredentials(Optional<CallCredentials> credentials) {

        /** The channel's own credentials (TLS or plaintext), with the bearer token on every call when there is one. */
        public ChannelCredentials over(ChannelCredentials channel) {
            return credentials.map(token -> CompositeChannelCredentials.create(channel, token)).orElse(channel);
        }
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private record AccessServerCustomizer(ServerInterceptor access) implements ServerBuilderCustomizer {
        @Override
        public void customize(ServerBuilder builder) {
            builder.intercept(access);
        }
    }
}
