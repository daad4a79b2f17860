package io.capmesh.telemetry;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The tracing of one process: an OpenTelemetry SDK whose spans carry the process's {@code service.name}, W3C trace
 * context on every gRPC hop (through the interceptors below) and batch export to where {@link TracingSettings}
 * says. When tracing is off every part is a no-op, so callers never check.
 */
public final class Tracing implements AutoCloseable {

    public static final String INSTRUMENTATION = "io.capmesh";

    private final OpenTelemetry openTelemetry;
    private final SdkTracerProvider provider;
    private final GrpcTelemetry grpc;

    private Tracing(OpenTelemetry openTelemetry, SdkTracerProvider provider) {
        this.openTelemetry = openTelemetry;
        this.provider = provider;
        this.grpc = GrpcTelemetry.create(openTelemetry);
    }

    /** Tracing that records nothing and passes no context on. */
    public static Tracing off() {
        return new Tracing(OpenTelemetry.noop(), null);
    }

    /** Tracing as the settings say; off when they name nowhere to export to. */
    public static Tracing start(TracingSettings settings) {
        if (!settings.enabled()) {
            return off();
        }
        SdkTracerProviderBuilder provider = SdkTracerProvider.builder()
                .setSampler(new RoutineCallsUntraced())
                .setResource(Resource.getDefault().merge(Resource.create(
                        Attributes.of(SpanRecord.SERVICE_NAME, settings.serviceName()))));
        if (!settings.otlpEndpoint().isEmpty()) {
            provider.addSpanProcessor(batch(OtlpHttpSpanExporter.builder()
                    .setEndpoint(settings.otlpEndpoint().replaceAll("/+$", "") + "/v1/traces").build(), settings));
        }
        if (settings.spanDir() != null) {
            try {
                provider.addSpanProcessor(batch(SpanFileExporter.open(settings.spanDir(), settings.serviceName()),
                        settings));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write spans to " + settings.spanDir(), e);
            }
        }
        SdkTracerProvider tracerProvider = provider.build();
        return new Tracing(OpenTelemetrySdk.builder()
                .setTracerProvider(tracerProvider)
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build(), tracerProvider);
    }

    private static BatchSpanProcessor batch(SpanExporter exporter, TracingSettings settings) {
        return BatchSpanProcessor.builder(exporter).setScheduleDelay(settings.exportDelay()).build();
    }

    /**
     * Health checks, registrations, heartbeats and lease renewals start no trace of their own: they come every
     * few seconds and would bury the calls worth looking at. Within a trace they are kept like everything else.
     */
    static final class RoutineCallsUntraced implements Sampler {

        private static final Sampler TRACED = Sampler.parentBased(Sampler.alwaysOn());

        @Override
        public SamplingResult shouldSample(Context parent, String traceId, String name, SpanKind kind,
                                           Attributes attributes, List<LinkData> links) {
            if (!Span.fromContext(parent).getSpanContext().isValid() && routine(name)) {
                return SamplingResult.drop();
            }
            return TRACED.shouldSample(parent, traceId, name, kind, attributes, links);
        }

        static boolean routine(String name) {
            return name.startsWith("grpc.health.v1.") || name.startsWith("grpc.reflection.")
                    || name.equals("capmesh.v1.CapabilityBroker/Register")
                    || name.equals("capmesh.v1.CapabilityBroker/Heartbeat")
                    || name.equals("capmesh.v1.CapabilityBroker/Deregister")
                    || name.equals("capmesh.v1.CapabilityBroker/Renew");
        }

        @Override
        public String getDescription() {
            return "RoutineCallsUntraced/" + TRACED.getDescription();
        }
    }

    public boolean enabled() {
        return provider != null;
    }

    public OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    /** The tracer for capmesh's own spans (acquire, extension load, swap and unload, compositions). */
    public Tracer tracer() {
        return openTelemetry.getTracer(INSTRUMENTATION);
    }

    /** Continues the caller's trace in a server span per call. */
    public ServerInterceptor serverInterceptor() {
        return grpc.createServerInterceptor();
    }

    /** Makes a client span per call and passes the trace on to the server. */
    public ClientInterceptor clientInterceptor() {
        return grpc.createClientInterceptor();
    }

    /** Exports every finished span now. */
    public void flush() {
        if (provider != null) {
            provider.forceFlush().join(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        if (provider != null) {
            provider.shutdown().join(10, TimeUnit.SECONDS);
        }
    }
}
