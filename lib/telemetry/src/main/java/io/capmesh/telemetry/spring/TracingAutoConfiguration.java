package io.capmesh.telemetry.spring;

import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.TracingSettings;
import io.grpc.ServerBuilder;
import java.nio.file.Path;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.ServerBuilderCustomizer;

/**
 * Tracing for a capmesh service: a {@link Tracing} for the application and, when it is on, a server interceptor
 * that continues the caller's trace in a span for every call the gRPC server takes.
 *
 * <p>Where spans go is read as the OpenTelemetry SDK reads it, so the standard environment works unchanged:
 * {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or {@code capmesh.tracing.otlp-endpoint}), {@code OTEL_SDK_DISABLED},
 * {@code OTEL_SERVICE_NAME} (default: {@code spring.application.name}), and {@code capmesh.tracing.span-dir}
 * ({@code CAPMESH_TRACING_SPAN_DIR}) for the span files of a local mesh.
 */
@AutoConfiguration
@ConditionalOnClass(ServerBuilderCustomizer.class)
public class TracingAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    Tracing tracing(Environment environment) {
        if (environment.getProperty("otel.sdk.disabled", Boolean.class, false)) {
            return Tracing.off();
        }
        String service = environment.getProperty("otel.service.name",
                environment.getProperty("spring.application.name", "capmesh"));
        String otlp = environment.getProperty("capmesh.tracing.otlp-endpoint",
                environment.getProperty("otel.exporter.otlp.endpoint", ""));
        String spanDir = environment.getProperty("capmesh.tracing.span-dir", "");
        return Tracing.start(new TracingSettings(service, otlp, spanDir.isBlank() ? null : Path.of(spanDir), null));
    }

    /**
     * On the server builder rather than on each service: that way it also sees the calls that no registered
     * service takes, such as the typed services a runtime's extensions bring, which a fallback registry serves.
     */
    @Bean
    ServerBuilderCustomizer<?> tracingServerCustomizer(Tracing tracing) {
        return new TracingServerCustomizer(tracing);
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private record TracingServerCustomizer(Tracing tracing) implements ServerBuilderCustomizer {
        @Override
        public void customize(ServerBuilder builder) {
            // off, the interceptor records nothing, yet it would still cost every call its bookkeeping
            if (tracing.enabled()) {
                builder.intercept(tracing.serverInterceptor());
            }
        }
    }
}
