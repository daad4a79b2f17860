package io.capmesh.telemetry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Where a process sends its spans. Tracing is on when the spans have somewhere to go: an OTLP collector, a span
 * directory (what a local mesh uses, read back by {@code capmesh trace}), or both.
 *
 * @param serviceName  the {@code service.name} every span of this process carries
 * @param otlpEndpoint an OTLP/HTTP collector, e.g. {@code http://otel-collector:4318}; empty: none
 * @param spanDir      a directory to append this process's finished spans to, as JSON lines; null: none
 * @param exportDelay  how long finished spans may wait to be exported in a batch
 */
public record TracingSettings(String serviceName, String otlpEndpoint, Path spanDir, Duration exportDelay) {

    /** The OpenTelemetry SDK's own switch, honoured as in every SDK. */
    public static final String DISABLED = "OTEL_SDK_DISABLED";
    public static final String OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public static final String SPAN_DIR = "CAPMESH_TRACING_SPAN_DIR";

    public TracingSettings {
        otlpEndpoint = otlpEndpoint == null ? "" : otlpEndpoint.strip();
        exportDelay = exportDelay == null ? Duration.ofMillis(500) : exportDelay;
    }

    /** Settings from the standard variables ({@value OTLP_ENDPOINT}, {@value DISABLED}) and {@value SPAN_DIR}. */
    public static TracingSettings fromEnvironment(String serviceName) {
        return from(serviceName, System.getenv());
    }

    static TracingSettings from(String serviceName, Map<String, String> environment) {
        if (Boolean.parseBoolean(environment.getOrDefault(DISABLED, "false"))) {
            return new TracingSettings(serviceName, "", null, null);
        }
        Path spanDir = Optional.ofNullable(environment.get(SPAN_DIR)).filter(s -> !s.isBlank()).map(Path::of)
                .orElse(null);
        return new TracingSettings(serviceName, environment.getOrDefault(OTLP_ENDPOINT, ""), spanDir, null);
    }

    public boolean enabled() {
        return !otlpEndpoint.isEmpty() || spanDir != null;
    }
}
